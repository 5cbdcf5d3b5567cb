/**
 * Choosing the column-row pairs of an approximate product A·B = Σᵢ A[:,i]·B[i,:]
 * (Adelman et al., "Faster Neural Network Training with Approximate Tensor
 * Operations", NeurIPS 2021). Every method here is a pure function of the
 * pair weights wᵢ = ‖A[:,i]‖·‖B[i,:]‖ and of uniforms the caller draws from
 * the counter-based generator, so a sample is the same on every backend.
 */
import { OptionError } from '../errors.js';

export type SamplingMethod = 'crs' | 'bernoulli-crs' | 'topk' | 'topk-est' | 'uniform';
export const SAMPLING_METHODS: readonly SamplingMethod[] = ['crs', 'bernoulli-crs', 'topk', 'topk-est', 'uniform'];

/**
 * The pairs kept, in increasing order, and the factor each one's product is
 * multiplied by (null: all 1, the unscaled top-k). A pair CRS drew several
 * times appears once with its multiplicity folded into the factor, so the
 * product is physically over `index.length` pairs at most.
 */
export interface PairSample {
  readonly index: Int32Array;
  readonly scale: Float64Array | null;
}

/** Uniforms in [0, 1) from the run's counter-based generator; `part` separates independent draws of one product. */
export type UniformSource = (count: number, part: number) => Float64Array;

/** How many pairs a product of n keeps: ⌈ratio·n⌉, at least minK, at most n. */
export function pairBudget(n: number, ratio: number, minK: number): number {
  // The small slack keeps ratio·n that should be an integer (0.9·500) from rounding up past it.
  return Math.min(n, Math.max(minK, Math.ceil(ratio * n - 1e-9)));
}

/**
 * The sampling probabilities (1 − ε)·wᵢ/Σw + ε/n: mixing in the uniform
 * distribution bounds every 1/pᵢ, so a pair with a tiny weight cannot blow
 * up the estimate's variance. All-zero or non-finite weights give uniform
 * probabilities: such a product is zero, or non-finite, whichever pairs are
 * kept (and a non-finite loss stops training).
 */
export function mixedProbabilities(weights: Float64Array, epsilon: number): Float64Array {
  const n = weights.length;
  let total = 0;
  for (let i = 0; i < n; i++) total += weights[i];
  const q = new Float64Array(n);
  if (!(total > 0 && Number.isFinite(total))) return q.fill(1 / n);
  for (let i = 0; i < n; i++) q[i] = (1 - epsilon) * (weights[i] / total) + epsilon / n;
  return q;
}

/**
 * CRS: k draws with replacement, pair i with probability qᵢ, each scaled
 * by 1/(k·qᵢ), so the estimate is unbiased. Draw j takes the first i whose
 * cumulative probability exceeds uⱼ·Σq.
 */
export function crs(q: Float64Array, k: number, u: Float64Array): PairSample {
  const n = q.length;
  const cum = new Float64Array(n);
  let s = 0;
  for (let i = 0; i < n; i++) cum[i] = s += q[i];
  const count = new Int32Array(n);
  for (let j = 0; j < k; j++) {
    const target = u[j] * s;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cum[mid] > target) hi = mid;
      else lo = mid + 1;
    }
    count[lo]++;
  }
  const kept: number[] = [];
  for (let i = 0; i < n; i++) if (count[i] > 0) kept.push(i);
  const index = Int32Array.from(kept);
  const scale = new Float64Array(index.length);
  for (let j = 0; j < index.length; j++) scale[j] = count[index[j]] / (k * q[index[j]]);
  return { index, scale };
}

/**
 * Bernoulli-CRS: pair i kept independently with pᵢ = min(1, k·qᵢ) and
 * scaled by 1/pᵢ — unbiased, about k pairs on average (fewer where pᵢ
 * saturates at 1), and possibly none.
 */
export function bernoulliCrs(q: Float64Array, k: number, u: Float64Array): PairSample {
  const kept: number[] = [];
  const scale: number[] = [];
  for (let i = 0; i < q.length; i++) {
    const p = Math.min(1, k * q[i]);
    if (u[i] < p) {
      kept.push(i);
      scale.push(1 / p);
    }
  }
  return { index: Int32Array.from(kept), scale: Float64Array.from(scale) };
}

/** The k pairs of largest weight, unscaled (biased); ties go to the lower index. */
export function topK(weights: Float64Array, k: number): PairSample {
  const order = Array.from(weights.keys());
  // NaN weights sort last, so a non-finite operand does not decide the sample.
  const key = (i: number) => (Number.isNaN(weights[i]) ? -Infinity : weights[i]);
  order.sort((i, j) => key(j) - key(i) || i - j);
  return { index: Int32Array.from(order.slice(0, k)).sort(), scale: null };
}

/** Checks a pair budget before a method uses it. */
export function checkBudget(n: number, k: number): void {
  if (!Number.isInteger(k) || k < 1 || k > n) throw new OptionError(`cannot keep ${k} of ${n} column-row pairs`, 'keep between 1 and n pairs (ratio in (0, 1], minK ≥ 1)');
}
