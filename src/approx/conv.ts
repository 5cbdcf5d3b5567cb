/**
 * 2-D convolution with sampled products, built from conv2d on smaller
 * tensors (so it gets conv2d's kernels and stays bit-reproducible). In the
 * forward product a pair is an input channel; in the input gradient an
 * output channel; the weight gradient samples over the batch.
 *
 * The backward products are themselves convolutions: the input gradient is
 * the transposed convolution of g with w (a convolution of g — dilated by
 * the stride and padded by K − 1 − P — with w flipped and its channel axes
 * swapped), and the weight gradient a convolution of x with g over the
 * batch (batch and channel axes swapped, g dilated by the stride).
 */
import { OptionError } from '../errors.js';
import { accumulateGrad, noGrad, opResult } from '../tensor/autograd.js';
import { asPass, type Product } from '../tensor/gemm.js';
import { conv2d, type Conv2dOptions } from '../tensor/ops/conv.js';
import { alloc, shapeString, Tensor, type DType, type FloatArray } from '../tensor/tensor.js';
import { gatherDim1 } from './gather.js';
import { willGrad, type Pass } from './linear.js';
import type { MacCount } from './macs.js';
import { operand } from './pairs.js';
import { sampledProduct } from './product.js';
import type { Sampler } from './sampler.js';

/** The shape facts of one convolution. */
interface ConvShape {
  N: number; C: number; H: number; W: number;
  OC: number; KH: number; KW: number; OH: number; OW: number;
  S: number; P: number; dtype: DType;
}

/**
 * conv2d(x, w, bias, opts) with its products sampled by `sampler` in the
 * given pass; multiply-adds counted into `macs`. `product` is the layer's
 * emulated accumulator (null: fp32); the sampled products run through it
 * too, the backward ones labelled as the gradients they compute.
 */
export function sampledConv2d(x: Tensor, w: Tensor, bias: Tensor | null, opts: Conv2dOptions, pass: Pass, sampler: Sampler, macs?: MacCount, product: Product | null = null): Tensor {
  if (x.ndim !== 4 || w.ndim !== 4 || x.shape[1] !== w.shape[1] || x.dtype !== w.dtype) {
    throw new OptionError(`sampled conv2d of input ${shapeString(x.shape)} (${x.dtype}) and weight ${shapeString(w.shape)} (${w.dtype})`, 'the input is [N, C, H, W], the weight [OC, C, KH, KW], of one dtype');
  }
  const [N, C, H, W] = x.shape;
  const [OC, , KH, KW] = w.shape;
  const S = opts.stride ?? 1;
  const P = opts.padding ?? 0;
  if (pass === 'backward') {
    // conv2d checks the geometry; its result gives OH and OW.
    const y = noGrad(() => conv2d(x, w, bias, { ...opts, product }));
    const cs: ConvShape = { N, C, H, W, OC, KH, KW, OH: y.shape[2], OW: y.shape[3], S, P, dtype: x.dtype };
    macs?.add(OC * KH * KW * N * cs.OH * cs.OW, C, C);
    return withConvGrads('sampled-backward-conv2d', y, x, w, bias, cs, sampler, macs, product);
  }
  const s = sampler('forward', operand(x.data, N, C, H * W), operand(w.data, OC, C, KH * KW));
  const withProduct = { ...opts, product };
  const sampled = () => (s ? conv2d(gatherDim1(x, { index: s.index, scale: null }), gatherDim1(w, s), bias, withProduct) : conv2d(x, w, bias, withProduct));
  const kept = s ? s.index.length : C;
  if (pass === 'forward') {
    const y = sampled();
    const perPair = OC * KH * KW * N * y.shape[2] * y.shape[3];
    // The backward of the smaller convolution is smaller too: both gradients run over the kept channels.
    macs?.add(perPair, C, kept);
    if (willGrad(x)) macs?.add(perPair, C, kept);
    if (willGrad(w)) macs?.add(perPair, C, kept);
    return y;
  }
  const y = noGrad(sampled);
  const cs: ConvShape = { N, C, H, W, OC, KH, KW, OH: y.shape[2], OW: y.shape[3], S, P, dtype: x.dtype };
  macs?.add(OC * KH * KW * N * cs.OH * cs.OW, C, kept);
  return withConvGrads('blackbox-conv2d', y, x, w, bias, cs, () => null, macs, product);
}

