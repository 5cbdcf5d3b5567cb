/**
 * accumulatedGemm: C = op(A)·op(B) (+ C) with the running sum of every dot
 * product modelled as an accumulator model says (accumulator-spec.ts). The
 * TypeScript reference: exact, and the definition a C port must match.
 *
 * Per output element C[i,j] (e = i·n + j):
 *  - `fp32`: the backend's GEMM (a fused multiply-add chain in float32).
 *  - `exact`: a quire holds C[i,j] (when accumulating) and every product
 *    exactly; the sum is rounded once, into the output format.
 *  - per-add: acc starts at C[i,j] rounded into the accumulator format (or
 *    +0); for each p = 0..k−1 in order the product a·b (exact in float64,
 *    or rounded into the product format) is added and the exact sum rounded
 *    once into the accumulator format. With order chunk:N, each run of N
 *    products is summed that way from +0 and each run's sum is then added to
 *    acc the same way, in order. The result is written to C through the
 *    output format (default: float32, round to nearest).
 *
 * Random words (stochastic rounding) are drawn from Philox keyed by `seed`,
 * stream `stream`, word index 4·(e·(k+1) + t) + purpose: t = p for the
 * rounding of term p (purpose 0: the add, 1: the product, 2: adding the sum
 * of the chunk that ends at term p), t = k for the element's start value
 * (purpose 0) and output (purpose 1). So every word belongs to one
 * (element, term, purpose), whatever the blocking or thread split.
 */
import { getBackend } from '../backend/index.js';
import { checkGemm } from '../backend/gemm.js';
import { OptionError } from '../errors.js';
import { FixedFormat } from '../formats/fixed.js';
import { FloatFormat } from '../formats/float.js';
import { parseFormat, type Format } from '../formats/format.js';
import { EVENT_FLUSH, EVENT_NONE, EVENT_OVERFLOW, Mode, type RoundingParams } from '../formats/grid.js';
import { resolveRounding, type RoundOptions } from '../formats/options.js';
import { PositFormat } from '../formats/posit.js';
import { PhiloxStream } from '../rng/philox.js';
import { FixedRounder, FloatRounder, PositRounder, type Rounder } from './accumulator-round.js';
import { Quire } from './accumulator-quire.js';
import { parseAccumulator, type AccumulatorJSON, type AccumulatorModel, type RoundedAccumulator } from './accumulator-spec.js';

/** Where results go: a scalar format and how to round into it. */
export interface OutputQuantizer extends RoundOptions {
  readonly format: Format | string;
}

export interface AccumulateOptions {
  /**
   * Rounds each result into this format as it is written to C. For `exact`
   * it is the quire's one rounding (so a sum goes straight to, say,
   * posit<8,0>); for per-add models and fp32 it is a further rounding of the
   * finished sum. Default: float32, round to nearest (a no-op for fp32 and
   * for accumulator formats inside float32).
   */
  readonly output?: OutputQuantizer;
  /** Stochastic rounding: the Philox key, an integer in [0, 2^53) (default 0). */
  readonly seed?: number;
  /** Stochastic rounding: the Philox stream, an integer in [0, 2^53) (default 0). */
  readonly stream?: number;
}

/** What happened inside the accumulations (null from the fp32 fast path, which records nothing). */
export interface AccumulationReport {
  /** Adds whose term was nonzero and finite but left the (finite) sum unchanged. */
  swamped: number;
  /** Roundings (of products, sums, start values, outputs) beyond the largest finite value: saturated, Inf/NaN, or wrapped. */
  overflow: number;
  /** Roundings of a nonzero value to zero (posits: to ±minpos). */
  underflow: number;
  /** Per output element (m×n, row-major): 1 when any rounding in its accumulation overflowed. */
  readonly overflowed: Uint8Array;
}

const FP32 = parseFormat('fp32') as FloatFormat;

