/** Exact helpers on the bits of IEEE binary32 and binary64 numbers. */

const f64 = new Float64Array(1);
const u32of64 = new Uint32Array(f64.buffer);
const f32 = new Float32Array(1);
const u32of32 = new Uint32Array(f32.buffer);

/** 2^k, exact for every integer k in [-1074, 1023]. */
export function pow2(k: number): number {
  if (k >= -1022) {
    if (k > 1023) return Infinity;
    u32of64[0] = 0;
    u32of64[1] = (k + 1023) << 20;
    return f64[0];
  }
  if (k < -1074) return 0;
  return pow2(k + 64) * 5.421010862427522e-20; // 2^-64, exact product
}

/** floor(log2(a)) for a finite positive double, exact (subnormals included). */
export function exponentOf(a: number): number {
  f64[0] = a;
  const biased = (u32of64[1] >>> 20) & 0x7ff;
  if (biased !== 0) return biased - 1023;
  f64[0] = a * 18446744073709551616; // 2^64 lifts a subnormal into the normal range
  return ((u32of64[1] >>> 20) & 0x7ff) - 1023 - 64;
}

export function f32ToBits(x: number): number {
  f32[0] = x;
  return u32of32[0];
}

export function bitsToF32(b: number): number {
  u32of32[0] = b >>> 0;
  return f32[0];
}

/** The largest float32 not above v (v finite and positive). */
export function f32Floor(v: number): number {
  const r = Math.fround(v);
  return r > v ? bitsToF32(f32ToBits(r) - 1) : r;
}

/** Shortest round-trip decimal, with the spellings the CLI uses for specials. */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'nan';
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  return String(v);
}

/** Zero-padded 0x-prefixed hex of an unsigned pattern of the given width in bits. */
export function formatBits(bits: number, width: number): string {
  return `0x${(bits >>> 0).toString(16).padStart(Math.ceil(width / 4), '0')}`;
}
