/**
 * Rounding a running sum exactly once. A Rounder rounds an exact double into
 * one scalar format (`round`) and rounds acc + p from its *exact* value
 * (`add`), although acc + p in float64 may be inexact when the exponents are
 * far apart.
 *
 * Floats and posits: the float64 sum made round-to-odd (TwoSum, then one ulp
 * toward the error when the sum is inexact and its last bit even) keeps every
 * bit of the exact sum above its last one and stays in the exact sum's
 * binade (powers of two are even), so rounding it to p ≤ 51 bits decides
 * nearest, directed and R-bit stochastic rounding exactly as the exact sum
 * would whenever p + R ≤ 52 (Boldo & Melquiond's round-to-odd; the parser
 * enforces the bound for posits; floats have p ≤ 24).
 * Fixed point: the grid step is absolute, so a 32-bit word plus a far
 * smaller product can need more than 53 bits; the sum is split exactly into
 * an integer count of steps and a fraction instead.
 */
import { pow2 } from '../formats/bits.js';
import type { FixedFormat } from '../formats/fixed.js';
import type { FloatFormat } from '../formats/float.js';
import {
  EVENT_FLUSH, EVENT_NONE, EVENT_OVERFLOW, GRID_UNSIGNED, GRID_WRAP, Mode, lastEvent, roundToGrid, roundsUp,
  type GridParams, type RoundingParams,
} from '../formats/grid.js';
import type { PositFormat } from '../formats/posit.js';

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer); // little-endian: u32[0] holds the low bits of the significand

/**
 * a + b (finite doubles) rounded to odd in float64: exact when the sum is, else
 * the neighbour with an odd last bit. Non-finite sums pass through. An exact
 * zero has IEEE 754's sign: -0 only for -0 + -0, or in rounding mode down
 * unless both are +0 (§6.3).
 */
export function addToOdd(a: number, b: number, mode: Mode): number {
  const s = a + b;
  if (s === 0) return mode === Mode.Down && !(Object.is(a, 0) && Object.is(b, 0)) ? -0 : s;
  const bb = s - a;
  const e = a - (s - bb) + (b - bb); // TwoSum: s + e = a + b exactly (NaN when s is not finite)
  if (!(e < 0 || e > 0)) return s;
  f64[0] = s;
  const lo = u32[0];
  if ((lo & 1) === 1) return s;
  if (e > 0 === s > 0) u32[0] = lo + 1; // away from zero; lo is even, so no carry
  else if (lo !== 0) u32[0] = lo - 1;
  else {
    u32[0] = 0xffffffff; // toward zero across a power of two: the largest double of the binade below
    u32[1] -= 1;
  }
  return f64[0];
}

/** Rounds into one accumulator (or product, or output) format. `event` is that of the latest call. */
export interface Rounder {
  /** The canonical name of the format. */
  readonly name: string;
  /** Whether rounding draws random words. */
  readonly stochastic: boolean;
  /** EVENT_NONE, EVENT_OVERFLOW or EVENT_FLUSH (underflow) of the latest round or add. */
  event: number;
  /** x (an exact double) rounded into the format; rnd is the random word for stochastic rounding. */
  round(x: number, rnd: number): number;
  /** acc + p rounded once from its exact value (acc a value of the format, p any double). */
  add(acc: number, p: number, rnd: number): number;
}

/** What every rounder shares: its name, rounding and latest event; by default a sum is rounded from its round-to-odd double. */
abstract class BaseRounder implements Rounder {
  event = EVENT_NONE;
  constructor(readonly name: string, protected readonly r: RoundingParams) {}
  get stochastic(): boolean {
    return this.r.mode === Mode.Stochastic;
  }
  abstract round(x: number, rnd: number): number;
  add(acc: number, p: number, rnd: number): number {
    return this.round(addToOdd(acc, p, this.r.mode), rnd);
  }
}

/** Floats: the project's grid rounding of the round-to-odd sum. */
export class FloatRounder extends BaseRounder {
  constructor(format: FloatFormat, r: RoundingParams) {
    super(format.name, r);
    this.grid = format.grid;
  }
  private readonly grid: GridParams;

  round(x: number, rnd: number): number {
    const v = roundToGrid(x, this.grid, this.r, rnd);
    this.event = lastEvent;
    return v;
  }
}

