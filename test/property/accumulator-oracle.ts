/**
 * A from-first-principles simulation of accumulator models in exact
 * rational (dyadic, BigInt) arithmetic, for the accumulator tests. It calls
 * nothing of precis's arithmetic: values are sign + m·2^e, products and sums
 * are exact, and rounding into a float or fixed format is written out here
 * from the definitions in docs/design.md ("One rounding") — only the spec
 * parser is used, to read E, M, bias, W, F. Random words come from Philox
 * at the documented counter (accumulator.ts).
 */
import { parseSpec, type FixedSpec, type FloatSpec } from '../../src/formats/spec.js';
import type { Rounding } from '../../src/formats/grid.js';
import { PhiloxStream } from '../../src/rng/philox.js';
import { add, bitLength, cmp, dyadic, floorLog2, ofDouble, sub, toDouble, ZERO, type Dyadic } from '../oracle/exact.js';

export type Val =
  | { readonly kind: 'nan' }
  | { readonly kind: 'inf'; readonly neg: boolean }
  | { readonly kind: 'fin'; readonly neg: boolean; readonly mag: Dyadic };

const NAN: Val = { kind: 'nan' };
const fin = (neg: boolean, mag: Dyadic): Val => ({ kind: 'fin', neg, mag });

export function valOf(x: number): Val {
  if (Number.isNaN(x)) return NAN;
  if (!Number.isFinite(x)) return { kind: 'inf', neg: x < 0 };
  const d = ofDouble(x);
  return fin(d.neg, d.mag);
}

/** The double holding v exactly (throws when none does). */
export function numberOf(v: Val): number {
  if (v.kind === 'nan') return NaN;
  if (v.kind === 'inf') return v.neg ? -Infinity : Infinity;
  return toDouble(v.neg, v.mag);
}

export function mulVal(a: Val, b: Val): Val {
  if (a.kind === 'nan' || b.kind === 'nan') return NAN;
  const neg = a.neg !== b.neg;
  if (a.kind === 'inf' || b.kind === 'inf') {
    const other = a.kind === 'inf' ? b : a;
    return other.kind === 'fin' && other.mag.m === 0n ? NAN : { kind: 'inf', neg };
  }
  return fin(neg, a.mag.m === 0n || b.mag.m === 0n ? ZERO : dyadic(a.mag.m * b.mag.m, a.mag.e + b.mag.e));
}

/** a + b exactly; an exact zero is -0 for -0 + -0, and in rounding mode down unless both are +0 (IEEE 754 §6.3). */
export function addVal(a: Val, b: Val, down: boolean): Val {
  if (a.kind === 'nan' || b.kind === 'nan') return NAN;
  if (a.kind === 'inf' || b.kind === 'inf') {
    if (a.kind === 'inf' && b.kind === 'inf' && a.neg !== b.neg) return NAN;
    return a.kind === 'inf' ? a : b;
  }
  if (a.neg === b.neg) {
    const mag = add(a.mag, b.mag);
    return fin(mag.m === 0n ? (down ? a.neg || b.neg : a.neg) : a.neg, mag);
  }
  const c = cmp(a.mag, b.mag);
  if (c === 0) return fin(down, ZERO);
  return c > 0 ? fin(a.neg, sub(a.mag, b.mag)) : fin(b.neg, sub(b.mag, a.mag));
}

export interface OracleRoundOptions {
  readonly rounding: Rounding;
  readonly saturate: boolean;
  readonly flush: boolean;
  readonly randomBits: number;
}

export type Event = 'none' | 'overflow' | 'underflow';

/** A float or fixed format as the oracle sees it. */
export type OracleFormat =
  | { readonly kind: 'float'; readonly spec: FloatSpec; readonly max: Dyadic; readonly minNormal: Dyadic }
  | { readonly kind: 'fixed'; readonly spec: FixedSpec; readonly wrap: boolean };

export function oracleFormat(text: string, wrap = false): OracleFormat {
  const s = parseSpec(text);
  if (s.family === 'fixed') return { kind: 'fixed', spec: s, wrap: wrap || s.wrap };
  if (s.family !== 'float' || s.mantissaBits === 0) throw new Error(`the accumulator oracle rounds floats with M >= 1 and fixed point, not ${text}`);
  const E = s.exponentBits, M = s.mantissaBits;
  const topExp = s.flavour === 'ieee' ? 2 ** E - 2 : 2 ** E - 1;
  const topMan = s.flavour === 'fn' ? 2 ** M - 2 : 2 ** M - 1;
  return { kind: 'float', spec: s, max: dyadic(BigInt(2 ** M + topMan), topExp - s.bias - M), minNormal: dyadic(1n, 1 - s.bias) };
}

