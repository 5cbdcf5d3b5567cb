/**
 * ReLU and its gradient, the one reference copy: the js backend runs these
 * on float32 arrays and src/tensor/ops on float64 ones, and the C kernels
 * (kernels/layers.h) match them bit for bit.
 *
 * relu(x) is x when x > 0, x itself when x is NaN, and +0 otherwise (so −0,
 * −Inf and every negative give +0, as PyTorch). Its gradient is
 * g·1 where x > 0 and g·0 elsewhere: an exact −0 for a negative g, and NaN
 * for an Inf or NaN g at an inactive unit, like the product it is.
 */
import { overlaps } from './overlap.js';

type FloatArray = Float32Array | Float64Array;

/** Checks relu's arrays (every backend calls this first): one length; the output overlaps no input. */
export function checkRelu(op: string, inputs: readonly FloatArray[], out: FloatArray): void {
  for (const a of inputs) {
    if (a.length !== out.length) throw new RangeError(`${op}: arrays of ${[...inputs, out].map((x) => x.length).join(', ')} elements; they must have one length`);
    if (out.length > 0 && overlaps(a, out)) throw new RangeError(`${op}: the output must not overlap an input`);
  }
}

export function referenceRelu(x: FloatArray, y: FloatArray): void {
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    y[i] = v > 0 || v !== v ? v : 0;
  }
}

export function referenceReluBackward(x: FloatArray, grad: FloatArray, dx: FloatArray): void {
  for (let i = 0; i < x.length; i++) dx[i] = grad[i] * (x[i] > 0 ? 1 : 0);
}
