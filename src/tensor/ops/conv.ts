/**
 * 2-D convolution, lowered to the one GEMM. A batched im2col lays every
 * receptive field of every image side by side — col is [C·KH·KW, N·OH·OW] —
 * so each pass (forward, dW, dx) is a single large matrix product.
 */
import { OptionError } from '../../errors.js';
import { accumulateGrad, isGradEnabled, opResult } from '../autograd.js';
import { gemm } from '../gemm.js';
import { alloc, shapeString, Tensor, type DType, type FloatArray } from '../tensor.js';

export interface Conv2dOptions {
  /** The step between receptive fields, the same along both axes (1). */
  stride?: number;
  /** Zeros added on every side, the same along both axes (0). */
  padding?: number;
}

/** The common dtype of an op's operands, or an OptionError naming the op. */
export function sameDType(op: string, ts: readonly Tensor[]): DType {
  const d = ts[0].dtype;
  for (const t of ts) {
    if (t.dtype !== d) throw new OptionError(`${op} of ${ts.map((x) => x.dtype).join(' and ')} tensors`, 'convert the operands to one dtype');
  }
  return d;
}

/** Checks that an option is an integer ≥ min. */
export function intOption(op: string, name: string, v: number, min: number): number {
  if (!Number.isInteger(v) || v < min) throw new OptionError(`${op} ${name} ${v} is not an integer ≥ ${min}`, `pass ${name} as an integer ≥ ${min}`);
  return v;
}

/**
 * For each kernel offset k (0..K-1), the output positions o in [lo[k], hi[k])
 * whose input index o·S - P + k falls inside 0..size-1; hi[k] ≤ lo[k] means none.
 */
function validRanges(size: number, out: number, K: number, S: number, P: number): { lo: Int32Array; hi: Int32Array } {
  const lo = new Int32Array(K);
  const hi = new Int32Array(K);
  for (let k = 0; k < K; k++) {
    lo[k] = Math.min(out, Math.max(0, Math.ceil((P - k) / S)));
    hi[k] = Math.max(lo[k], Math.min(out, Math.floor((size - 1 + P - k) / S) + 1));
  }
  return { lo, hi };
}

/** The geometry of one convolution, shared by im2col and col2im. */
interface Geometry {
  N: number; C: number; H: number; W: number;
  KH: number; KW: number; OH: number; OW: number;
  S: number; P: number;
  hLo: Int32Array; hHi: Int32Array; wLo: Int32Array; wHi: Int32Array;
}

/** col[(c·KH + kh)·KW + kw, n·OH·OW + oh·OW + ow] = x[n, c, oh·S - P + kh, ow·S - P + kw] (0 in the padding). col must be zeroed. */
function im2col(x: FloatArray, col: FloatArray, g: Geometry): void {
  const { N, C, H, W, KH, KW, OH, OW, S, P, hLo, hHi, wLo, wHi } = g;
  const OHW = OH * OW;
  const L = N * OHW;
  const HW = H * W;
  for (let c = 0; c < C; c++) {
    for (let kh = 0; kh < KH; kh++) {
      const oh0 = hLo[kh];
      const oh1 = hHi[kh];
      for (let kw = 0; kw < KW; kw++) {
        const ow0 = wLo[kw];
        const ow1 = wHi[kw];
        const shiftW = kw - P;
        const rowBase = ((c * KH + kh) * KW + kw) * L;
        for (let n = 0; n < N; n++) {
          const plane = (n * C + c) * HW;
          const dstImage = rowBase + n * OHW;
          for (let oh = oh0; oh < oh1; oh++) {
            const src = plane + (oh * S - P + kh) * W + shiftW;
            const dst = dstImage + oh * OW;
            if (S === 1) {
              for (let ow = ow0; ow < ow1; ow++) col[dst + ow] = x[src + ow];
            } else {
              for (let ow = ow0; ow < ow1; ow++) col[dst + ow] = x[src + ow * S];
            }
          }
        }
      }
    }
  }
}

/** The adjoint of im2col: dx[n, c, ih, iw] += every col entry im2col read from it, in im2col's order. */
function col2im(col: FloatArray, dx: FloatArray, g: Geometry): void {
  const { N, C, H, W, KH, KW, OH, OW, S, P, hLo, hHi, wLo, wHi } = g;
  const OHW = OH * OW;
  const L = N * OHW;
  const HW = H * W;
  for (let c = 0; c < C; c++) {
    for (let kh = 0; kh < KH; kh++) {
      const oh0 = hLo[kh];
      const oh1 = hHi[kh];
      for (let kw = 0; kw < KW; kw++) {
        const ow0 = wLo[kw];
        const ow1 = wHi[kw];
        const shiftW = kw - P;
        const rowBase = ((c * KH + kh) * KW + kw) * L;
        for (let n = 0; n < N; n++) {
          const plane = (n * C + c) * HW;
          const srcImage = rowBase + n * OHW;
          for (let oh = oh0; oh < oh1; oh++) {
            const dst = plane + (oh * S - P + kh) * W + shiftW;
            const src = srcImage + oh * OW;
            if (S === 1) {
              for (let ow = ow0; ow < ow1; ow++) dx[dst + ow] += col[src + ow];
            } else {
              for (let ow = ow0; ow < ow1; ow++) dx[dst + ow * S] += col[src + ow];
            }
          }
        }
      }
    }
  }
}

