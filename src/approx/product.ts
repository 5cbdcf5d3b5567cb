/** One backward product over column-row pairs, all of them or the sampled ones gathered. */
import { alloc, type FloatArray } from '../tensor/tensor.js';
import type { MacCount } from './macs.js';
import { gatherPairs, type PairOperand } from './pairs.js';
import type { PairSample } from './sampling.js';

/**
 * a·b over their pairs: every pair when s is null, else the kept pairs
 * gathered side by side (a's multiplied by the sample's factors) so that
 * `run(k, a, b)` computes a product over k pairs instead of n. Each pair
 * costs `perPair` multiply-adds; the result has `size` elements (zeros,
 * without running anything, for an empty sample).
 */
export function sampledProduct(
  s: PairSample | null, a: PairOperand, b: PairOperand, perPair: number, size: number, macs: MacCount | undefined,
  run: (k: number, a: FloatArray, b: FloatArray) => FloatArray,
): FloatArray {
  const n = a.pairs;
  if (s === null) {
    macs?.add(perPair, n, n);
    return run(n, a.data, b.data);
  }
  macs?.add(perPair, n, s.index.length);
  if (s.index.length === 0) return alloc(a.data instanceof Float64Array ? 'float64' : 'float32', size);
  return run(s.index.length, gatherPairs(a, s.index, s.scale), gatherPairs(b, s.index, null));
}
