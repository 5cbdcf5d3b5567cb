/**
 * A sampler picks the pairs of each product an approximated layer computes,
 * from the layer's settings and the run's counter-based uniforms. The ops
 * take a Sampler rather than settings, so tests can hold a sample fixed.
 */
import { estimatedPairSquares, pairSquares, pairWeights, type PairOperand } from './pairs.js';
import { bernoulliCrs, checkBudget, crs, mixedProbabilities, pairBudget, topK, type PairSample, type SamplingMethod, type UniformSource } from './sampling.js';

/** The three products of a layer: y = x·w, the input gradient and the weight gradient. */
export type Product = 'forward' | 'input-grad' | 'weight-grad';
export const PRODUCTS: readonly Product[] = ['forward', 'input-grad', 'weight-grad'];

/** Picks the pairs of one product of a·b, or returns null when the product is to be exact (every pair kept). */
export type Sampler = (product: Product, a: PairOperand, b: PairOperand) => PairSample | null;

export interface SamplerSettings {
  readonly method: SamplingMethod;
  /** The fraction of pairs kept, in (0, 1]. */
  readonly ratio: number;
  /** Never fewer pairs than this (or all, when a product has fewer). */
  readonly minK: number;
  /** The uniform share mixed into CRS and Bernoulli-CRS probabilities. */
  readonly epsilon: number;
  /** topk-est: the fraction of each operand's rows its norms are estimated from. */
  readonly normSample: number;
}

/** A sampler drawing, for each product, from `draw(product)`, an independent uniform source per product. */
export function createSampler(s: SamplerSettings, draw: (product: Product) => UniformSource): Sampler {
  return (product, a, b) => {
    const n = a.pairs;
    if (b.pairs !== n) throw new Error(`internal: operands with ${a.pairs} and ${b.pairs} pairs`);
    const k = pairBudget(n, s.ratio, s.minK);
    if (k >= n) return null;
    checkBudget(n, k);
    const u = draw(product);
    switch (s.method) {
      case 'topk':
        return topK(pairWeights(pairSquares(a), pairSquares(b)), k);
      case 'topk-est':
        return topK(pairWeights(estimatedPairSquares(a, sampleRows(a, s.normSample, u, 0)), estimatedPairSquares(b, sampleRows(b, s.normSample, u, 1))), k);
      case 'uniform':
        return crs(new Float64Array(n).fill(1 / n), k, u(k, 0));
      case 'crs':
        return crs(mixedProbabilities(pairWeights(pairSquares(a), pairSquares(b)), s.epsilon), k, u(k, 0));
      case 'bernoulli-crs':
        return bernoulliCrs(mixedProbabilities(pairWeights(pairSquares(a), pairSquares(b)), s.epsilon), k, u(n, 0));
    }
  };
}

/** ⌈fraction·rows⌉ (at least one) of an operand's outer·inner rows, drawn uniformly with replacement. */
function sampleRows(op: PairOperand, fraction: number, u: UniformSource, part: number): Int32Array {
  const total = op.outer * op.inner;
  const count = Math.max(1, Math.ceil(fraction * total - 1e-9));
  const v = u(count, part);
  const rows = new Int32Array(count);
  for (let i = 0; i < count; i++) rows[i] = Math.min(total - 1, Math.floor(v[i] * total));
  return rows;
}