/** y's values, with a backward that computes x's and w's gradients by the (possibly sampled) products. */
function withConvGrads(op: string, y: Tensor, x: Tensor, w: Tensor, bias: Tensor | null, cs: ConvShape, sampler: Sampler, macs?: MacCount, product: Product | null = null): Tensor {
  const { N, C, H, W, OC, KH, KW, OH, OW } = cs;
  const X = x.data;
  const Wd = w.data;
  return opResult(op, y.data, y.shape, bias ? [x, w, bias] : [x, w], (g) => {
    if (x.requiresGrad) {
      // dx: pairs are the output channels, of g [N, OC, OH·OW] and w [OC, C·KH·KW].
      const gOp = operand(g, N, OC, OH * OW);
      const wOp = operand(Wd, 1, OC, C * KH * KW);
      accumulateGrad(x, sampledProduct(sampler('input-grad', gOp, wOp), gOp, wOp, C * KH * KW * N * OH * OW, x.size, macs, (k, gS, wS) => convInputGrad(gS, wS, k, cs, asPass(product, 'input-gradient'))));
    }
    if (w.requiresGrad) {
      // dW: pairs are the images, of g [N, OC·OH·OW] and x [N, C·H·W].
      const gOp = operand(g, 1, N, OC * OH * OW);
      const xOp = operand(X, 1, N, C * H * W);
      accumulateGrad(w, sampledProduct(sampler('weight-grad', gOp, xOp), gOp, xOp, OC * C * KH * KW * OH * OW, w.size, macs, (k, gS, xS) => convWeightGrad(xS, gS, k, cs, asPass(product, 'weight-gradient'))));
    }
    if (bias && bias.requiresGrad) accumulateGrad(bias, channelSums(g, N, OC, OH * OW, cs.dtype));
  });
}

/** Σ over images and positions of g [N, OC, OHW], per channel, images in order. */
function channelSums(g: FloatArray, N: number, OC: number, OHW: number, dtype: DType): FloatArray {
  const out = alloc(dtype, OC);
  for (let oc = 0; oc < OC; oc++) {
    let s = 0;
    for (let n = 0; n < N; n++) for (let j = (n * OC + oc) * OHW, e = j + OHW; j < e; j++) s += g[j];
    out[oc] = s;
  }
  return out;
}

/**
 * dx [N, C, H, W] from g [N, O, OH, OW] and w [O, C, KH, KW] (O output
 * channels, all or the sampled ones): the transposed convolution.
 * dx[n,c,h,v] = Σ g[n,o,i,j]·w[o,c,kh,kw] over i·S − P + kh = h, j·S − P + kw = v.
 * Placing g[n,o,i,j] at (i·S + KH − 1 − P, j·S + KW − 1 − P) of a zero
 * [H + KH − 1, W + KW − 1] plane makes that an unpadded convolution with the
 * flipped kernel; with stride 1 and a square kernel the plane is just g
 * padded by K − 1 − P, which conv2d does itself.
 */
