import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  avgPool2d, backward, batchNorm, conv2d, dropout, globalAvgPool2d, maxPool2d, noGrad, sum, tensor, Tensor,
} from '../../src/tensor/index.js';
import { gradCheck, randomLeaf } from '../support/gradcheck.js';
import { Rng } from '../support/rng.js';

/** PyTorch's Conv2d written out: seven loops, no lowering. */
function naiveConv(x: Tensor, w: Tensor, b: Tensor | null, stride: number, padding: number): { data: Float64Array; shape: number[] } {
  const [N, C, H, W] = x.shape;
  const [OC, , KH, KW] = w.shape;
  const OH = Math.floor((H + 2 * padding - KH) / stride) + 1;
  const OW = Math.floor((W + 2 * padding - KW) / stride) + 1;
  const out = new Float64Array(N * OC * OH * OW);
  for (let n = 0; n < N; n++) {
    for (let oc = 0; oc < OC; oc++) {
      for (let oh = 0; oh < OH; oh++) {
        for (let ow = 0; ow < OW; ow++) {
          let s = b ? b.data[oc] : 0;
          for (let c = 0; c < C; c++) {
            for (let kh = 0; kh < KH; kh++) {
              for (let kw = 0; kw < KW; kw++) {
                const ih = oh * stride - padding + kh;
                const iw = ow * stride - padding + kw;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                s += x.data[((n * C + c) * H + ih) * W + iw] * w.data[((oc * C + c) * KH + kh) * KW + kw];
              }
            }
          }
          out[((n * OC + oc) * OH + oh) * OW + ow] = s;
        }
      }
    }
  }
  return { data: out, shape: [N, OC, OH, OW] };
}

function assertClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]);
    assert.ok(err <= tol * Math.max(1, Math.abs(want[i])), `${what} element ${i}: got ${got[i]}, want ${want[i]} (|diff| ${err})`);
  }
}

function toFloat32(t: Tensor): Tensor {
  return new Tensor(Float32Array.from(t.data), t.shape);
}

/** A leaf with distinct values, so no max-pool window has a tie. */
function distinctLeaf(shape: number[], seed: number): Tensor {
  const t = randomLeaf(shape, seed);
  const rng = new Rng(seed + 1000);
  const perm = Array.from({ length: t.size }, (_, i) => i);
  for (let i = perm.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [perm[i], perm[j]] = [perm[j], perm[i]];
  }
  for (let i = 0; i < t.size; i++) t.data[i] = (perm[i] - t.size / 2) / 7;
  return t;
}

// [N, C, H, W], [OC, KH, KW], stride, padding, bias
const CONV_CASES: [number[], number[], number, number, boolean][] = [
  [[2, 3, 5, 6], [4, 3, 3], 1, 1, true], // N>1, C>1, OC>1, non-square, same padding
  [[1, 2, 7, 5], [3, 3, 3], 2, 0, false], // stride 2, no padding, no bias
  [[2, 2, 6, 6], [2, 3, 3], 2, 1, true], // ResNet's down-sampling conv
  [[2, 2, 4, 6], [2, 5, 5], 1, 2, false], // 5×5, padding 2, kernel larger than the unpadded height
  [[2, 3, 5, 4], [2, 1, 1], 2, 0, true], // 1×1 projection with stride
  [[1, 2, 4, 5], [2, 1, 1], 1, 1, false], // 1×1 with padding (border outputs are bias only)
  [[1, 1, 6, 7], [2, 2, 3], 2, 2, true], // non-square kernel, stride 2, padding 2
  [[3, 1, 3, 3], [1, 3, 3], 1, 0, true], // one output position per image
];