/**
 * Posits: the project's bit-string rounding of the round-to-odd sum. Events:
 * overflow for magnitudes above maxpos (they saturate), underflow for nonzero
 * magnitudes below minpos (they become ±minpos: posits never round to 0).
 */
export class PositRounder extends BaseRounder {
  constructor(private readonly format: PositFormat, r: RoundingParams) {
    super(format.name, r);
  }

  round(x: number, rnd: number): number {
    const a = Math.abs(x);
    this.event = a > this.format.maxFinite && a !== Infinity ? EVENT_OVERFLOW : a > 0 && a < this.format.minPositive ? EVENT_FLUSH : EVENT_NONE;
    return this.format.decode(this.format.encodeWith(x, this.r, rnd));
  }
}

/**
 * Fixed point: W-bit two's complement (or unsigned) words of step 2^-F,
 * saturating or wrapping. A sum is rounded by the sign of its exact value,
 * then saturated or wrapped modulo 2^W steps.
 */
export class FixedRounder extends BaseRounder {
  private readonly grid: GridParams;
  private readonly F: number;
  private readonly span: number;

  constructor(format: FixedFormat, r: RoundingParams, wrap: boolean) {
    super(format.name, r);
    const g = format.grid; // the exact grid: values live in float64 here
    this.grid = { ...g, flags: wrap ? g.flags | GRID_WRAP : g.flags & ~GRID_WRAP };
    this.F = format.spec.fraction;
    this.span = pow2(format.spec.width);
  }

  round(x: number, rnd: number): number {
    const v = roundToGrid(x, this.grid, this.r, rnd);
    this.event = lastEvent;
    return v;
  }

  /** The value of a count of steps: rounded onto the grid (no rounding happens: only range and wrap). */
  private ofSteps(steps: number): number {
    return this.round(steps * pow2(-this.F), 0);
  }

  override add(acc: number, p: number, rnd: number): number {
    const t = p * pow2(this.F); // exact: a power-of-two scaling that stays in float64's normal range for float32 products
    if (!Number.isFinite(t)) return this.round(acc + p, rnd);
    const n = acc * pow2(this.F); // an integer, |n| <= 2^32
    if (Math.abs(t) >= 2 ** 52) {
      // t is an even integer and the sum is far beyond any W <= 32 word: it overflows. Its value modulo 2^W
      // is that of n + (t mod 2^W), which is exact.
      if ((this.grid.flags & GRID_WRAP) === 0 || this.r.saturate) {
        const v = this.ofSteps(t > 0 ? 2 ** 53 : -(2 ** 53));
        this.event = EVENT_OVERFLOW;
        return v;
      }
      const v = this.wrap(n + (t % this.span));
      this.event = EVENT_OVERFLOW;
      return v;
    }
    const ti = Math.trunc(t);
    const tf = t - ti; // exact: the bits of t below 1, with t's sign
    const I = n + ti; // exact: |I| < 2^52 + 2^32
    if (tf === 0) return this.ofSteps(I);
    // The exact sum I + tf as a sign, a whole number of steps `lo` below its magnitude, and the fraction above lo.
    let neg: boolean, lo: number, frac: number;
    if (I === 0 || I > 0 === tf > 0) {
      neg = tf < 0;
      lo = Math.abs(I);
      frac = Math.abs(tf);
    } else {
      neg = I < 0;
      lo = Math.abs(I) - 1;
      frac = addToOdd(1, -Math.abs(tf), Mode.Nearest); // 1 - |tf| to odd: keeps every decision below (R <= 24 bits)
    }
    const steps = roundsUp(this.r.mode, neg, frac, lo % 2 === 1, rnd, this.r.randomBits) ? lo + 1 : lo;
    if (steps === 0) {
      this.event = EVENT_FLUSH; // a nonzero sum rounded to zero
      return 0;
    }
    return this.ofSteps(neg ? -steps : steps);
  }

  /** A count of steps that overflowed, reduced modulo 2^W into the word's range. */
  private wrap(steps: number): number {
    let w = steps % this.span;
    if (w < 0) w += this.span;
    if ((this.grid.flags & GRID_UNSIGNED) === 0 && w >= this.span / 2) w -= this.span;
    return (w + 0) * pow2(-this.F);
  }
}
