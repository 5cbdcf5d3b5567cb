/**
 * 2-D convolution, lowered to the one GEMM. A batched im2col lays every
 * receptive field of every image side by side — col is [C·KH·KW, N·OH·OW] —
 * so each pass (forward, dW, dx) is a single large matrix product. im2col,
 * col2im and the [OC, N, ·] ↔ [N, OC, ·] permutes are backend kernels
 * (src/backend/conv.ts holds their reference loops).
 */
import { getBackend } from '../../backend/index.js';
import { referenceCol2im, referenceIm2col, referenceSwap01 } from '../../backend/conv.js';
import type { ConvGeometry } from '../../backend/kernels.js';
import { OptionError } from '../../errors.js';
import { accumulateGrad, isGradEnabled, opResult } from '../autograd.js';
import { layerGemm, type Product } from '../gemm.js';
import { alloc, shapeString, Tensor, type DType, type FloatArray } from '../tensor.js';

export interface Conv2dOptions {
  /** The step between receptive fields, the same along both axes (1). */
  stride?: number;
  /** Zeros added on every side, the same along both axes (0). */
  padding?: number;
  /** The layer's products in emulated arithmetic (an accumulator model); default the one fp32 gemm. */
  product?: Product | null;
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

/** The data movement on the backend's kernels for float32, on the reference loops for float64 (gradient checks). */
function im2col(x: FloatArray, col: FloatArray, g: ConvGeometry): void {
  if (x instanceof Float32Array && col instanceof Float32Array) getBackend().im2col(x, col, g);
  else referenceIm2col(x, col, g);
}

function col2im(col: FloatArray, dx: FloatArray, g: ConvGeometry): void {
  if (col instanceof Float32Array && dx instanceof Float32Array) getBackend().col2im(col, dx, g);
  else referenceCol2im(col, dx, g);
}

/** [A, B, inner] → [B, A, inner]. */
function swap01(src: FloatArray, dst: FloatArray, a: number, b: number, inner: number): void {
  if (src instanceof Float32Array && dst instanceof Float32Array) getBackend().swap01(src, dst, a, b, inner);
  else referenceSwap01(src, dst, a, b, inner);
}

/**
 * float32 work arrays that never leave conv2d (the un-permuted output, the
 * permuted gradient, dcol, and col when the backward pass will not need
 * it), one per slot, grown and reused across calls instead of allocated per
 * call. None is ever captured by a backward closure or handed to
 * accumulateGrad (which takes ownership). Past SCRATCH_MAX elements a fresh
 * array is used, so a huge layer does not pin its memory for good.
 */
const SCRATCH_MAX = 1 << 24;
const scratchPool: Float32Array[] = [];
enum Scratch { Col, OutT, GradT, DCol }

function scratch(dtype: DType, slot: Scratch, n: number): FloatArray {
  if (dtype !== 'float32' || n > SCRATCH_MAX) return alloc(dtype, n);
  let s = scratchPool[slot];
  if (!s || s.length < n) scratchPool[slot] = s = new Float32Array(n);
  return s.subarray(0, n);
}

/**
 * col arrays kept for dW belong to their backward closure, which runs at
 * most once (autograd drops it after); once it has used col it hands the
 * array back here, and the next forward of the same size takes it instead
 * of allocating and zero-filling a fresh one (im2col writes every entry).
 */
const SPARE_COLS = 4;
const spareCols: Float32Array[] = [];

function takeCol(dtype: DType, n: number): FloatArray {
  const i = dtype === 'float32' ? spareCols.findIndex((a) => a.length === n) : -1;
  return i >= 0 ? spareCols.splice(i, 1)[0] : alloc(dtype, n);
}

function giveBackCol(col: FloatArray): void {
  if (!(col instanceof Float32Array) || col.length > SCRATCH_MAX) return;
  spareCols.push(col);
  if (spareCols.length > SPARE_COLS) spareCols.shift();
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
  const geo: ConvGeometry = { N, C, H, W, KH, KW, OH, OW, stride: S, padding: P };

  // col is needed again only for dW: then it is the closure's own array, else scratch.
  const keepCol = isGradEnabled() && w.requiresGrad;
  const col = keepCol ? takeCol(dtype, CKK * L) : scratch(dtype, Scratch.Col, CKK * L);
  im2col(x.data, col, geo);
  const Wd = w.data;
  // out' [OC, N·OH·OW]; each sum starts from its bias, as in linear().
  const outT = scratch(dtype, Scratch.OutT, OC * L);
  if (bias) for (let oc = 0; oc < OC; oc++) outT.fill(bias.data[oc], oc * L, (oc + 1) * L);
  const product = opts.product;
  const overflowed = layerGemm(product, 'forward', false, false, OC, L, CKK, Wd, col, outT, bias !== null);
  const out = alloc(dtype, N * OC * OHW);
  swap01(outT, out, OC, N, OHW);

  const inputs = bias ? [x, w, bias] : [x, w];
  return opResult('conv2d', out, [N, OC, OH, OW], inputs, (g) => {
    const gT = scratch(dtype, Scratch.GradT, OC * L);
    swap01(g, gT, N, OC, OHW);
    // No gradient through outputs whose emulated accumulation overflowed (when the product asks for it).
    if (overflowed) for (let i = 0; i < gT.length; i++) if (overflowed[i]) gT[i] = 0;
    if (w.requiresGrad && keepCol) {
      const dW = alloc(dtype, w.size);
      layerGemm(product, 'weight-gradient', false, true, OC, CKK, L, gT, col, dW, false);
      giveBackCol(col);
      accumulateGrad(w, dW);
    }
    if (x.requiresGrad) {
      const dcol = scratch(dtype, Scratch.DCol, CKK * L);
      layerGemm(product, 'input-gradient', true, false, CKK, L, OC, Wd, gT, dcol, false);
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