function rounderFor(format: Format, r: RoundingParams, wrap: boolean, role: string): Rounder {
  if (format instanceof FloatFormat) return new FloatRounder(format, r);
  if (format instanceof FixedFormat) return new FixedRounder(format, r, wrap);
  if (format instanceof PositFormat) return new PositRounder(format, r);
  throw new OptionError(`${role} '${format.name}' is a block format`, 'round into a float, fixed or posit format');
}

function outputRounder(out: OutputQuantizer | undefined, exact: boolean): Rounder {
  if (!out) return new FloatRounder(FP32, resolveRounding());
  const f = typeof out.format === 'string' ? parseFormat(out.format) : out.format;
  const r = resolveRounding(out);
  if (exact) {
    // The quire's sum arrives rounded to odd in float64 (52 exact bits): enough for every format but these.
    if (f instanceof FixedFormat && f.spec.wrap) {
      throw new OptionError(`the quire's output '${f.name}' wraps: the wrapped value needs bits of the sum below float64's 53`,
        'use a saturating fixed format for the output of an exact accumulator');
    }
    const precision = f instanceof FixedFormat ? f.spec.width : f instanceof PositFormat ? f.spec.width - 2 - f.spec.es : 24;
    if (r.mode === Mode.Stochastic && precision + r.randomBits > 52) {
      throw new OptionError(`stochastic rounding of the quire into '${f.name}' with ${r.randomBits} random bits needs ${precision + r.randomBits} exact bits (at most 52)`,
        `use randomBits ${52 - precision} or fewer`);
    }
  }
  return rounderFor(f, r, f instanceof FixedFormat && f.spec.wrap, 'output format');
}

function seedOf(name: string, v: number | undefined): number {
  const x = v ?? 0;
  if (!Number.isSafeInteger(x) || x < 0) throw new OptionError(`${name} must be an integer in [0, 2^53), got ${x}`, `pass a non-negative integer ${name}`);
  return x;
}

/** Counts events into the report. */
class Tally {
  swamped = 0;
  overflow = 0;
  underflow = 0;
  hit = false;
  note(ev: number): void {
    if (ev === EVENT_OVERFLOW) { this.overflow++; this.hit = true; } else if (ev === EVENT_FLUSH) this.underflow++;
  }
}

/** The per-add machinery of a rounded model. */
interface PerAdd {
  readonly acc: Rounder;
  readonly product: Rounder | null;
  readonly chunk: number;
  readonly stochastic: boolean;
}

function perAdd(m: RoundedAccumulator): PerAdd {
  const ro = { rounding: m.rounding, randomBits: m.randomBits, subnormals: m.underflow, overflow: m.overflow === 'saturate' ? 'saturate' : 'format' } as const;
  const r = resolveRounding(ro);
  const wrap = (f: Format): boolean => f instanceof FixedFormat && (m.overflow === 'wrap' || (m.overflow === 'format' && f.spec.wrap));
  const accFormat = parseFormat(m.format);
  const prodFormat = m.product === null ? null : parseFormat(m.product);
  return {
    acc: rounderFor(accFormat, r, wrap(accFormat), 'accumulator format'),
    product: prodFormat === null ? null : rounderFor(prodFormat, r, wrap(prodFormat), 'product format'),
    chunk: m.chunk ?? 0,
    stochastic: m.rounding === 'stochastic',
  };
}

/**
 * C = op(A)·op(B) (+ C when accumulate) with the accumulator `model`; the
 * arguments mean what they mean for the backend's gemm (checked by the same
 * checkGemm). Returns the event counts and the per-element overflow mask, or
 * null for `fp32`, which runs the backend's GEMM and records nothing (the
 * per-add model 'float<8,23>' gives the same bits with counts).
 */