describe('conv2d', () => {
  it('matches a direct seven-loop convolution (float64)', () => {
    let seed = 100;
    for (const [[N, C, H, W], [OC, KH, KW], stride, padding, hasBias] of CONV_CASES) {
      const x = randomLeaf([N, C, H, W], seed++);
      const w = randomLeaf([OC, C, KH, KW], seed++);
      const b = hasBias ? randomLeaf([OC], seed++) : null;
      const y = conv2d(x, w, b, { stride, padding });
      const ref = naiveConv(x, w, b, stride, padding);
      assert.deepEqual(y.shape, ref.shape);
      assertClose(y.data, ref.data, 1e-13, `conv ${x.shape} ${w.shape} s${stride} p${padding}`);
    }
  });

  it('gradients for every case (float64 finite differences)', () => {
    let seed = 200;
    for (const [[N, C, H, W], [OC, KH, KW], stride, padding, hasBias] of CONV_CASES) {
      const x = randomLeaf([N, C, H, W], seed++);
      const w = randomLeaf([OC, C, KH, KW], seed++);
      if (hasBias) gradCheck((a, b, c) => conv2d(a, b, c, { stride, padding }), [x, w, randomLeaf([OC], seed++)]);
      else gradCheck((a, b) => conv2d(a, b, null, { stride, padding }), [x, w]);
    }
  });

  it('gradient for only some inputs (x without grad, w without grad)', () => {
    const x = randomLeaf([2, 2, 4, 4], 300);
    const w = randomLeaf([3, 2, 3, 3], 301);
    const xc = new Tensor(x.data, x.shape);
    gradCheck((b) => conv2d(xc, b, null, { padding: 1 }), [w]);
    const wc = new Tensor(w.data, w.shape);
    gradCheck((a) => conv2d(a, wc, null, { stride: 2, padding: 1 }), [x]);
  });

  it('float32 forward and backward equal float64 rounded, within float32 tolerance', () => {
    const x64 = randomLeaf([4, 3, 8, 8], 310);
    const w64 = randomLeaf([5, 3, 3, 3], 311);
    const b64 = randomLeaf([5], 312);
    const x32 = toFloat32(x64);
    const w32 = new Tensor(Float32Array.from(w64.data), w64.shape, true);
    const b32 = new Tensor(Float32Array.from(b64.data), b64.shape, true);
    const y64 = conv2d(x64, w64, b64, { stride: 2, padding: 1 });
    const y32 = conv2d(x32, w32, b32, { stride: 2, padding: 1 });
    assert.equal(y32.dtype, 'float32');
    assertClose(y32.data, y64.data, 1e-5, 'float32 conv forward');
    backward(sum(y64));
    backward(sum(y32));
    assertClose(w32.grad!, w64.grad!, 1e-5, 'float32 conv dW');
    assertClose(b32.grad!, b64.grad!, 1e-5, 'float32 conv dbias');
  });

  it('under noGrad records nothing', () => {
    const y = noGrad(() => conv2d(randomLeaf([1, 1, 3, 3], 320), randomLeaf([1, 1, 2, 2], 321)));
    assert.equal(y.requiresGrad, false);
    assert.equal(y.gradFn, null);
  });

  it('rejects bad shapes and options, naming them', () => {
    const x = randomLeaf([1, 2, 5, 5], 330);
    const w = randomLeaf([3, 2, 3, 3], 331);
    assert.throws(() => conv2d(x, randomLeaf([3, 1, 3, 3], 332)), /conv2d of input \[1, 2, 5, 5\], weight \[3, 1, 3, 3\][^]*hint: the input is \[N, C, H, W\]/);
    assert.throws(() => conv2d(randomLeaf([2, 5, 5], 333), w), /conv2d of input \[2, 5, 5\]/);
    assert.throws(() => conv2d(x, w, randomLeaf([2], 334)), /bias \[2\]/);
    assert.throws(() => conv2d(x, w, null, { stride: 0 }), /conv2d stride 0 is not an integer ≥ 1/);
    assert.throws(() => conv2d(x, w, null, { padding: 1.5 }), /conv2d padding 1\.5/);
    assert.throws(() => conv2d(x, randomLeaf([3, 2, 6, 6], 335)), /kernel 6×6 does not fit input \[1, 2, 5, 5\] with padding 0/);
    assert.throws(() => conv2d(toFloat32(x), w), /conv2d of float32 and float64 tensors/);
  });
});

// kernel, stride, padding
const POOL_CASES: [number, number | undefined, number | undefined][] = [
  [2, undefined, undefined], // stride = kernel
  [3, 2, 1], // ResNet-style stem pool
  [2, 1, 0], // overlapping windows
  [2, 2, 1], // padding on every border
  [3, 1, 1],
  [4, 3, 2],
];

