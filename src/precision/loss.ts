/**
 * The loss role: softmax cross-entropy whose probabilities, loss value and
 * derivative are rounded to the loss format, as hardware that computes the
 * loss in that format would (PositNN computes it in posit<y,2>). Each is
 * computed in float64 and rounded once, straight to the format.
 */
import { OptionError } from '../errors.js';
import { accumulateGrad, opResult } from '../tensor/autograd.js';
import type { Labels } from '../tensor/ops/loss.js';
import { shapeString, type Tensor } from '../tensor/tensor.js';
import type { Rounder } from './site.js';

/**
 * Mean cross-entropy of softmax(logits [N, C]) against labels. Forward: the
 * probabilities p are rounded (they give the derivative) and the mean loss
 * (from the stable log-sum-exp form) is rounded. Backward: (p − onehot)·g/N
 * rounded — the error that enters the last layer, scaled by the loss scale g.
 */
export function roundedCrossEntropy(logits: Tensor, labels: Labels, round: Rounder): Tensor {
  if (logits.ndim !== 2 || labels.length !== logits.shape[0] || !(logits.data instanceof Float32Array)) {
    throw new OptionError(`rounded cross-entropy of ${logits.dtype} logits ${shapeString(logits.shape)} with ${labels.length} labels`, 'logits are float32 [N, classes] with one label per row');
  }
  const [N, C] = logits.shape;
  const x = logits.data;
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
  const pq = new Float32Array(N * C);
  round(p, pq, logits.shape);
  const out = new Float32Array(1);
  round(Float64Array.of(N === 0 ? NaN : total / N), out, [1]);
  return opResult('rounded_cross_entropy', out, [], [logits], (g) => {
    const k = g[0] / N;
    const d = new Float64Array(N * C);
    for (let r = 0; r < N; r++) {
      const o = r * C;
      for (let j = 0; j < C; j++) d[o + j] = (pq[o + j] - (j === labels[r] ? 1 : 0)) * k;
    }
    const dq = new Float32Array(N * C);
    round(d, dq, logits.shape);
    accumulateGrad(logits, dq);
  });
}
