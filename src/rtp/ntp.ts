/**
 * NTP timestamps as RTCP carries them (RFC 3550 §4): 32-bit seconds since 1900-01-01 and a 32-bit
 * binary fraction of a second. Times in milliseconds are plain numbers (exact to well below 1 µs).
 */

/** Milliseconds from the NTP epoch (1900-01-01) to the Unix epoch (1970-01-01). */
export const NTP_UNIX_OFFSET_MS = 2_208_988_800_000;

const MS_PER_SECOND = 1000;
const FRACTION_RANGE = 0x1_0000_0000;
const MIDDLE_SHIFT = 16;

/** An NTP timestamp split into its two 32-bit words. */
export interface NtpTime {
  /** Seconds since 1900-01-01, modulo 2^32 (era 1 starts in 2036). */
  seconds: number;
  /** Fraction of a second in units of 2^-32 s. */
  fraction: number;
}

/** Milliseconds since the NTP epoch for a Unix time in milliseconds (`Date.now()`). */
export function ntpMsFromUnixMs(unixMs: number): number {
  return unixMs + NTP_UNIX_OFFSET_MS;
}

/** Splits `ntpMs` (milliseconds since 1900-01-01, fractions allowed) into the two wire words. */
export function ntpFromMs(ntpMs: number): NtpTime {
  const totalSeconds = Math.floor(ntpMs / MS_PER_SECOND);
  const rest = ntpMs - totalSeconds * MS_PER_SECOND;
  const fraction = Math.min(FRACTION_RANGE - 1, Math.floor((rest / MS_PER_SECOND) * FRACTION_RANGE));
  return { seconds: totalSeconds >>> 0, fraction };
}

/** Milliseconds since 1900-01-01 for the wire words (era 0; a value before 2036). */
export function ntpToMs(seconds: number, fraction: number): number {
  return seconds * MS_PER_SECOND + (fraction / FRACTION_RANGE) * MS_PER_SECOND;
}

/** The middle 32 bits of an NTP timestamp: the LSR value a report block echoes (RFC 3550 §6.4.1). */
export function ntpMiddle32(seconds: number, fraction: number): number {
  return (((seconds & 0xffff) << MIDDLE_SHIFT) | (fraction >>> MIDDLE_SHIFT)) >>> 0;
}
