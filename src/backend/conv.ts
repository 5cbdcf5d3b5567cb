/**
 * Convolution's data movement, the one reference copy (the js backend runs
 * it on float32, the tensor ops on float64; kernels/layers.h matches it):
 * a batched im2col — col is [C·KH·KW, N·OH·OW], row (c·KH + kh)·KW + kw,
 * column n·OH·OW + oh·OW + ow — its adjoint col2im, and the swap of the two
 * outer axes that moves between [OC, N, OH·OW] and [N, OC, OH·OW].
 */
import type { ConvGeometry } from './kernels.js';
import { overlaps } from './overlap.js';

type FloatArray = Float32Array | Float64Array;

/** The kernels' geometry vector (kernels/precis.h, pc_conv_geo, in order). */
export function convParams(g: ConvGeometry): Float64Array {
  return Float64Array.of(g.N, g.C, g.H, g.W, g.KH, g.KW, g.OH, g.OW, g.stride, g.padding);
}

function size(op: string, name: string, v: number, min: number): void {
  if (!Number.isSafeInteger(v) || v < min) throw new RangeError(`${op}: ${name} must be an integer ≥ ${min}, got ${v}`);
}

/** Checks a geometry and the two arrays' lengths (every backend calls this first). */
export function checkConv(op: 'im2col' | 'col2im', g: ConvGeometry, input: FloatArray, output: FloatArray): void {
  for (const k of ['N', 'C', 'H', 'W', 'OH', 'OW', 'padding'] as const) size(op, k, g[k], 0);
  for (const k of ['KH', 'KW', 'stride'] as const) size(op, k, g[k], 1);
  const { H, W, KH, KW, stride: S, padding: P } = g;
  if (H + 2 * P < KH || W + 2 * P < KW || g.OH !== Math.floor((H + 2 * P - KH) / S) + 1 || g.OW !== Math.floor((W + 2 * P - KW) / S) + 1) {
    throw new RangeError(`${op}: OH×OW ${g.OH}×${g.OW} is not the output of ${H}×${W} by ${KH}×${KW}, stride ${S}, padding ${P}`);
  }
  const xs = g.N * g.C * H * W;
  const cs = g.C * KH * KW * g.N * g.OH * g.OW;
  const [inLen, outLen] = op === 'im2col' ? [xs, cs] : [cs, xs];
  if (input.length < inLen || output.length < outLen) {
    throw new RangeError(`${op}: arrays of ${input.length} and ${output.length} elements; the geometry needs ${inLen} and ${outLen}`);
  }
  if (inLen > 0 && outLen > 0 && overlaps(input, output)) throw new RangeError(`${op}: the input and output arrays must not overlap`);
}

/** Output positions o in [lo, hi) whose input index o·S − P + k lies in 0..size−1 (hi = lo: none). */
function validRange(size: number, out: number, k: number, S: number, P: number): [number, number] {
  const lo = Math.min(out, Math.max(0, Math.ceil((P - k) / S)));
  const hi = Math.max(lo, Math.min(out, Math.floor((size - 1 + P - k) / S) + 1));
  return [lo, hi];
}

/** col[(c·KH + kh)·KW + kw, n·OH·OW + oh·OW + ow] = x[n, c, oh·S − P + kh, ow·S − P + kw], 0 in the padding. */
export function referenceIm2col(x: FloatArray, col: FloatArray, g: ConvGeometry): void {
  const { N, C, H, W, KH, KW, OH, OW, stride: S, padding: P } = g;
  const OHW = OH * OW;
  const L = N * OHW;
  for (let r = 0; r < C * KH * KW; r++) {
    const kw = r % KW, kh = Math.floor(r / KW) % KH, c = Math.floor(r / (KW * KH));
    const [oh0, oh1] = validRange(H, OH, kh, S, P);
    const [ow0, ow1] = validRange(W, OW, kw, S, P);
    for (let n = 0; n < N; n++) {
      const plane = (n * C + c) * H * W;
      const dst = r * L + n * OHW;
      col.fill(0, dst, dst + OHW);
      for (let oh = oh0; oh < oh1; oh++) {
        const src = plane + (oh * S - P + kh) * W + kw - P;
        const row = dst + oh * OW;
        for (let ow = ow0; ow < ow1; ow++) col[row + ow] = x[src + ow * S];
      }
    }
  }
}

/**
 * The adjoint of im2col, per input plane (n, c): each dx element starts at
 * +0 and adds the col entries im2col read from it in (kh, kw) order.
 */
export function referenceCol2im(col: FloatArray, dx: FloatArray, g: ConvGeometry): void {
  const { N, C, H, W, KH, KW, OH, OW, stride: S, padding: P } = g;
  const OHW = OH * OW;
  const L = N * OHW;
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const plane = (n * C + c) * H * W;
      dx.fill(0, plane, plane + H * W);
      for (let kh = 0; kh < KH; kh++) {
        const [oh0, oh1] = validRange(H, OH, kh, S, P);
        for (let kw = 0; kw < KW; kw++) {
          const [ow0, ow1] = validRange(W, OW, kw, S, P);
          const src = ((c * KH + kh) * KW + kw) * L + n * OHW;
          for (let oh = oh0; oh < oh1; oh++) {
            const row = plane + (oh * S - P + kh) * W + kw - P;
            const s = src + oh * OW;
            for (let ow = ow0; ow < ow1; ow++) dx[row + ow * S] += col[s + ow];
          }
        }
      }
    }
  }
}

/** Checks swap01's sizes and arrays (every backend calls this first). */
export function checkSwap01(src: FloatArray, dst: FloatArray, a: number, b: number, inner: number): void {
  size('swap01', 'a', a, 0);
  size('swap01', 'b', b, 0);
  size('swap01', 'inner', inner, 0);
  const n = a * b * inner;
  if (src.length < n || dst.length < n) throw new RangeError(`swap01: arrays of ${src.length} and ${dst.length} elements; [${a}, ${b}, ${inner}] needs ${n}`);
  if (n > 0 && overlaps(src, dst)) throw new RangeError('swap01: src and dst must not overlap');
}

/** dst[j, i, :] = src[i, j, :] for src [a, b, inner]. */
export function referenceSwap01(src: FloatArray, dst: FloatArray, a: number, b: number, inner: number): void {
  for (let i = 0; i < a; i++) {
    for (let j = 0; j < b; j++) dst.set(src.subarray((i * b + j) * inner, (i * b + j + 1) * inner), (j * a + i) * inner);
  }
}