/** Whether a magnitude m·2^-s·(unit) rounds up: rem is the part below the step, in units of 2^-shift of a step. */
function roundsUp(mode: Rounding, neg: boolean, steps: bigint, rem: bigint, shift: number, rnd: number, R: number): boolean {
  if (rem === 0n) return false;
  const half = 1n << BigInt(shift - 1);
  switch (mode) {
    case 'nearest': return rem > half || (rem === half && (steps & 1n) === 1n);
    case 'nearest-away': return rem >= half;
    case 'zero': return false;
    case 'down': return neg;
    case 'up': return !neg;
    case 'stochastic': return (rem << BigInt(R)) >> BigInt(shift) > BigInt(rnd >>> (32 - R));
  }
}

/** |x| as whole steps of 2^t and the remainder below, in units of 2^-shift steps. */
function split(mag: Dyadic, t: number): { steps: bigint; rem: bigint; shift: number } {
  const s = mag.e - t;
  if (s >= 0) return { steps: mag.m << BigInt(s), rem: 0n, shift: 1 };
  const steps = mag.m >> BigInt(-s);
  return { steps, rem: mag.m - (steps << BigInt(-s)), shift: -s };
}

const towardZero = (mode: Rounding, neg: boolean): boolean => mode === 'zero' || (mode === 'down' && !neg) || (mode === 'up' && neg);

/** x rounded once into the format, with the event it caused. */
export function roundVal(f: OracleFormat, x: Val, o: OracleRoundOptions, rnd: number): { v: Val; event: Event } {
  return f.kind === 'float' ? roundFloat(f, x, o, rnd) : roundFixed(f, x, o, rnd);
}

function roundFloat(f: Extract<OracleFormat, { kind: 'float' }>, x: Val, o: OracleRoundOptions, rnd: number): { v: Val; event: Event } {
  const s = f.spec;
  const hasInf = s.flavour === 'ieee', hasNaN = s.flavour !== 'none', signedZero = s.flavour !== 'fnuz';
  const zero = (neg: boolean): Val => fin(neg && signedZero, ZERO);
  const overflow = (neg: boolean, finiteInput: boolean): { v: Val; event: Event } => {
    if (o.saturate || (!hasInf && !hasNaN) || (finiteInput && towardZero(o.rounding, neg))) return { v: fin(neg, f.max), event: 'overflow' };
    return { v: hasInf ? { kind: 'inf', neg } : NAN, event: 'overflow' };
  };
  if (x.kind === 'nan') return { v: hasNaN ? NAN : fin(false, ZERO), event: 'none' };
  if (x.kind === 'inf') return hasInf ? { v: x, event: 'none' } : overflow(x.neg, false);
  if (x.mag.m === 0n) return { v: zero(x.neg), event: 'none' };
  const M = s.mantissaBits;
  const t = Math.max(floorLog2(x.mag), 1 - s.bias) - M;
  const { steps, rem, shift } = split(x.mag, t);
  const q = roundsUp(o.rounding, x.neg, steps, rem, shift, rnd, o.randomBits) ? steps + 1n : steps;
  const mag = dyadic(q, t);
  if (cmp(mag, f.max) > 0) return overflow(x.neg, true);
  if (q === 0n || ((o.flush || !s.subnormals) && cmp(mag, f.minNormal) < 0)) return { v: zero(x.neg), event: 'underflow' };
  return { v: fin(x.neg, mag), event: 'none' };
}

function roundFixed(f: Extract<OracleFormat, { kind: 'fixed' }>, x: Val, o: OracleRoundOptions, rnd: number): { v: Val; event: Event } {
  const { width: W, fraction: F, signed } = f.spec;
  const lo = signed ? -(1n << BigInt(W - 1)) : 0n;
  const hi = signed ? (1n << BigInt(W - 1)) - 1n : (1n << BigInt(W)) - 1n;
  const ofInt = (n: bigint): Val => fin(n < 0n, dyadic(n < 0n ? -n : n, -F));
  if (x.kind === 'nan') return { v: ofInt(0n), event: 'none' };
  if (x.kind === 'inf') return { v: ofInt(x.neg ? lo : hi), event: 'overflow' };
  if (x.mag.m === 0n) return { v: ofInt(0n), event: 'none' };
  const { steps, rem, shift } = split(x.mag, -F);
  const q = roundsUp(o.rounding, x.neg, steps, rem, shift, rnd, o.randomBits) ? steps + 1n : steps;
  const n = x.neg ? -q : q;
  if (n < lo || n > hi) {
    if (f.wrap && !o.saturate) {
      const span = 1n << BigInt(W);
      let w = ((n % span) + span) % span;
      if (signed && w > hi) w -= span;
      return { v: ofInt(w), event: 'overflow' };
    }
    return { v: ofInt(n < lo ? lo : hi), event: 'overflow' };
  }
  return { v: ofInt(n), event: q === 0n ? 'underflow' : 'none' };
}

