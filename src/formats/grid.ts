/**
 * The value grid: what every float and fixed-point format (and every MX or
 * bfp element, once its block scale is known) lowers to. A grid has steps of
 * 2^max(e - M, tmin) around a value of binade e, a largest magnitude on each
 * side, and a few flags. `roundToGrid` is the exact reference rounding all
 * backends must match bit for bit; it works in float64, where every step
 * below is exact for float32 and float64 inputs.
 */
import { exponentOf, pow2 } from './bits.js';

/** Rounding modes, in the order the C kernels number them. */
export const ROUNDINGS = ['nearest', 'nearest-away', 'zero', 'down', 'up', 'stochastic'] as const;
export type Rounding = (typeof ROUNDINGS)[number];

export const enum Mode { Nearest = 0, NearestAway = 1, Zero = 2, Down = 3, Up = 4, Stochastic = 5 }

/** Grid flags (shared with kernels/quantize.h). */
export const GRID_INF = 1;
export const GRID_NAN = 2;
export const GRID_SIGNED_ZERO = 4;
export const GRID_WRAP = 8;
export const GRID_UNSIGNED = 16;
/** Float grids with M = 0: a code's parity is its exponent field's, (step exponent + parityOffset) & 1. */
export const GRID_EXP_PARITY = 32;
/** Formats without subnormals: results below minNormal always flush, whatever the rounding options say. */
export const GRID_FLUSH = 64;

/** Mantissa bits that mean "no binades": a fixed-point grid with one step everywhere. */
export const FIXED_POINT_M = 255;

export interface GridParams {
  /** Significand bits after the leading one (FIXED_POINT_M for fixed point). */
  readonly mantissaBits: number;
  /** Exponent of the finest step, 2^tmin. */
  readonly tmin: number;
  /** Largest finite positive value. */
  readonly maxPos: number;
  /** Magnitude of the most negative finite value (0 when unsigned). */
  readonly maxNeg: number;
  /** Smallest normal magnitude; results below it flush when subnormals are flushed (0: never). */
  readonly minNormal: number;
  readonly flags: number;
  /** For wrapping fixed point: the width and fraction bits of the word. */
  readonly wrapWidth: number;
  readonly wrapFraction: number;
  /** See GRID_EXP_PARITY. */
  readonly parityOffset: number;
}

/** How to round: shared by every family. */
export interface RoundingParams {
  readonly mode: Mode;
  readonly saturate: boolean;
  readonly flush: boolean;
  /** Random bits compared against the dropped fraction (1..24). */
  readonly randomBits: number;
}

/** What happened to one value, for the quantize counters. */
export const EVENT_NONE = 0;
export const EVENT_OVERFLOW = 1;
export const EVENT_FLUSH = 2;
export const EVENT_NAN = 3;

/** The event of the latest roundToGrid call (a register, to keep the hot loop allocation-free). */
export let lastEvent = EVENT_NONE;

/**
 * Decides whether a magnitude whose dropped fraction is `frac` (in [0, 1), in
 * units of the step) moves up to the next step. `oddLow` says the lower
 * neighbour's encoding is odd; `rnd` is the element's 32-bit random word.
 */
export function roundsUp(mode: Mode, neg: boolean, frac: number, oddLow: boolean, rnd: number, randomBits: number): boolean {
  switch (mode) {
    case Mode.Nearest: return frac > 0.5 || (frac === 0.5 && oddLow);
    case Mode.NearestAway: return frac >= 0.5;
    case Mode.Zero: return false;
    case Mode.Down: return neg && frac > 0;
    case Mode.Up: return !neg && frac > 0;
    case Mode.Stochastic:
      // The fraction truncated to R bits, against R uniform bits: P(up) = floor(frac·2^R)/2^R.
      return Math.floor(frac * pow2(randomBits)) > rnd >>> (32 - randomBits);
  }
}

/** True when the rounding direction for this sign is toward zero (IEEE 754: such modes never overflow to Inf). */
export function towardZero(mode: Mode, neg: boolean): boolean {
  return mode === Mode.Zero || (mode === Mode.Down && !neg) || (mode === Mode.Up && neg);
}

function signed(neg: boolean, v: number, g: GridParams): number {
  if (v === 0) return neg && (g.flags & GRID_SIGNED_ZERO) !== 0 ? -0 : 0;
  return neg ? -v : v;
}

/** Two's complement (or unsigned) wrap-around of an integer count of steps. */
function wrapSteps(n: number, g: GridParams): number {
  if (!Number.isFinite(n)) return 0; // so large that it is a multiple of 2^W steps
  const span = pow2(g.wrapWidth);
  let w = (n % span) + 0; // exact (fmod); + 0 turns -0 into +0
  if (w < 0) w += span;
  if ((g.flags & GRID_UNSIGNED) === 0 && w >= span / 2) w -= span;
  return w * pow2(-g.wrapFraction);
}

/** Rounds x onto the grid; sets lastEvent. */
export function roundToGrid(x: number, g: GridParams, r: RoundingParams, rnd: number): number {
  lastEvent = EVENT_NONE;
  if (x !== x) {
    lastEvent = EVENT_NAN;
    return (g.flags & GRID_NAN) !== 0 ? NaN : 0;
  }
  const neg = x < 0 || (x === 0 && 1 / x < 0);
  const a = Math.abs(x);
  if (a === 0) return signed(neg, 0, g);
  const max = neg ? g.maxNeg : g.maxPos;
  let q: number;
  if (a === Infinity) {
    if ((g.flags & GRID_INF) !== 0) return x;
    q = Infinity;
  } else {
    const t = Math.max(exponentOf(a) - g.mantissaBits, g.tmin);
    const s = a * pow2(-t);
    const lo = Math.floor(s);
    // A float64 subnormal far below the step can underflow to 0 here: its fraction is tiny but not zero.
    const frac = s === 0 ? Number.MIN_VALUE : s - lo;
    // Ties go to the even encoding: the step count's parity, or for M = 0 the exponent field's.
    const oddLow = lo % 2 === 1 && ((g.flags & GRID_EXP_PARITY) === 0 || ((t + g.parityOffset) & 1) === 1);
    const up = roundsUp(r.mode, neg, frac, oddLow, rnd, r.randomBits);
    const steps = up ? lo + 1 : lo;
    if (steps * pow2(t) > max && (g.flags & GRID_WRAP) !== 0 && !r.saturate) {
      lastEvent = EVENT_OVERFLOW;
      return wrapSteps(neg ? -steps : steps, g); // fixed point: t = -wrapFraction
    }
    q = steps * pow2(t);
  }
  if (q > max) {
    lastEvent = EVENT_OVERFLOW;
    const hasSpecial = (g.flags & (GRID_INF | GRID_NAN)) !== 0;
    if (r.saturate || !hasSpecial || (a !== Infinity && towardZero(r.mode, neg))) return signed(neg, max, g);
    return (g.flags & GRID_INF) !== 0 ? (neg ? -Infinity : Infinity) : NaN;
  }
  if (q === 0 || ((r.flush || (g.flags & GRID_FLUSH) !== 0) && q < g.minNormal)) {
    lastEvent = EVENT_FLUSH;
    return signed(neg, 0, g);
  }
  return neg ? -q : q;
}
