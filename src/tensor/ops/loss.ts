/** Softmax, and softmax fused with cross-entropy: the stable log-sum-exp form, with its simple gradient. */
import { OptionError } from '../../errors.js';
import { accumulateGrad, opResult } from '../autograd.js';
import { alloc, shapeString, Tensor, type FloatArray } from '../tensor.js';

export type Labels = Int32Array | Uint8Array | readonly number[];

/** Softmax along the last axis. */
export function softmax(logits: Tensor): Tensor {
  const C = logits.shape[logits.ndim - 1];
  const rows = C === 0 ? 0 : logits.size / C;
  const x = logits.data;
  const p = alloc(logits.dtype, logits.size);
  for (let r = 0; r < rows; r++) {
    const o = r * C;
    let max = -Infinity;
    for (let j = 0; j < C; j++) max = Math.max(max, x[o + j]);
    let s = 0;
    for (let j = 0; j < C; j++) s += Math.exp(x[o + j] - max);
    for (let j = 0; j < C; j++) p[o + j] = Math.exp(x[o + j] - max) / s;
  }
  return opResult('softmax', p, logits.shape, [logits], (g) => {
    const d = alloc(logits.dtype, logits.size);
    for (let r = 0; r < rows; r++) {
      const o = r * C;
      let dot = 0;
      for (let j = 0; j < C; j++) dot += g[o + j] * p[o + j];
      for (let j = 0; j < C; j++) d[o + j] = p[o + j] * (g[o + j] - dot);
    }
    accumulateGrad(logits, d);
  });
}

/**
 * Each row's softmax of x [N, C] in float64 (the stable form: exponents
 * after subtracting the row maximum), and the summed cross-entropy against
 * the labels, Σ logsumexp(row) − row[label]. Labels are checked.
 */
export function softmaxRows(x: FloatArray, labels: Labels, N: number, C: number): { p: Float64Array; total: number } {
  const p = new Float64Array(N * C);
  let total = 0;
  for (let r = 0; r < N; r++) {
    const y = labels[r];
    if (!Number.isInteger(y) || y < 0 || y >= C) throw new OptionError(`label ${y} at row ${r} is not a class in 0..${C - 1}`, 'check the dataset labels and the model output width');
    const o = r * C;
    let max = -Infinity;
    for (let j = 0; j < C; j++) max = Math.max(max, x[o + j]);
    let s = 0;
    for (let j = 0; j < C; j++) s += (p[o + j] = Math.exp(x[o + j] - max));
    for (let j = 0; j < C; j++) p[o + j] /= s;
    total += Math.log(s) + max - x[o + y];
  }
  return { p, total };
}

/**
 * Mean cross-entropy of softmax(logits [N, C]) against integer labels, as
 * one op: loss = mean(logsumexp(x) - x[label]), gradient (softmax - onehot)/N.
 * Each row is computed in float64 and rounded once.
 */
export function softmaxCrossEntropy(logits: Tensor, labels: Labels): Tensor {
  if (logits.ndim !== 2 || labels.length !== logits.shape[0]) {
    throw new OptionError(`cross-entropy of logits ${shapeString(logits.shape)} with ${labels.length} labels`, 'logits are [N, classes] with one label per row');
  }
  const [N, C] = logits.shape;
  const { p, total } = softmaxRows(logits.data, labels, N, C);
  const out = alloc(logits.dtype, 1);
  out[0] = N === 0 ? NaN : total / N;
  return opResult('softmax_cross_entropy', out, [], [logits], (g) => {
    const k = g[0] / N;
    const d = alloc(logits.dtype, logits.size);
    for (let r = 0; r < N; r++) {
      const o = r * C;
      for (let j = 0; j < C; j++) d[o + j] = (p[o + j] - (j === labels[r] ? 1 : 0)) * k;
    }
    accumulateGrad(logits, d);
  });
}
