/** Spatial pooling over [N, C, H, W]: max, average, and global average. */
import { OptionError } from '../../errors.js';
import { accumulateGrad, opResult } from '../autograd.js';
import { alloc, shapeString, Tensor } from '../tensor.js';
import { intOption } from './conv.js';

export interface Pool2dOptions {
  /** The window's side. */
  kernel: number;
  /** The step between windows (the kernel). */
  stride?: number;
  /** Padding on every side (0); at most kernel / 2, as in PyTorch. */
  padding?: number;
}

interface PoolGeometry {
  N: number; C: number; H: number; W: number;
  K: number; S: number; P: number; OH: number; OW: number;
}

function poolGeometry(op: string, x: Tensor, opts: Pool2dOptions): PoolGeometry {
  if (opts === undefined || opts === null || typeof opts !== 'object') {
    throw new OptionError(`${op} needs options`, 'pass { kernel, stride?, padding? }');
  }
  const K = intOption(op, 'kernel', opts.kernel, 1);
  const S = intOption(op, 'stride', opts.stride ?? K, 1);
  const P = intOption(op, 'padding', opts.padding ?? 0, 0);
  if (2 * P > K) throw new OptionError(`${op} padding ${P} is more than half the kernel ${K}`, 'use padding ≤ kernel / 2 (every window must overlap the image)');
  if (x.ndim !== 4) throw new OptionError(`${op} of input ${shapeString(x.shape)}`, 'the input is [N, C, H, W]');
  const [N, C, H, W] = x.shape;
  if (H + 2 * P < K || W + 2 * P < K) {
    throw new OptionError(`${op} kernel ${K} does not fit input ${shapeString(x.shape)} with padding ${P}`, 'use a kernel no larger than the padded image');
  }
  const OH = Math.floor((H + 2 * P - K) / S) + 1;
  const OW = Math.floor((W + 2 * P - K) / S) + 1;
  return { N, C, H, W, K, S, P, OH, OW };
}

/**
 * Max over each window (padding never wins). Ties go to the first maximum in
 * scan order (row by row), and NaN propagates, as in PyTorch; the gradient
 * flows to that one element.
 */
export function maxPool2d(x: Tensor, opts: Pool2dOptions): Tensor {
  const { N, C, H, W, K, S, P, OH, OW } = poolGeometry('maxPool2d', x, opts);
  const X = x.data;
  const out = alloc(x.dtype, N * C * OH * OW);
  // Index of each output's maximum within its input plane.
  const arg = new Int32Array(out.length);
  const HW = H * W;
  let o = 0;
  for (let plane = 0; plane < N * C; plane++) {
    const base = plane * HW;
    for (let oh = 0; oh < OH; oh++) {
      const h0 = Math.max(0, oh * S - P);
      const h1 = Math.min(H, oh * S - P + K);
      for (let ow = 0; ow < OW; ow++, o++) {
        const w0 = Math.max(0, ow * S - P);
        const w1 = Math.min(W, ow * S - P + K);
        let best = -Infinity;
        let at = h0 * W + w0;
        for (let h = h0; h < h1; h++) {
          for (let i = h * W + w0, e = h * W + w1; i < e; i++) {
            const v = X[base + i];
            if (v > best || v !== v) {
              best = v;
              at = i;
              if (v !== v) break;
            }
          }
          if (best !== best) break;
        }
        out[o] = best;
        arg[o] = at;
      }
    }
  }
  const OHW = OH * OW;
  return opResult('maxPool2d', out, [N, C, OH, OW], [x], (g) => {
    const dx = alloc(x.dtype, x.size);
    for (let i = 0; i < g.length; i++) dx[((i / OHW) | 0) * HW + arg[i]] += g[i];
    accumulateGrad(x, dx);
  });
}

/** Mean over each window, padding counted as zeros in the divisor (PyTorch's count_include_pad=true). */
export function avgPool2d(x: Tensor, opts: Pool2dOptions): Tensor {
  const { N, C, H, W, K, S, P, OH, OW } = poolGeometry('avgPool2d', x, opts);
  const X = x.data;
  const out = alloc(x.dtype, N * C * OH * OW);
  const HW = H * W;
  // Without ceil mode every window lies inside the padded image, so the divisor is K·K.
  const area = K * K;
  let o = 0;
  for (let plane = 0; plane < N * C; plane++) {
    const base = plane * HW;
    for (let oh = 0; oh < OH; oh++) {
      const h0 = Math.max(0, oh * S - P);
      const h1 = Math.min(H, oh * S - P + K);
      for (let ow = 0; ow < OW; ow++, o++) {
        const w0 = Math.max(0, ow * S - P);
        const w1 = Math.min(W, ow * S - P + K);
        let s = 0;
        for (let h = h0; h < h1; h++) {
          for (let i = base + h * W + w0, e = base + h * W + w1; i < e; i++) s += X[i];
        }
        out[o] = s / area;
      }
    }
  }
  return opResult('avgPool2d', out, [N, C, OH, OW], [x], (g) => {
    const dx = alloc(x.dtype, x.size);
    let j = 0;
    for (let plane = 0; plane < N * C; plane++) {
      const base = plane * HW;
      for (let oh = 0; oh < OH; oh++) {
        const h0 = Math.max(0, oh * S - P);
        const h1 = Math.min(H, oh * S - P + K);
        for (let ow = 0; ow < OW; ow++, j++) {
          const w0 = Math.max(0, ow * S - P);
          const w1 = Math.min(W, ow * S - P + K);
          const gi = g[j] / area;
          for (let h = h0; h < h1; h++) {
            for (let i = base + h * W + w0, e = base + h * W + w1; i < e; i++) dx[i] += gi;
          }
        }
      }
    }
    accumulateGrad(x, dx);
  });
}

/** Mean over each whole plane: [N, C, H, W] → [N, C] (ResNet's head). */
export function globalAvgPool2d(x: Tensor): Tensor {
  if (x.ndim !== 4 || x.shape[2] * x.shape[3] === 0) {
    throw new OptionError(`globalAvgPool2d of input ${shapeString(x.shape)}`, 'the input is [N, C, H, W] with H, W ≥ 1');
  }
  const [N, C, H, W] = x.shape;
  const HW = H * W;
  const X = x.data;
  const out = alloc(x.dtype, N * C);
  for (let p = 0; p < N * C; p++) {
    let s = 0;
    for (let i = p * HW, e = i + HW; i < e; i++) s += X[i];
    out[p] = s / HW;
  }
  return opResult('globalAvgPool2d', out, [N, C], [x], (g) => {
    const dx = alloc(x.dtype, x.size);
    for (let p = 0; p < N * C; p++) dx.fill(g[p] / HW, p * HW, (p + 1) * HW);
    accumulateGrad(x, dx);
  });
}