/** A per-add model as the oracle runs it. */
export interface OracleModel {
  readonly acc: OracleFormat;
  readonly product: OracleFormat | null;
  readonly round: OracleRoundOptions;
  readonly chunk: number;
}

export interface OracleResult {
  readonly c: Float64Array;
  swamped: number;
  overflow: number;
  underflow: number;
  readonly overflowed: Uint8Array;
}

const FP32 = oracleFormat('float<8,23>');
const NEAREST: OracleRoundOptions = { rounding: 'nearest', saturate: false, flush: false, randomBits: 24 };

/**
 * accumulatedGemm's per-add definition, written out: C[i,j] from its start
 * value and the terms of row i of op(A) and column j of op(B), with the
 * documented random counter. The result goes to float32 by round to nearest.
 */
export function simulate(
  model: OracleModel, transA: boolean, transB: boolean, m: number, n: number, k: number,
  a: Float32Array, b: Float32Array, c: Float32Array, accumulate: boolean, seed = 0, stream = 0,
): OracleResult {
  const rng = new PhiloxStream(seed, stream);
  const out: OracleResult = { c: new Float64Array(m * n), swamped: 0, overflow: 0, underflow: 0, overflowed: new Uint8Array(m * n) };
  const down = model.round.rounding === 'down';
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      const e = i * n + j;
      const word = (t: number, purpose: number): number => (model.round.rounding === 'stochastic' ? rng.word(4 * (e * (k + 1) + t) + purpose) : 0);
      let hit = false;
      const note = (ev: Event): void => {
        if (ev === 'overflow') { out.overflow++; hit = true; } else if (ev === 'underflow') out.underflow++;
      };
      const addRound = (acc: Val, x: Val, w: number): Val => {
        const r = roundVal(model.acc, addVal(acc, x, down), model.round, w);
        note(r.event);
        const same = acc.kind === 'fin' && r.v.kind === 'fin' && cmp(acc.mag, r.v.mag) === 0 && (acc.mag.m === 0n || acc.neg === r.v.neg);
        if (r.event === 'none' && same && x.kind === 'fin' && x.mag.m !== 0n) out.swamped++;
        return r.v;
      };
      const start = roundVal(model.acc, valOf(accumulate ? c[e] : 0), model.round, word(k, 0));
      note(start.event);
      let total = start.v;
      let run: Val = fin(false, ZERO);
      for (let p = 0; p < k; p++) {
        const av = a[transA ? p * m + i : i * k + p], bv = b[transB ? j * k + p : p * n + j];
        let x = mulVal(valOf(av), valOf(bv));
        if (model.product) {
          const r = roundVal(model.product, x, model.round, word(p, 1));
          note(r.event);
          x = r.v;
        }
        if (model.chunk === 0) total = addRound(total, x, word(p, 0));
        else {
          run = addRound(run, x, word(p, 0));
          if ((p + 1) % model.chunk === 0 || p === k - 1) {
            total = addRound(total, run, word(p, 2));
            run = fin(false, ZERO);
          }
        }
      }
      const r = roundVal(FP32, total, NEAREST, 0);
      note(r.event);
      out.c[e] = numberOf(r.v);
      if (hit) out.overflowed[e] = 1;
    }
  }
  return out;
}

/** The exact sum of C[i,j] (when accumulating) and the products, rounded to odd at 53 bits, as a double. */
export function exactSumToOdd(terms: readonly Val[]): number {
  let s: Val = fin(false, ZERO);
  let allNegZero = terms.length > 0;
  for (const t of terms) {
    s = addVal(s, t, false);
    if (!(t.kind === 'fin' && t.mag.m === 0n && t.neg)) allNegZero = false;
  }
  if (s.kind !== 'fin') return numberOf(s);
  if (s.mag.m === 0n) return allNegZero ? -0 : 0;
  const L = bitLength(s.mag.m);
  if (L <= 53) return toDouble(s.neg, s.mag);
  const sh = BigInt(L - 53);
  let r = s.mag.m >> sh;
  if ((s.mag.m & ((1n << sh) - 1n)) !== 0n) r |= 1n;
  return toDouble(s.neg, dyadic(r, s.mag.e + L - 53));
}
