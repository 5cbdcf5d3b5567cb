/** Test inputs built from the oracle's view of a format: tie points, ends, and random float32 values. */
import type { ScalarSpec } from '../../src/formats/spec.js';
import { add, f32Bracket, f32FromBits, f32Neighbours, half, isF32, ofDouble, sub, toDouble } from './exact.js';
import { decodePosit, FloatOracle, oracleToNumber, scalarStats } from './oracle.js';
import type { Rng } from '../support/rng.js';

/** (a + b) / 2, exactly (throws when no double holds it). */
export function exactMid(a: number, b: number): number {
  const A = ofDouble(a), B = ofDouble(b);
  if (A.neg === B.neg) return toDouble(A.neg, half(add(A.mag, B.mag)));
  const aBig = Math.abs(a) >= Math.abs(b);
  const d = aBig ? sub(A.mag, B.mag) : sub(B.mag, A.mag);
  return toDouble(aBig ? A.neg : B.neg, half(d));
}

/**
 * Points where rounding decisions change, for a scalar format: its values,
 * the tie points between neighbours (for posits also the (n+1)-bit posits
 * between neighbours), the overflow threshold and the values beyond the
 * ends, the bottom of the range. Exact doubles, not necessarily float32.
 */
export function decisionPoints(spec: ScalarSpec, withValues = true): number[] {
  const pts: number[] = [];
  let vals: ArrayLike<number>;
  let mids: number[] = [];
  if (spec.family === 'float') {
    const t = new FloatOracle(spec).inner.table; // the grid with subnormals, also for nosub formats
    vals = t.vals;
    mids = [...t.mids, t.midTop, t.midBottom];
  } else {
    vals = scalarStats(spec).values;
    for (let i = 0; i + 1 < vals.length; i++) mids.push(exactMid(vals[i], vals[i + 1]));
  }
  const n = vals.length;
  if (withValues) for (let i = 0; i < n; i++) pts.push(vals[i]);
  pts.push(...mids);
  if (spec.family === 'posit') {
    for (let c = 1; c < 2 ** spec.width; c += 2) {
      const v = oracleToNumber(decodePosit(spec.width + 1, spec.es, c));
      pts.push(v, -v);
    }
  }
  // Beyond the ends: one step past each end, the tie with it, and far away.
  const top = vals[n - 1], bottom = vals[0];
  const stepTop = top - vals[n - 2];
  const stepBottom = vals[1] - bottom;
  for (const [end, step] of [[top, stepTop], [bottom, -stepBottom]] as const) {
    if (end === 0) continue;
    pts.push(end + step, exactMid(end, end + step), end + 2 * step, end * 2, end * 4, end * 1024);
  }
  // Around the bottom of the range.
  let smallest = Infinity;
  for (let i = 0; i < n; i++) if (vals[i] > 0 && vals[i] < smallest) smallest = vals[i];
  for (const s of [smallest / 2, smallest / 4, smallest * 0.75]) pts.push(s, -s);
  return pts;
}

/** Adds the float32 inputs that test a decision point: itself and its float32 neighbours, or its float32 bracket. */
export function f32Around(points: readonly number[]): number[] {
  const out: number[] = [];
  for (const p of points) {
    if (!Number.isFinite(p)) continue;
    if (Math.abs(p) > 3.4028234663852886e38) continue;
    if (isF32(p)) {
      out.push(p);
      if (p !== 0) out.push(...f32Neighbours(p));
    } else {
      const [lo, hi] = f32Bracket(p);
      out.push(lo, hi);
    }
  }
  return out;
}

export const F32_MAX = 3.4028234663852886e38;

/** Special float32 inputs every test includes. */
export const SPECIALS: readonly number[] = [
  0, -0, Infinity, -Infinity, NaN, F32_MAX, -F32_MAX, f32FromBits(1), -f32FromBits(1), 2 ** -126, -(2 ** -126),
  1, -1, 0.5, 3, -3, Math.fround(1e-30), Math.fround(-1e-30), Math.fround(1e30), Math.fround(-1e30),
];

/** Unique float32 inputs (by bits) in a Float32Array. */
export function toF32Array(xs: readonly number[]): Float32Array {
  const seen = new Set<number>();
  const a = new Float32Array(1);
  const b = new Uint32Array(a.buffer);
  const out: number[] = [];
  for (const x of xs) {
    a[0] = x;
    if (!Number.isNaN(x) && a[0] !== x) throw new Error(`${x} is not a float32`);
    if (seen.has(b[0])) continue;
    seen.add(b[0]);
    out.push(x);
  }
  return Float32Array.from(out);
}

/** A random float32 from uniformly random bits (every class: NaN, Inf, subnormals, zeros). */
export function randomF32Bits(rng: Rng): number {
  return f32FromBits(rng.u32());
}

/**
 * A random float32 near a format's range: binade uniform in [lo - slack, hi + slack]
 * (clamped to float32), random sign and 23 random mantissa bits (or fewer, so that
 * ties and exact values are frequent when `shortMantissa` bits are kept).
 */
export function randomF32InRange(rng: Rng, lo: number, hi: number, slack = 3, keepBits = 23): number {
  const e = rng.int(Math.max(-149, lo - slack), Math.min(127, hi + slack));
  const sign = rng.u32() & 1 ? -1 : 1;
  let mant = rng.u32() & 0x7fffff;
  if (keepBits < 23) mant &= ~((1 << (23 - keepBits)) - 1) & 0x7fffff;
  let v: number;
  if (e >= -126) v = (1 + mant / 2 ** 23) * 2 ** e;
  else {
    // float32 subnormal binade 2^e: the mantissa has e + 149 bits.
    const bits = e + 149;
    const frac = bits > 0 ? Math.floor((mant / 2 ** 23) * 2 ** bits) : 0;
    v = (2 ** bits + frac) * 2 ** -149;
  }
  return sign * v;
}

/** floor(log2 |x|) of a nonzero finite double. */
export function binade(x: number): number {
  const { mag } = ofDouble(x);
  return mag.e + mag.m.toString(2).length - 1;
}
