/** The differentiable gather of kept pairs: the forward-sampling ops feed it to linear() and conv2d(). */
import { accumulateGrad, opResult } from '../tensor/autograd.js';
import { alloc, Tensor, type Shape } from '../tensor/tensor.js';
import { gatherPairs, operand, scatterPairs } from './pairs.js';
import type { PairSample } from './sampling.js';

/**
 * The slices s.index of dimension 1 of t ([A, pairs, ...rest] → [A, k, ...rest]),
 * each multiplied by its factor; the gradient flows back into the kept
 * slices only (times the same factors).
 */
export function gatherDim1(t: Tensor, s: PairSample): Tensor {
  const [outer, pairs, ...rest] = t.shape;
  const inner = rest.reduce((p, d) => p * d, 1);
  const k = s.index.length;
  const data = gatherPairs(operand(t.data, outer, pairs, inner), s.index, s.scale);
  const shape: Shape = [outer, k, ...rest];
  return opResult('gather-pairs', data, shape, [t], (g) => {
    const d = alloc(t.dtype, t.size);
    scatterPairs(g, operand(d, outer, pairs, inner), s.index, s.scale);
    accumulateGrad(t, d);
  });
}
