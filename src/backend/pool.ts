/**
 * Pooling over planes, the one reference copy (the js backend runs it on
 * float32, the tensor ops on float64; kernels/layers.h matches it). Windows
 * are clipped to the image; padding never wins a maximum and counts as
 * zeros in a mean (PyTorch's count_include_pad).
 */
import type { PoolGeometry } from './kernels.js';

type FloatArray = Float32Array | Float64Array;

/** The kernels' geometry vector (kernels/precis.h, pc_pool_geo, in order). */
export function poolParams(g: PoolGeometry): Float64Array {
  return Float64Array.of(g.planes, g.H, g.W, g.K, g.stride, g.padding, g.OH, g.OW);
}

/** Checks a geometry and the lengths of the image-side and output-side arrays (every backend calls this first). */
export function checkPool(op: string, g: PoolGeometry, image: FloatArray, output: FloatArray | Int32Array, arg: Int32Array | null): void {
  for (const k of ['planes', 'H', 'W', 'padding', 'OH', 'OW'] as const) {
    if (!Number.isSafeInteger(g[k]) || g[k] < 0) throw new RangeError(`${op}: ${k} must be a non-negative integer, got ${g[k]}`);
  }
  for (const k of ['K', 'stride'] as const) {
    if (!Number.isSafeInteger(g[k]) || g[k] < 1) throw new RangeError(`${op}: ${k} must be a positive integer, got ${g[k]}`);
  }
  const { H, W, K, stride: S, padding: P } = g;
  if (2 * P > K || H + 2 * P < K || W + 2 * P < K || g.OH !== Math.floor((H + 2 * P - K) / S) + 1 || g.OW !== Math.floor((W + 2 * P - K) / S) + 1) {
    throw new RangeError(`${op}: OH×OW ${g.OH}×${g.OW} is not the output of ${H}×${W} by a ${K}×${K} window, stride ${S}, padding ${P}`);
  }
  const xs = g.planes * H * W;
  const os = g.planes * g.OH * g.OW;
  if (image.length < xs || output.length < os || (arg !== null && arg.length < os)) {
    throw new RangeError(`${op}: arrays too short for ${g.planes} planes of ${H}×${W} → ${g.OH}×${g.OW}`);
  }
}

/** Checks maxPool2dBackward's argmax indices: each must lie inside its plane. */
export function checkArgmax(arg: Int32Array, g: PoolGeometry): void {
  const HW = g.H * g.W;
  for (let i = 0, n = g.planes * g.OH * g.OW; i < n; i++) {
    if (!(arg[i] >= 0 && arg[i] < HW)) throw new RangeError(`maxPool2dBackward: argmax index ${arg[i]} at ${i} is outside its ${g.H}×${g.W} plane`);
  }
}

/** The window [lo, hi) of output position o along an axis of `size`. */
function window(o: number, S: number, P: number, K: number, size: number): [number, number] {
  return [Math.max(0, o * S - P), Math.min(size, o * S - P + K)];
}

/**
 * Max over each window; ties go to the first maximum in scan order (row by
 * row) and a NaN wins at once, as in PyTorch. arg gets the winner's index
 * within its plane.
 */
export function referenceMaxPool(x: FloatArray, out: FloatArray, arg: Int32Array, g: PoolGeometry): void {
  const { planes, H, W, K, stride: S, padding: P, OH, OW } = g;
  let o = 0;
  for (let plane = 0; plane < planes; plane++) {
    const base = plane * H * W;
    for (let oh = 0; oh < OH; oh++) {
      const [h0, h1] = window(oh, S, P, K, H);
      for (let ow = 0; ow < OW; ow++, o++) {
        const [w0, w1] = window(ow, S, P, K, W);
        let best = -Infinity;
        let at = h0 * W + w0;
        for (let h = h0; h < h1; h++) {
          for (let i = h * W + w0, e = h * W + w1; i < e; i++) {
            const v = x[base + i];
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
}

/** dx = +0, then each output's gradient added at its argmax, in output order. */
export function referenceMaxPoolBackward(grad: FloatArray, arg: Int32Array, dx: FloatArray, g: PoolGeometry): void {
  const HW = g.H * g.W;
  const OHW = g.OH * g.OW;
  dx.fill(0, 0, g.planes * HW);
  for (let plane = 0; plane < g.planes; plane++) {
    for (let o = plane * OHW, e = o + OHW; o < e; o++) dx[plane * HW + arg[o]] += grad[o];
  }
}

/** Mean over each window: the sum in float64 in scan order, divided by K·K. */
export function referenceAvgPool(x: FloatArray, out: FloatArray, g: PoolGeometry): void {
  const { planes, H, W, K, stride: S, padding: P, OH, OW } = g;
  const area = K * K;
  let o = 0;
  for (let plane = 0; plane < planes; plane++) {
    const base = plane * H * W;
    for (let oh = 0; oh < OH; oh++) {
      const [h0, h1] = window(oh, S, P, K, H);
      for (let ow = 0; ow < OW; ow++, o++) {
        const [w0, w1] = window(ow, S, P, K, W);
        let s = 0;
        for (let h = h0; h < h1; h++) {
          for (let i = base + h * W + w0, e = base + h * W + w1; i < e; i++) s += x[i];
        }
        out[o] = s / area;
      }
    }
  }
}

/** dx = +0, then each output adds grad / (K·K) (a float64) over its window, in output order. */
export function referenceAvgPoolBackward(grad: FloatArray, dx: FloatArray, g: PoolGeometry): void {
  const { planes, H, W, K, stride: S, padding: P, OH, OW } = g;
  const area = K * K;
  dx.fill(0, 0, planes * H * W);
  let o = 0;
  for (let plane = 0; plane < planes; plane++) {
    const base = plane * H * W;
    for (let oh = 0; oh < OH; oh++) {
      const [h0, h1] = window(oh, S, P, K, H);
      for (let ow = 0; ow < OW; ow++, o++) {
        const [w0, w1] = window(ow, S, P, K, W);
        const gi = grad[o] / area;
        for (let h = h0; h < h1; h++) {
          for (let i = base + h * W + w0, e = base + h * W + w1; i < e; i++) dx[i] += gi;
        }
      }
    }
  }
}
