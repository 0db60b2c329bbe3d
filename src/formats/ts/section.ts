/**
 * Reassembly of PSI sections from the packet payloads of one PID (ISO/IEC 13818-1 2.4.4.1-2): a
 * packet with payload_unit_start_indicator begins with pointer_field, the number of bytes that
 * still belong to the previous section; several sections may follow each other, and 0xFF bytes
 * after the last one are stuffing.
 */
import { ParseError } from '../../core/errors.ts';
import { MAX_SECTION_LENGTH, SECTION_HEADER_SIZE } from './psi.ts';

const WHAT = 'PSI';
const POINTER_FIELD_SIZE = 1;
const STUFFING = 0xff;
const SECTION_LENGTH_MASK = 0x0fff;

/** Collects the sections of one PID. Sections are copies, never views of packets. */
export class SectionAssembler {
  private buf: Buffer | undefined;

  /**
   * Adds one packet payload and returns the sections it completes. Throws `ParseError` on a
   * pointer_field past the payload or a section_length over 4093 (the partial data is dropped).
   */
  push(payload: Buffer, unitStart: boolean): Buffer[] {
    const done: Buffer[] = [];
    if (unitStart) {
      ParseError.need(WHAT, payload, 0, POINTER_FIELD_SIZE, 'pointer_field');
      const pointer = payload[0];
      if (pointer > payload.length - POINTER_FIELD_SIZE) {
        this.buf = undefined;
        throw new ParseError(WHAT, `pointer_field ${pointer} exceeds payload of ${payload.length}`);
      }
      if (this.buf) {
        this.buf = Buffer.concat([
          this.buf,
          payload.subarray(POINTER_FIELD_SIZE, POINTER_FIELD_SIZE + pointer),
        ]);
        this.extract(done);
      }
      this.buf = Buffer.from(payload.subarray(POINTER_FIELD_SIZE + pointer));
    } else if (this.buf) {
      this.buf = Buffer.concat([this.buf, payload]);
    }
    this.extract(done);
    return done;
  }

  /** Drops a partial section (after a continuity error). */
  reset(): void {
    this.buf = undefined;
  }

  private extract(done: Buffer[]): void {
    while (this.buf && this.buf.length > 0) {
      if (this.buf[0] === STUFFING) {
        this.buf = undefined; // the rest of the packet is stuffing
        return;
      }
      if (this.buf.length < SECTION_HEADER_SIZE) return;
      const length = this.buf.readUInt16BE(1) & SECTION_LENGTH_MASK;
      if (length > MAX_SECTION_LENGTH) {
        this.buf = undefined;
        throw new ParseError(WHAT, `section_length ${length} exceeds ${MAX_SECTION_LENGTH}`);
      }
      const total = SECTION_HEADER_SIZE + length;
      if (this.buf.length < total) return;
      done.push(this.buf.subarray(0, total));
      this.buf = this.buf.subarray(total);
    }
  }
}