describe('pooling', () => {
  it('maxPool2d and avgPool2d gradients', () => {
    let seed = 400;
    for (const [kernel, stride, padding] of POOL_CASES) {
      const opts = { kernel, stride, padding };
      gradCheck((a) => maxPool2d(a, opts), [distinctLeaf([2, 3, 5, 6], seed++)]);
      gradCheck((a) => avgPool2d(a, opts), [randomLeaf([2, 3, 5, 6], seed++)]);
    }
    gradCheck(globalAvgPool2d, [randomLeaf([2, 3, 4, 5], seed++)]);
  });

  it('hand-computed values', () => {
    const x = tensor([
      1, 5, 2, 0,
      3, 4, 8, 7,
      -1, -2, 6, 6,
      -3, -9, 6, 1,
    ], [1, 1, 4, 4], { dtype: 'float64' });
    assert.deepEqual(maxPool2d(x, { kernel: 2 }).toArray(), [5, 8, -1, 6]);
    assert.deepEqual(avgPool2d(x, { kernel: 2 }).toArray(), [13 / 4, 17 / 4, -15 / 4, 19 / 4]);
    assert.deepEqual(maxPool2d(x, { kernel: 3, stride: 1 }).shape, [1, 1, 2, 2]);
    assert.deepEqual(maxPool2d(x, { kernel: 3, stride: 1 }).toArray(), [8, 8, 8, 8]);
    assert.deepEqual(maxPool2d(x, { kernel: 3, stride: 1, padding: 1 }).toArray().slice(12), [-1, 6, 6, 6]);
    assert.deepEqual(globalAvgPool2d(x).toArray(), [34 / 16]);
    assert.deepEqual(globalAvgPool2d(x).shape, [1, 1]);
    // Padding counts in avgPool's divisor (count_include_pad) and never wins maxPool.
    const y = tensor([-1, -2, -3, -4], [1, 1, 2, 2], { dtype: 'float64' });
    assert.deepEqual(avgPool2d(y, { kernel: 2, stride: 2, padding: 1 }).toArray(), [-0.25, -0.5, -0.75, -1]);
    assert.deepEqual(maxPool2d(y, { kernel: 2, stride: 2, padding: 1 }).toArray(), [-1, -2, -3, -4]);
    assert.deepEqual(avgPool2d(y, { kernel: 2, stride: 1, padding: 1 }).toArray(), [-0.25, -0.75, -0.5, -1, -2.5, -1.5, -0.75, -1.75, -1]);
  });

  it('maxPool2d ties: the gradient goes to the first maximum in scan order', () => {
    const x = tensor([
      2, 2, 1,
      2, 0, 1,
      1, 1, 1,
    ], [1, 1, 3, 3], { dtype: 'float64', requiresGrad: true });
    const y = maxPool2d(x, { kernel: 2, stride: 1 });
    assert.deepEqual(y.toArray(), [2, 2, 2, 1]);
    backward(y, new Float64Array([1, 10, 100, 1000]));
    // windows: {0,1,3,4} → 0; {1,2,4,5} → 1; {3,4,6,7} → 3; {4,5,7,8} → 5 (first 1 after the 0)
    assert.deepEqual(Array.from(x.grad!), [1, 10, 0, 100, 0, 1000, 0, 0, 0]);
  });

  it('float32 equals float64 rounded', () => {
    const x64 = randomLeaf([2, 3, 6, 6], 450);
    const x32 = toFloat32(x64);
    for (const [kernel, stride, padding] of POOL_CASES) {
      const opts = { kernel, stride, padding };
      assert.deepEqual(maxPool2d(x32, opts).toArray(), Array.from(Float32Array.from(maxPool2d(x64, opts).data)));
      assertClose(avgPool2d(x32, opts).data, avgPool2d(x64, opts).data, 1e-6, 'float32 avgPool');
    }
    assertClose(globalAvgPool2d(x32).data, globalAvgPool2d(x64).data, 1e-6, 'float32 globalAvgPool');
  });

  it('rejects bad options, naming them', () => {
    const x = randomLeaf([1, 1, 4, 4], 460);
    assert.throws(() => maxPool2d(x, { kernel: 2, padding: 2 }), /maxPool2d padding 2 is more than half the kernel 2/);
    assert.throws(() => avgPool2d(x, { kernel: 0 }), /avgPool2d kernel 0 is not an integer ≥ 1/);
    assert.throws(() => avgPool2d(x, { kernel: 2, stride: -1 }), /avgPool2d stride -1/);
    assert.throws(() => maxPool2d(randomLeaf([4, 4], 461), { kernel: 2 }), /maxPool2d of input \[4, 4\][^]*\[N, C, H, W\]/);
    assert.throws(() => maxPool2d(x, { kernel: 5 }), /kernel 5 does not fit input \[1, 1, 4, 4\]/);
    assert.throws(() => globalAvgPool2d(randomLeaf([2, 3], 462)), /globalAvgPool2d of input \[2, 3\]/);
  });
});

function runningStats(C: number, seed: number): { mean: Float64Array; var: Float64Array } {
  const rng = new Rng(seed);
  return { mean: Float64Array.from({ length: C }, () => rng.float() - 0.5), var: Float64Array.from({ length: C }, () => 0.5 + rng.float()) };
}

