/**
 * The band-limited interpolation kernel of the resampler (J. O. Smith, "Digital Audio Resampling",
 * the method of libresample and sox's `rate`): a Kaiser-windowed sinc tabulated once at module
 * load over its right half, read with linear interpolation between table entries.
 */

/** Half-width of the kernel in zero crossings of the sinc (at the cutoff frequency). */
export const KERNEL_ZERO_CROSSINGS = 10;
/** Table entries per zero crossing. 512 keeps the interpolation error below -90 dB. */
export const KERNEL_PHASES = 512;
/** Kaiser window shape: about 80 dB of stop-band attenuation. */
const KAISER_BETA = 8;
/** Cutoff as a fraction of the lower Nyquist frequency, leaving room for the transition band. */
export const KERNEL_ROLLOFF = 0.9;

/** Zeroth-order modified Bessel function of the first kind (power series). */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 50; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-12) break;
  }
  return sum;
}

function buildKernel(): Float64Array {
  const length = KERNEL_ZERO_CROSSINGS * KERNEL_PHASES;
  // One trailing zero so that `table[i + 1]` is always readable during interpolation.
  const table = new Float64Array(length + 2);
  const i0Beta = besselI0(KAISER_BETA);
  for (let i = 0; i <= length; i++) {
    const t = i / KERNEL_PHASES;
    const sinc = i === 0 ? 1 : Math.sin(Math.PI * t) / (Math.PI * t);
    const r = i / length;
    table[i] = (sinc * besselI0(KAISER_BETA * Math.sqrt(Math.max(0, 1 - r * r)))) / i0Beta;
  }
  return table;
}

/** `KERNEL[i]` = windowed sinc at `i / KERNEL_PHASES` zero crossings; zero from the last entry on. */
export const KERNEL = buildKernel();
const KERNEL_END = KERNEL_ZERO_CROSSINGS * KERNEL_PHASES;

/** The kernel at `t` zero crossings (any sign), linearly interpolated; 0 at and beyond the edge. */
export function kernelAt(t: number): number {
  const u = Math.abs(t) * KERNEL_PHASES;
  if (u >= KERNEL_END) return 0;
  const i = Math.floor(u);
  const f = u - i;
  return KERNEL[i] + f * (KERNEL[i + 1] - KERNEL[i]);
}
