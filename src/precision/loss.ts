/**
 * The loss role: softmax cross-entropy whose probabilities, loss value and
 * derivative are rounded to the loss format, as hardware that computes the
 * loss in that format would (PositNN computes it in posit<y,2>). Each is
 * computed in float64 and rounded once, straight to the format.
 */
import { OptionError } from '../errors.js';
import { accumulateGrad, opResult } from '../tensor/autograd.js';
import { softmaxRows, type Labels } from '../tensor/ops/loss.js';
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
  const { p, total } = softmaxRows(logits.data, labels, N, C);
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