describe('batchNorm', () => {
  it('gradients in training (through the batch statistics), 1d and 2d', () => {
    const r1 = runningStats(3, 500);
    gradCheck((x, w, b) => batchNorm(x, w, b, r1, { training: true }), [randomLeaf([5, 3], 501), randomLeaf([3], 502, 0.5, 1.5), randomLeaf([3], 503)]);
    const r2 = runningStats(3, 504);
    gradCheck((x, w, b) => batchNorm(x, w, b, r2, { training: true }), [randomLeaf([2, 3, 3, 2], 505), randomLeaf([3], 506, 0.5, 1.5), randomLeaf([3], 507)]);
    gradCheck((x) => batchNorm(x, null, null, null, { training: true, eps: 1e-3 }), [randomLeaf([3, 2, 2, 2], 508)]);
  });

  it('gradients in eval (an affine map), 1d and 2d', () => {
    const r1 = runningStats(4, 510);
    gradCheck((x, w, b) => batchNorm(x, w, b, r1, { training: false }), [randomLeaf([3, 4], 511), randomLeaf([4], 512), randomLeaf([4], 513)]);
    const r2 = runningStats(2, 514);
    gradCheck((x, w, b) => batchNorm(x, w, b, r2, { training: false }), [randomLeaf([2, 2, 3, 3], 515), randomLeaf([2], 516), randomLeaf([2], 517)]);
  });

  it('a hand-computed case and the running-stat update', () => {
    const x = tensor([1, 2, 3, 4], [4, 1], { dtype: 'float64' });
    const running = { mean: new Float32Array([0]), var: new Float32Array([1]) };
    const y = batchNorm(x, tensor([2], [1], { dtype: 'float64' }), tensor([0.5], [1], { dtype: 'float64' }), running, { training: true });
    const sd = Math.sqrt(1.25 + 1e-5);
    assertClose(y.data, [1, 2, 3, 4].map((v) => ((v - 2.5) / sd) * 2 + 0.5), 1e-15, 'bn 1d');
    assert.equal(running.mean[0], Math.fround(0.25));
    assert.equal(running.var[0], Math.fround(0.9 + 0.1 * (5 / 3))); // unbiased variance 5/3
  });

  it('running statistics follow PyTorch: (1 - m)·running + m·stat, unbiased variance; eval uses them', () => {
    const x = randomLeaf([4, 3, 2, 2], 520, -2, 3);
    const running = runningStats(3, 521);
    const before = { mean: Float64Array.from(running.mean), var: Float64Array.from(running.var) };
    const m = 0.3;
    batchNorm(x, null, null, running, { training: true, momentum: m });
    for (let c = 0; c < 3; c++) {
      const vals: number[] = [];
      for (let n = 0; n < 4; n++) for (let s = 0; s < 4; s++) vals.push(x.data[(n * 3 + c) * 4 + s]);
      const mu = vals.reduce((a, b) => a + b, 0) / vals.length;
      const unbiased = vals.reduce((a, v) => a + (v - mu) ** 2, 0) / (vals.length - 1);
      assert.ok(Math.abs(running.mean[c] - ((1 - m) * before.mean[c] + m * mu)) < 1e-14);
      assert.ok(Math.abs(running.var[c] - ((1 - m) * before.var[c] + m * unbiased)) < 1e-14);
    }
    const w = randomLeaf([3], 522);
    const b = randomLeaf([3], 523);
    const y = batchNorm(x, w, b, running, { training: false, eps: 1e-3 });
    const want = new Float64Array(x.size);
    for (let i = 0; i < x.size; i++) {
      const c = Math.floor(i / 4) % 3;
      want[i] = ((x.data[i] - running.mean[c]) / Math.sqrt(running.var[c] + 1e-3)) * w.data[c] + b.data[c];
    }
    assertClose(y.data, want, 1e-14, 'bn eval');
    // eval leaves the running statistics alone
    const snapshot = Float64Array.from(running.mean);
    batchNorm(x, w, b, running, { training: false });
    assert.deepEqual(running.mean, snapshot);
  });

  it('training output has zero mean and unit (biased) variance per channel', () => {
    const y = batchNorm(randomLeaf([5, 2, 3, 3], 530, -4, 9), null, null, null, { training: true, eps: 1e-12 });
    for (let c = 0; c < 2; c++) {
      let s = 0;
      let q = 0;
      for (let n = 0; n < 5; n++) for (let i = 0; i < 9; i++) { const v = y.data[(n * 2 + c) * 9 + i]; s += v; q += v * v; }
      assert.ok(Math.abs(s / 45) < 1e-12 && Math.abs(q / 45 - 1) < 1e-9, `channel ${c}: mean ${s / 45}, var ${q / 45}`);
    }
  });

  it('float32 equals float64 rounded, within float32 tolerance', () => {
    const x64 = randomLeaf([4, 3, 3, 3], 540);
    const w64 = randomLeaf([3], 541);
    const b64 = randomLeaf([3], 542);
    for (const training of [true, false]) {
      const r64 = runningStats(3, 543);
      const r32 = { mean: Float32Array.from(r64.mean), var: Float32Array.from(r64.var) };
      const y64 = batchNorm(x64, w64, b64, r64, { training });
      const y32 = batchNorm(toFloat32(x64), toFloat32(w64), toFloat32(b64), r32, { training });
      assertClose(y32.data, y64.data, 1e-5, `float32 bn training=${training}`);
      assertClose(r32.var, r64.var, 1e-6, 'float32 running var');
    }
  });

  it('rejects bad shapes and options, naming them', () => {
    const x = randomLeaf([4, 3], 550);
    const r = runningStats(3, 551);
    assert.throws(() => batchNorm(randomLeaf([4, 3, 2], 552), null, null, r, { training: true }), /batchNorm of input \[4, 3, 2\][^]*\[N, C\] \(1d\) or \[N, C, H, W\] \(2d\)/);
    assert.throws(() => batchNorm(x, randomLeaf([2], 553), null, r, { training: true }), /batchNorm weight \[2\] for input \[4, 3\][^]*\[C\] = \[3\]/);
    assert.throws(() => batchNorm(x, null, null, runningStats(2, 554), { training: true }), /running statistics of 2 and 2 channels/);
    assert.throws(() => batchNorm(randomLeaf([1, 3], 555), null, null, r, { training: true }), /more than one value per channel/);
    assert.throws(() => batchNorm(x, null, null, r, { training: true, momentum: 1.5 }), /momentum 1\.5/);
    assert.throws(() => batchNorm(x, null, null, r, { training: true, eps: 0 }), /eps 0/);
    assert.throws(() => batchNorm(x, null, null, null, { training: false }), /eval mode without running statistics/);
  });
});

