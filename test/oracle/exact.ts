/**
 * Exact dyadic arithmetic for the test oracle: a non-negative rational with a
 * power-of-two denominator, m · 2^e with m a BigInt. Everything here is
 * integer arithmetic; nothing calls precis.
 */

export interface Dyadic {
  /** Non-negative integer significand. */
  readonly m: bigint;
  /** Power-of-two exponent: the value is m · 2^e. */
  readonly e: number;
}

export const ZERO: Dyadic = { m: 0n, e: 0 };

/** Number of bits of a non-negative BigInt (0 for 0). */
export function bitLength(m: bigint): number {
  if (m === 0n) return 0;
  if (m < 0x20000000000000n) {
    // Below 2^53 Number(m) is exact; correct Math.log2's rounding near powers of two.
    const n = Number(m);
    let l = Math.floor(Math.log2(n));
    while (2 ** l > n) l--;
    while (2 ** (l + 1) <= n) l++;
    return l + 1;
  }
  return m.toString(2).length;
}

/** Removes trailing zero bits so that equal values have equal representations. */
export function normalize(d: Dyadic): Dyadic {
  if (d.m === 0n) return ZERO;
  let m = d.m;
  let e = d.e;
  while ((m & 0xffffffffn) === 0n) { m >>= 32n; e += 32; }
  while ((m & 1n) === 0n) { m >>= 1n; e += 1; }
  return { m, e };
}

export function dyadic(m: bigint, e: number): Dyadic {
  return normalize({ m, e });
}

/** floor(log2 d) for d > 0. */
export function floorLog2(d: Dyadic): number {
  return d.e + bitLength(d.m) - 1;
}

export function cmp(a: Dyadic, b: Dyadic): number {
  if (a.m === 0n || b.m === 0n) return a.m === b.m ? 0 : a.m === 0n ? -1 : 1;
  const la = floorLog2(a), lb = floorLog2(b);
  if (la !== lb) return la < lb ? -1 : 1;
  const e = Math.min(a.e, b.e);
  const am = a.m << BigInt(a.e - e), bm = b.m << BigInt(b.e - e);
  return am < bm ? -1 : am > bm ? 1 : 0;
}

export function add(a: Dyadic, b: Dyadic): Dyadic {
  const e = Math.min(a.e, b.e);
  return dyadic((a.m << BigInt(a.e - e)) + (b.m << BigInt(b.e - e)), e);
}

/** a - b for a >= b. */
export function sub(a: Dyadic, b: Dyadic): Dyadic {
  const e = Math.min(a.e, b.e);
  const m = (a.m << BigInt(a.e - e)) - (b.m << BigInt(b.e - e));
  if (m < 0n) throw new Error('sub: negative result');
  return dyadic(m, e);
}

export function half(a: Dyadic): Dyadic {
  return a.m === 0n ? ZERO : { m: a.m, e: a.e - 1 };
}

export function mulPow2(a: Dyadic, k: number): Dyadic {
  return a.m === 0n ? ZERO : { m: a.m, e: a.e + k };
}

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
const f32 = new Float32Array(1);
const u32of32 = new Uint32Array(f32.buffer);

/** The exact value of a finite double: sign and magnitude. */
export function ofDouble(x: number): { neg: boolean; mag: Dyadic } {
  if (!Number.isFinite(x)) throw new Error(`ofDouble: ${x} is not finite`);
  f64[0] = x;
  const hi = u32[1], lo = u32[0];
  const neg = hi >>> 31 === 1;
  const biased = (hi >>> 20) & 0x7ff;
  const frac = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  if (biased === 0) return { neg, mag: dyadic(frac, -1074) };
  return { neg, mag: dyadic(frac | (1n << 52n), biased - 1075) };
}

/**
 * The double holding exactly ±d; throws if no double does (the oracle's
 * values must never be approximated).
 */
export function toDouble(neg: boolean, d: Dyadic): number {
  if (d.m === 0n) return neg ? -0 : 0;
  const n = normalize(d);
  if (bitLength(n.m) > 53) throw new Error(`toDouble: ${n.m}·2^${n.e} needs more than 53 bits`);
  const top = n.e + bitLength(n.m) - 1;
  if (top > 1023 || n.e < -1074) throw new Error(`toDouble: ${n.m}·2^${n.e} is outside the double range`);
  // Number(m) is exact (< 2^53); scale in two power-of-two steps that stay normal.
  let v = Number(n.m);
  let e = n.e;
  while (e > 0) { const s = Math.min(e, 1000); v *= 2 ** s; e -= s; }
  while (e < 0) { const s = Math.max(e, -1000); v *= 2 ** s; e -= s; }
  const back = ofDouble(v);
  if (cmp(back.mag, n) !== 0) throw new Error(`toDouble: inexact for ${n.m}·2^${n.e}`);
  return neg ? -v : v;
}

export function f32Bits(x: number): number {
  f32[0] = x;
  return u32of32[0];
}

export function f32FromBits(b: number): number {
  u32of32[0] = b >>> 0;
  return f32[0];
}

/** True when x (a double) is exactly a float32 value (NaN and ±Inf included). */
export function isF32(x: number): boolean {
  return Number.isNaN(x) || Math.fround(x) === x;
}

/** The float32 values just below and just above the finite float32 value x (the next toward -Inf and +Inf). */
export function f32Neighbours(x: number): [number, number] {
  if (x === 0) return [-f32FromBits(1), f32FromBits(1)];
  const b = f32Bits(x);
  const away = f32FromBits(b + 1), toward = f32FromBits(b - 1);
  return x > 0 ? [toward, away] : [away, toward];
}

/** The largest float32 <= x and the smallest float32 >= x (x a finite double). */
export function f32Bracket(x: number): [number, number] {
  const r = Math.fround(x);
  if (r === x) return [x, x];
  const [below, above] = f32Neighbours(r);
  return r < x ? [r, above] : [below, r];
}

/** Object.is, spelled out for test messages: NaN equals NaN, -0 differs from +0. */
export function same(a: number, b: number): boolean {
  return Object.is(a, b);
}

export function hex(b: number, bits = 32): string {
  return `0x${(b >>> 0).toString(16).padStart(Math.ceil(bits / 4), '0')}`;
}

/** Describes a double exactly: value, and its float32 bits when it is one. */
export function describe(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (Object.is(x, -0)) return '-0';
  return isF32(x) ? `${x} (f32 ${hex(f32Bits(x))})` : `${x}`;
}