export function convInputGrad(g: FloatArray, w: FloatArray, O: number, cs: Pick<ConvShape, 'N' | 'C' | 'H' | 'W' | 'KH' | 'KW' | 'OH' | 'OW' | 'S' | 'P' | 'dtype'>, product: Product | null = null): FloatArray {
  const { N, C, H, W, KH, KW, OH, OW, S, P, dtype } = cs;
  const KK = KH * KW;
  const wT = alloc(dtype, C * O * KK); // [C, O, KH, KW], flipped
  for (let o = 0; o < O; o++) {
    for (let c = 0; c < C; c++) {
      const src = (o * C + c) * KK;
      const dst = (c * O + o) * KK;
      for (let kh = 0; kh < KH; kh++) for (let kw = 0; kw < KW; kw++) wT[dst + (KH - 1 - kh) * KW + (KW - 1 - kw)] = w[src + kh * KW + kw];
    }
  }
  const kernel = new Tensor(wT, [C, O, KH, KW]);
  if (S === 1 && KH === KW && P <= KH - 1) {
    return noGrad(() => conv2d(new Tensor(g, [N, O, OH, OW]), kernel, null, { padding: KH - 1 - P, product })).data;
  }
  const PH = H + KH - 1;
  const PW = W + KW - 1;
  const plane = alloc(dtype, N * O * PH * PW);
  for (let m = 0; m < N * O; m++) {
    for (let i = 0; i < OH; i++) {
      const r = i * S + KH - 1 - P;
      if (r < 0 || r >= PH) continue;
      for (let j = 0; j < OW; j++) {
        const q = j * S + KW - 1 - P;
        if (q >= 0 && q < PW) plane[(m * PH + r) * PW + q] = g[(m * OH + i) * OW + j];
      }
    }
  }
  return noGrad(() => conv2d(new Tensor(plane, [N, O, PH, PW]), kernel, null, { product })).data;
}

/**
 * dW [O, C, KH, KW] from x [B, C, H, W] and g [B, O, OH, OW] over B images
 * (all or the sampled ones): dW[o,c,kh,kw] = Σ g[b,o,i,j]·x[b,c,i·S − P + kh, j·S − P + kw],
 * a convolution of x as [C, B, H, W] (padding P) with g as [O, B, …]
 * dilated by the stride; its first KH × KW outputs are dW, channel axes swapped.
 */
export function convWeightGrad(x: FloatArray, g: FloatArray, B: number, cs: Pick<ConvShape, 'C' | 'H' | 'W' | 'OC' | 'KH' | 'KW' | 'OH' | 'OW' | 'S' | 'P' | 'dtype'>, product: Product | null = null): FloatArray {
  const { C, H, W, OC: O, KH, KW, OH, OW, S, P, dtype } = cs;
  const HW = H * W;
  const xT = alloc(dtype, C * B * HW);
  for (let b = 0; b < B; b++) for (let c = 0; c < C; c++) xT.set(x.subarray((b * C + c) * HW, (b * C + c + 1) * HW), (c * B + b) * HW);
  const DH = (OH - 1) * S + 1;
  const DW = (OW - 1) * S + 1;
  const gT = alloc(dtype, O * B * DH * DW);
  for (let b = 0; b < B; b++) {
    for (let o = 0; o < O; o++) {
      const src = (b * O + o) * OH * OW;
      const dst = (o * B + b) * DH * DW;
      if (S === 1) gT.set(g.subarray(src, src + OH * OW), dst);
      else for (let i = 0; i < OH; i++) for (let j = 0; j < OW; j++) gT[dst + i * S * DW + j * S] = g[src + i * OW + j];
    }
  }
  const r = noGrad(() => conv2d(new Tensor(xT, [C, B, H, W]), new Tensor(gT, [O, B, DH, DW]), null, { padding: P, product }));
  const [, , RH, RW] = r.shape; // ≥ KH, KW: the extra rows and columns lie past the kernel
  const dW = alloc(dtype, O * C * KH * KW);
  for (let o = 0; o < O; o++) {
    for (let c = 0; c < C; c++) {
      for (let kh = 0; kh < KH; kh++) {
        const src = ((c * O + o) * RH + kh) * RW;
        dW.set(r.data.subarray(src, src + KW), ((o * C + c) * KH + kh) * KW);
      }
    }
  }
  return dW;
}
