/** Spatial pooling over [N, C, H, W]: max, average, and global average. */
import { getBackend } from '../../backend/index.js';
import type { PoolGeometry as KernelPoolGeometry } from '../../backend/kernels.js';
import { referenceAvgPool, referenceAvgPoolBackward, referenceMaxPool, referenceMaxPoolBackward } from '../../backend/pool.js';
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

function kernelGeometry(g: PoolGeometry): KernelPoolGeometry {
  return { planes: g.N * g.C, H: g.H, W: g.W, K: g.K, stride: g.S, padding: g.P, OH: g.OH, OW: g.OW };
}

/**
 * Max over each window (padding never wins). Ties go to the first maximum in
 * scan order (row by row), and NaN propagates, as in PyTorch; the gradient
 * flows to that one element. float32 runs on the backend's kernels, float64
 * on their reference loops (src/backend/pool.ts).
 */
export function maxPool2d(x: Tensor, opts: Pool2dOptions): Tensor {
  const pg = poolGeometry('maxPool2d', x, opts);
  const g = kernelGeometry(pg);
  const X = x.data;
  const out = alloc(x.dtype, g.planes * g.OH * g.OW);
  // Index of each output's maximum within its input plane.
  const arg = new Int32Array(out.length);
  if (X instanceof Float32Array && out instanceof Float32Array) getBackend().maxPool2d(X, out, arg, g);
  else referenceMaxPool(X, out, arg, g);
  return opResult('maxPool2d', out, [pg.N, pg.C, pg.OH, pg.OW], [x], (grad) => {
    const dx = alloc(x.dtype, x.size);
    if (grad instanceof Float32Array && dx instanceof Float32Array) getBackend().maxPool2dBackward(grad, arg, dx, g);
    else referenceMaxPoolBackward(grad, arg, dx, g);
    accumulateGrad(x, dx);
  });
}

/** Mean over each window, padding counted as zeros in the divisor (PyTorch's count_include_pad=true). */
export function avgPool2d(x: Tensor, opts: Pool2dOptions): Tensor {
  const pg = poolGeometry('avgPool2d', x, opts);
  const g = kernelGeometry(pg);
  const X = x.data;
  const out = alloc(x.dtype, g.planes * g.OH * g.OW);
  if (X instanceof Float32Array && out instanceof Float32Array) getBackend().avgPool2d(X, out, g);
  else referenceAvgPool(X, out, g);
  return opResult('avgPool2d', out, [pg.N, pg.C, pg.OH, pg.OW], [x], (grad) => {
    const dx = alloc(x.dtype, x.size);
    if (grad instanceof Float32Array && dx instanceof Float32Array) getBackend().avgPool2dBackward(grad, dx, g);
    else referenceAvgPoolBackward(grad, dx, g);
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
