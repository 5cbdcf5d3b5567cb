/**
 * The fully connected layer y = x·wᵀ + b with sampled products. x is
 * [N, in], w [out, in]; the forward product's pairs are the `in` features,
 * the input gradient's (g·w) the `out` features, the weight gradient's
 * (gᵀ·x) the N batch rows. A sampled product gathers its kept pairs and runs
 * one GEMM over k instead of n, so it is physically smaller.
 */
import { OptionError } from '../errors.js';
import { accumulateGrad, isGradEnabled, noGrad, opResult } from '../tensor/autograd.js';
import { layerGemm, type Product } from '../tensor/gemm.js';
import { linear, sumRows } from '../tensor/ops/matmul.js';
import { alloc, shapeString, Tensor } from '../tensor/tensor.js';
import { gatherDim1 } from './gather.js';
import type { MacCount } from './macs.js';
import { operand } from './pairs.js';
import { sampledProduct } from './product.js';
import type { Sampler } from './sampler.js';

/**
 * Where sampling happens:
 * - `forward`: the forward product is sampled and the gradients are those of
 *   the sampled function, so they flow through the kept pairs only (and the
 *   backward products shrink with it);
 * - `backward`: the forward is exact; the input- and weight-gradient
 *   products are sampled;
 * - `blackbox`: the forward product is sampled, and the backward treats it
 *   as a black box standing in for the exact product: exact gradients of x·wᵀ.
 */
export type Pass = 'forward' | 'backward' | 'blackbox';
export const PASSES: readonly Pass[] = ['forward', 'backward', 'blackbox'];

/** A sampler that keeps every pair: the exact gradients of blackbox sampling. */
const exact: Sampler = () => null;

/** Whether a gradient will be computed for t by the backward of an op run now. */
export const willGrad = (t: Tensor): boolean => isGradEnabled() && t.requiresGrad;

/**
 * linear(x, w, bias) with its products sampled by `sampler` in the given
 * pass; multiply-adds counted into `macs`. `product` is the layer's
 * emulated accumulator (null: fp32); the sampled products run through it too.
 */
export function sampledLinear(x: Tensor, w: Tensor, bias: Tensor | null, pass: Pass, sampler: Sampler, macs?: MacCount, product: Product | null = null): Tensor {
  if (x.ndim !== 2 || w.ndim !== 2 || x.shape[1] !== w.shape[1] || x.dtype !== w.dtype) {
    throw new OptionError(`sampled linear of input ${shapeString(x.shape)} (${x.dtype}) and weight ${shapeString(w.shape)} (${w.dtype})`, 'the input is [N, in], the weight [out, in], of one dtype');
  }
  const [N, nin] = x.shape;
  const nout = w.shape[0];
  if (pass === 'backward') {
    macs?.add(N * nout, nin, nin);
    return withLinearGrads('sampled-backward-linear', noGrad(() => linear(x, w, bias, { product })), x, w, bias, sampler, macs, product);
  }
  const s = sampler('forward', operand(x.data, N, nin, 1), operand(w.data, nout, nin, 1));
  const kept = s ? s.index.length : nin;
  if (pass === 'forward') {
    // The backward of the smaller product is smaller too: g·w_S and gᵀ·x_S.
    macs?.add(N * nout, nin, kept);
    if (willGrad(x)) macs?.add(N * nout, nin, kept);
    if (willGrad(w)) macs?.add(N * nout, nin, kept);
    return s ? linear(gatherDim1(x, { index: s.index, scale: null }), gatherDim1(w, s), bias, { product }) : linear(x, w, bias, { product });
  }
  macs?.add(N * nout, nin, kept);
  const y = noGrad(() => (s ? linear(gatherDim1(x, { index: s.index, scale: null }), gatherDim1(w, s), bias, { product }) : linear(x, w, bias, { product })));
  return withLinearGrads('blackbox-linear', y, x, w, bias, exact, macs, product);
}

/** y's values, with a backward that computes x's and w's gradients by the (possibly sampled) products. */
function withLinearGrads(op: string, y: Tensor, x: Tensor, w: Tensor, bias: Tensor | null, sampler: Sampler, macs?: MacCount, product: Product | null = null): Tensor {
  const [N, nin] = x.shape;
  const nout = w.shape[0];
  const X = x.data;
  const W = w.data;
  const dtype = x.dtype;
  return opResult(op, y.data, y.shape, bias ? [x, w, bias] : [x, w], (g) => {
    if (x.requiresGrad) {
      // dX [N, in] = g [N, out] · W [out, in]: pairs are the out features.
      const gOp = operand(g, N, nout, 1);
      const wOp = operand(W, 1, nout, nin);
      accumulateGrad(x, sampledProduct(sampler('input-grad', gOp, wOp), gOp, wOp, N * nin, N * nin, macs, (k, a, b) => {
        const c = alloc(dtype, N * nin);
        layerGemm(product, 'input-gradient', false, false, N, nin, k, a, b, c, false);
        return c;
      }));
    }
    if (w.requiresGrad) {
      // dW [out, in] = gᵀ [out, N] · X [N, in]: pairs are the batch rows.
      const gOp = operand(g, 1, N, nout);
      const xOp = operand(X, 1, N, nin);
      accumulateGrad(w, sampledProduct(sampler('weight-grad', gOp, xOp), gOp, xOp, nout * nin, nout * nin, macs, (k, a, b) => {
        const c = alloc(dtype, nout * nin);
        layerGemm(product, 'weight-gradient', true, false, nout, nin, k, a, b, c, false);
        return c;
      }));
    }
    if (bias && bias.requiresGrad) accumulateGrad(bias, sumRows(g, N, nout, dtype));
  });
}