describe('dropout', () => {
  const fixed = (u: number[]) => () => Float64Array.from(u);

  it('keeps u ≥ p, scales by 1/(1-p), and its gradient uses the same mask', () => {
    const x = tensor([1, 2, 3, 4, 5, 6], [2, 3], { dtype: 'float64', requiresGrad: true });
    const u = [0.1, 0.25, 0.9, 0.2499, 0.5, 0];
    const y = dropout(x, 0.25, fixed(u), true);
    const s = 1 / 0.75;
    assert.deepEqual(y.toArray(), [0, 2 * s, 3 * s, 0, 5 * s, 0]);
    backward(sum(y));
    assert.deepEqual(Array.from(x.grad!), [0, s, s, 0, s, 0]);
    const v = Array.from({ length: 24 }, (_, i) => ((i * 7) % 24) / 24);
    gradCheck((a) => dropout(a, 0.4, fixed(v), true), [randomLeaf([2, 3, 4], 600)]);
  });

  it('is the identity in eval and with p = 0, drawing no uniforms', () => {
    const x = randomLeaf([3, 4], 610);
    const never = () => { throw new Error('drew uniforms'); };
    assert.equal(dropout(x, 0.5, never, false), x);
    assert.equal(dropout(x, 0, never, true), x);
  });

  it('keeps about 1 - p of the elements with a uniform generator', () => {
    const rng = new Rng(620);
    const n = 20000;
    const x = new Tensor(new Float32Array(n).fill(1), [n]);
    const y = dropout(x, 0.3, (k) => Float32Array.from({ length: k }, () => rng.float()), true);
    const kept = y.toArray().filter((v) => v !== 0).length;
    assert.ok(Math.abs(kept / n - 0.7) < 0.015, `kept ${kept / n}`);
    assert.ok(y.toArray().every((v) => v === 0 || v === Math.fround(1 / 0.7)));
  });

  it('rejects p outside [0, 1) and a generator of the wrong length', () => {
    const x = randomLeaf([4], 630);
    for (const p of [1, -0.1, NaN, 2]) assert.throws(() => dropout(x, p, fixed([0, 0, 0, 0]), true), /dropout probability .* is outside \[0, 1\)/);
    assert.throws(() => dropout(x, 1, fixed([0, 0, 0, 0]), false), /outside \[0, 1\)/);
    assert.throws(() => dropout(x, 0.5, fixed([0, 0, 0]), true), /gave 3 values for 4 elements/);
  });
});
