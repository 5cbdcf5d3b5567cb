/**
 * accumulatedGemm: C = op(A)·op(B) (+ C) with the running sum of every dot
 * product modelled as an accumulator model says (accumulator-spec.ts). The
 * definition lives in accumulator-reference.ts (the js backend's kernel);
 * this module validates, lowers the model (accumulator-lower.ts) and runs it
 * on the active backend, whose C kernels (kernels/accum.h) give the same bits.
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
import { checkAccumulate } from '../backend/accumulate.js';
import { checkGemm } from '../backend/gemm.js';
import { OptionError } from '../errors.js';
import { PhiloxStream } from '../rng/philox.js';
import { lowerAccumulator } from './accumulator-lower.js';
import { outputSpec, rounderOf, type OutputQuantizer } from './accumulator-reference.js';
import { parseAccumulator, type AccumulatorJSON, type AccumulatorModel } from './accumulator-spec.js';

export type { OutputQuantizer } from './accumulator-reference.js';

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
  /**
   * Count the events (default true). Without them every count reads 0 (the
   * overflow mask is still written) and the kernels skip the counting: the
   * per-add float accumulators run about twice as fast on native. Training
   * counts on the steps it logs.
   */
  readonly events?: boolean;
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

function seedOf(name: string, v: number | undefined): number {
  const x = v ?? 0;
  if (!Number.isSafeInteger(x) || x < 0) throw new OptionError(`${name} must be an integer in [0, 2^53), got ${x}`, `pass a non-negative integer ${name}`);
  return x;
}

/**
 * C = op(A)·op(B) (+ C when accumulate) with the accumulator `model`; the
 * arguments mean what they mean for the backend's gemm (checked by the same
 * checkGemm). Returns the event counts and the per-element overflow mask, or
 * null for `fp32`, which runs the backend's GEMM and records nothing (the
 * per-add model 'float<8,23>' gives the same bits with counts). Every model
 * runs on the active backend, with the same bits on js, wasm and native.
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
      const out = rounderOf(outputSpec(opts.output, false));
      const rng = out.stochastic ? new PhiloxStream(seed, stream) : null;
      for (let e = 0; e < m * n; e++) c[e] = out.round(c[e], rng ? rng.word(4 * (e * (k + 1) + k) + 1) : 0);
    }
    return null;
  }
  const overflowed = new Uint8Array(m * n);
  checkAccumulate(m, n, k, a, b, c, overflowed);
  const events = opts.events ?? true;
  const plan = lowerAccumulator(mod, opts.output, seed, stream, events);
  const counts = getBackend().accumulatedGemm(plan, transA, transB, m, n, k, a, b, c, accumulate, overflowed);
  return events ? { ...counts, overflowed } : { swamped: 0, overflow: 0, underflow: 0, overflowed };
}