/**
 * x [N, C, H, W] ⊛ w [OC, C, KH, KW] (+ bias [OC]) → [N, OC, OH, OW], with
 * OH = ⌊(H + 2·padding - KH) / stride⌋ + 1 (likewise OW): PyTorch's Conv2d
 * (cross-correlation, zero padding, no dilation or groups).
 */
export function conv2d(x: Tensor, w: Tensor, bias: Tensor | null = null, opts: Conv2dOptions = {}): Tensor {
  const dtype = sameDType('conv2d', bias ? [x, w, bias] : [x, w]);
  const S = intOption('conv2d', 'stride', opts.stride ?? 1, 1);
  const P = intOption('conv2d', 'padding', opts.padding ?? 0, 0);
  if (x.ndim !== 4 || w.ndim !== 4 || x.shape[1] !== w.shape[1] || (bias && (bias.ndim !== 1 || bias.shape[0] !== w.shape[0]))) {
    throw new OptionError(
      `conv2d of input ${shapeString(x.shape)}, weight ${shapeString(w.shape)}${bias ? `, bias ${shapeString(bias.shape)}` : ''}`,
      'the input is [N, C, H, W], the weight [OC, C, KH, KW] and the bias [OC]',
    );
  }
  const [N, C, H, W] = x.shape;
  const [OC, , KH, KW] = w.shape;
  if (KH < 1 || KW < 1 || H + 2 * P < KH || W + 2 * P < KW) {
    throw new OptionError(
      `conv2d kernel ${KH}×${KW} does not fit input ${shapeString(x.shape)} with padding ${P}`,
      'use a kernel no larger than the padded image (H + 2·padding, W + 2·padding)',
    );
  }
  const OH = Math.floor((H + 2 * P - KH) / S) + 1;
  const OW = Math.floor((W + 2 * P - KW) / S) + 1;
  const OHW = OH * OW;
  const L = N * OHW;
  const CKK = C * KH * KW;
  const rh = validRanges(H, OH, KH, S, P);
  const rw = validRanges(W, OW, KW, S, P);
  const geo: Geometry = { N, C, H, W, KH, KW, OH, OW, S, P, hLo: rh.lo, hHi: rh.hi, wLo: rw.lo, wHi: rw.hi };

  const col = alloc(dtype, CKK * L);
  im2col(x.data, col, geo);
  const Wd = w.data;
  // out' [OC, N·OH·OW]; each sum starts from its bias, as in linear().
  const outT = alloc(dtype, OC * L);
  if (bias) for (let oc = 0; oc < OC; oc++) outT.fill(bias.data[oc], oc * L, (oc + 1) * L);
  gemm(false, false, OC, L, CKK, Wd, col, outT, bias !== null);
  const out = alloc(dtype, N * OC * OHW);
  // [OC, N, OH·OW] → [N, OC, OH·OW]: contiguous blocks of OH·OW.
  for (let oc = 0; oc < OC; oc++) {
    for (let n = 0; n < N; n++) out.set(outT.subarray((oc * N + n) * OHW, (oc * N + n + 1) * OHW), (n * OC + oc) * OHW);
  }

  const inputs = bias ? [x, w, bias] : [x, w];
  // col is needed again only for dW; drop it otherwise.
  const keepCol = isGradEnabled() && w.requiresGrad ? col : null;
  return opResult('conv2d', out, [N, OC, OH, OW], inputs, (g) => {
    const gT = alloc(dtype, OC * L);
    for (let oc = 0; oc < OC; oc++) {
      for (let n = 0; n < N; n++) gT.set(g.subarray((n * OC + oc) * OHW, (n * OC + oc + 1) * OHW), (oc * N + n) * OHW);
    }
    if (w.requiresGrad && keepCol) {
      const dW = alloc(dtype, w.size);
      gemm(false, true, OC, CKK, L, gT, keepCol, dW, false);
      accumulateGrad(w, dW);
    }
    if (x.requiresGrad) {
      const dcol = alloc(dtype, CKK * L);
      gemm(true, false, CKK, L, OC, Wd, gT, dcol, false);
      const dx = alloc(dtype, x.size);
      col2im(dcol, dx, geo);
      accumulateGrad(x, dx);
    }
    if (bias && bias.requiresGrad) {
      const db = alloc(dtype, OC);
      for (let oc = 0; oc < OC; oc++) {
        let s = 0;
        for (let j = oc * L, e = j + L; j < e; j++) s += gT[j];
        db[oc] = s;
      }
      accumulateGrad(bias, db);
    }
  });
}