export function accumulatedGemm(
  model: AccumulatorModel | string | AccumulatorJSON,
  transA: boolean, transB: boolean, m: number, n: number, k: number,
  a: Float32Array, b: Float32Array, c: Float32Array, accumulate: boolean,
  opts: AccumulateOptions = {},
): AccumulationReport | null {
  const mod = typeof model === 'string' || !('kind' in model) ? parseAccumulator(model) : model;
  checkGemm(m, n, k, a, b, c);
  const seed = seedOf('seed', opts.seed);
  const stream = seedOf('stream', opts.stream);
  if (mod.kind === 'fp32') {
    getBackend().gemm(transA, transB, m, n, k, a, b, c, accumulate);
    if (opts.output) {
      const out = outputRounder(opts.output, false);
      const rng = out.stochastic ? new PhiloxStream(seed, stream) : null;
      for (let e = 0; e < m * n; e++) c[e] = out.round(c[e], rng ? rng.word(4 * (e * (k + 1) + k) + 1) : 0);
    }
    return null;
  }
  const out = outputRounder(opts.output, mod.kind === 'exact');
  const tally = new Tally();
  const overflowed = new Uint8Array(m * n);
  const rng = new PhiloxStream(seed, stream);
  // op(A)[i,p] = a[i*sai + p*sap], op(B)[p,j] = b[p*sbp + j*sbj]
  const sai = transA ? 1 : k, sap = transA ? m : 1;
  const sbp = transB ? 1 : n, sbj = transB ? k : 1;
  const quire = mod.kind === 'exact' ? new Quire() : null;
  const pa = mod.kind === 'rounded' ? perAdd(mod) : null;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      const e = i * n + j;
      const base = e * (k + 1); // this element's first term index
      tally.hit = false;
      let sum: number;
      if (quire) {
        quire.reset(accumulate ? c[e] : 0);
        for (let p = 0, ia = i * sai, ib = j * sbj; p < k; p++, ia += sap, ib += sbp) quire.add(a[ia] * b[ib]);
        sum = quire.toOdd();
      } else {
        sum = accumulateOne(pa!, tally, rng, base, k, a, i * sai, sap, b, j * sbj, sbp, accumulate ? c[e] : 0);
      }
      const v = out.round(sum, out.stochastic ? rng.word(4 * (base + k) + 1) : 0);
      tally.note(out.event);
      c[e] = v;
      if (tally.hit) overflowed[e] = 1;
    }
  }
  return { swamped: tally.swamped, overflow: tally.overflow, underflow: tally.underflow, overflowed };
}

/** One element's per-add accumulation; returns the final accumulator value. */
function accumulateOne(
  pa: PerAdd, tally: Tally, rng: PhiloxStream, base: number, k: number,
  a: Float32Array, ia: number, sap: number, b: Float32Array, ib: number, sbp: number, start: number,
): number {
  const { acc: R, product: P, chunk, stochastic } = pa;
  const word = (t: number, purpose: number): number => (stochastic ? rng.word(4 * (base + t) + purpose) : 0);
  /** acc + x rounded once, counting swamping and events. */
  const add = (acc: number, x: number, w: number): number => {
    const v = R.add(acc, x, w);
    // Swamped: a nonzero term lost in a sum that neither overflowed nor underflowed.
    if (R.event === EVENT_NONE) {
      if (v === acc && x !== 0 && Number.isFinite(x) && Number.isFinite(acc)) tally.swamped++;
    } else tally.note(R.event);
    return v;
  };
  let total = R.round(start, word(k, 0));
  tally.note(R.event);
  let run = 0; // the current chunk's sum (chunked order)
  for (let p = 0; p < k; p++, ia += sap, ib += sbp) {
    let x = a[ia] * b[ib];
    if (P) {
      x = P.round(x, word(p, 1));
      tally.note(P.event);
    }
    if (chunk === 0) total = add(total, x, word(p, 0));
    else {
      run = add(run, x, word(p, 0));
      if ((p + 1) % chunk === 0 || p === k - 1) {
        total = add(total, run, word(p, 2));
        run = 0;
      }
    }
  }
  return total;
}
