/**
 * Batch normalisation over [N, C] (1d) and [N, C, H, W] (2d), as PyTorch's
 * BatchNorm1d/2d. Per-channel sums are taken in float64, in a fixed order
 * (image by image, then position by position), so results are reproducible.
 */
import { OptionError } from '../../errors.js';
import { accumulateGrad, opResult } from '../autograd.js';
import { alloc, shapeString, Tensor, type FloatArray } from '../tensor.js';
import { sameDType } from './conv.js';

/** The running statistics a BatchNorm layer keeps; updated in place in training. */
export interface RunningStats {
  mean: FloatArray;
  var: FloatArray;
}

export interface BatchNormOptions {
  /** Batch statistics (and a running-stat update) when true; running statistics when false. */
  training: boolean;
  /** The running statistics' update weight (0.1). */
  momentum?: number;
  /** Added to the variance before the square root (1e-5). */
  eps?: number;
}

/**
 * y = (x - μ) / √(σ² + eps) · weight + bias per channel (dimension 1).
 * Training: μ, σ² are the batch's mean and biased variance, and the running
 * statistics move as running = (1 - momentum)·running + momentum·stat, with
 * the unbiased variance for running.var (PyTorch's rule); the gradient flows
 * through the batch statistics. Eval: μ, σ² are the running statistics and
 * the op is an affine map. weight and bias may be null (no affine part);
 * running may be null in training (nothing is tracked).
 */
export function batchNorm(x: Tensor, weight: Tensor | null, bias: Tensor | null, running: RunningStats | null, opts: BatchNormOptions): Tensor {
  const params = [weight, bias].filter((t): t is Tensor => t !== null);
  const dtype = sameDType('batchNorm', [x, ...params]);
  if (opts === undefined || opts === null || typeof opts.training !== 'boolean') {
    throw new OptionError('batchNorm needs { training: boolean }', 'pass training: true while training and false to evaluate');
  }
  const momentum = opts.momentum ?? 0.1;
  const eps = opts.eps ?? 1e-5;
  if (!(momentum >= 0 && momentum <= 1)) throw new OptionError(`batchNorm momentum ${momentum} is outside [0, 1]`, 'use a momentum in [0, 1], e.g. 0.1');
  if (!(eps > 0) || !Number.isFinite(eps)) throw new OptionError(`batchNorm eps ${eps} is not a positive number`, 'use a small positive eps, e.g. 1e-5');
  if (x.ndim !== 2 && x.ndim !== 4) {
    throw new OptionError(`batchNorm of input ${shapeString(x.shape)}`, 'the input is [N, C] (1d) or [N, C, H, W] (2d)');
  }
  const N = x.shape[0];
  const C = x.shape[1];
  const HW = x.ndim === 4 ? x.shape[2] * x.shape[3] : 1;
  const M = N * HW;
  for (const [name, t] of [['weight', weight], ['bias', bias]] as const) {
    if (t && (t.ndim !== 1 || t.shape[0] !== C)) {
      throw new OptionError(`batchNorm ${name} ${shapeString(t.shape)} for input ${shapeString(x.shape)}`, `the ${name} is [C] = [${C}]`);
    }
  }
  if (running && (running.mean.length !== C || running.var.length !== C)) {
    throw new OptionError(
      `batchNorm running statistics of ${running.mean.length} and ${running.var.length} channels for input ${shapeString(x.shape)}`,
      `running.mean and running.var hold one value per channel (${C})`,
    );
  }
  if (!opts.training && !running) throw new OptionError('batchNorm in eval mode without running statistics', 'pass the running { mean, var } the layer tracked in training');
  if (opts.training && M < 2) {
    throw new OptionError(`batchNorm in training needs more than one value per channel, got input ${shapeString(x.shape)}`, 'use a batch of at least 2 (or evaluate with training: false)');
  }

  const X = x.data;
  const CHW = C * HW;
  const mean = new Float64Array(C);
  const invstd = new Float64Array(C);
  if (opts.training) {
    for (let c = 0; c < C; c++) {
      let s = 0;
      for (let n = 0; n < N; n++) {
        for (let i = n * CHW + c * HW, e = i + HW; i < e; i++) s += X[i];
      }
      const mu = s / M;
      let q = 0;
      for (let n = 0; n < N; n++) {
        for (let i = n * CHW + c * HW, e = i + HW; i < e; i++) {
          const d = X[i] - mu;
          q += d * d;
        }
      }
      const v = q / M;
      mean[c] = mu;
      invstd[c] = 1 / Math.sqrt(v + eps);
      if (running) {
        running.mean[c] = (1 - momentum) * running.mean[c] + momentum * mu;
        running.var[c] = (1 - momentum) * running.var[c] + momentum * (q / (M - 1));
      }
    }
  } else {
    for (let c = 0; c < C; c++) {
      mean[c] = running!.mean[c];
      invstd[c] = 1 / Math.sqrt(running!.var[c] + eps);
    }
  }

  const Wt = weight?.data ?? null;
  const Bt = bias?.data ?? null;
  const out = alloc(dtype, x.size);
  for (let c = 0; c < C; c++) {
    const mu = mean[c];
    const sc = invstd[c] * (Wt ? Wt[c] : 1);
    const b = Bt ? Bt[c] : 0;
    for (let n = 0; n < N; n++) {
      for (let i = n * CHW + c * HW, e = i + HW; i < e; i++) out[i] = (X[i] - mu) * sc + b;
    }
  }

  const training = opts.training;
  return opResult('batchNorm', out, x.shape, [x, ...params], (g) => {
    const dx = x.requiresGrad ? alloc(dtype, x.size) : null;
    const dw = weight && weight.requiresGrad ? alloc(dtype, C) : null;
    const db = bias && bias.requiresGrad ? alloc(dtype, C) : null;
    for (let c = 0; c < C; c++) {
      const mu = mean[c];
      const is = invstd[c];
      // Σ g and Σ g·x̂ over the channel, x̂ recomputed from x.
      let sg = 0;
      let sgx = 0;
      for (let n = 0; n < N; n++) {
        for (let i = n * CHW + c * HW, e = i + HW; i < e; i++) {
          sg += g[i];
          sgx += g[i] * ((X[i] - mu) * is);
        }
      }
      if (dw) dw[c] = sgx;
      if (db) db[c] = sg;
      if (!dx) continue;
      const k = is * (Wt ? Wt[c] : 1);
      if (training) {
        // dx = w/σ · (g - mean(g) - x̂·mean(g·x̂)), the gradient through μ and σ².
        const mg = sg / M;
        const mgx = sgx / M;
        for (let n = 0; n < N; n++) {
          for (let i = n * CHW + c * HW, e = i + HW; i < e; i++) dx[i] = k * (g[i] - mg - (X[i] - mu) * is * mgx);
        }
      } else {
        for (let n = 0; n < N; n++) {
          for (let i = n * CHW + c * HW, e = i + HW; i < e; i++) dx[i] = k * g[i];
        }
      }
    }
    if (dx) accumulateGrad(x, dx);
    if (dw) accumulateGrad(weight!, dw);
    if (db) accumulateGrad(bias!, db);
  });
}
