/** An MSB-first bit writer for building small codec headers (AudioSpecificConfig). */
export class BitWriter {
  private readonly bytes: number[] = [];
  private bits = 0;

  /** Appends the low `n` bits of `value` (`0 <= n <= 32`), most significant first. */
  u(n: number, value: number): this {
    for (let i = n - 1; i >= 0; i--) {
      const bit = Math.floor(value / 2 ** i) % 2;
      if ((this.bits & 7) === 0) this.bytes.push(0);
      if (bit) this.bytes[this.bytes.length - 1] |= 0x80 >> (this.bits & 7);
      this.bits++;
    }
    return this;
  }

  /** The bytes written, the last one padded with zero bits. */
  toBuffer(): Buffer {
    return Buffer.from(this.bytes);
  }
}
