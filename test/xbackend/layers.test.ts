/**
 * The layer kernels (optimizer updates, im2col/col2im, the axis swap,
 * pooling) give the same bits on js, wasm and native (every ISA, 1 and 2
 * threads). Sizes are odd, cross the native threading threshold and the wasm
 * streaming chunk (16384), and the geometries cover strides, padding,
 * non-square kernels, overlapping pool windows and windows clipped by
 * padding. Inputs include NaN, ±Inf, ±0, subnormals and ties. NaN payloads
 * are unspecified: a NaN matches any NaN.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AdamStep, ConvGeometry, Kernels, PoolGeometry, SgdStep } from '../../src/backend/kernels.js';
import { getBackend, setBackend } from '../../src/backend/index.js';
import { jsKernels } from '../../src/backend/js.js';
import { backward } from '../../src/tensor/autograd.js';
import { conv2d } from '../../src/tensor/ops/conv.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { forEachBackend, requireBackends } from './backends.js';
import { Rng } from '../support/rng.js';

const rng = new Rng(0x51ed2701);

/** Mixed magnitudes with a sprinkling of specials; `ties` draws from a few values so maxima tie. */
function values(n: number, opts: { special?: boolean; ties?: boolean; positive?: boolean } = {}): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const r = rng.u32() % 64;
    let x: number;
    if (opts.ties) x = (rng.u32() % 5) - 2;
    else if (r < 2) x = (rng.u32() & 0x7fffff) * 2 ** -149; // subnormal
    else if (r < 4) x = 0;
    else x = (1 + (rng.u32() & 0x7fffff) / 2 ** 23) * 2 ** ((rng.u32() % 24) - 12);
    if (!opts.positive && rng.chance(0.5)) x = -x;
    if (opts.special && rng.u32() % 97 === 0) x = [NaN, Infinity, -Infinity, -0][rng.u32() % 4];
    out[i] = x;
  }
  return out;
}

function assertSame(got: Float32Array | Int32Array, want: Float32Array | Int32Array, what: string): void {
  const g = new Uint32Array(got.buffer, got.byteOffset, got.length);
  const w = new Uint32Array(want.buffer, want.byteOffset, want.length);
  assert.equal(got.length, want.length, what);
  for (let i = 0; i < want.length; i++) {
    if (g[i] === w[i] || (Number.isNaN(got[i]) && Number.isNaN(want[i]))) continue;
    assert.fail(`${what}: [${i}] = ${got[i]} (0x${g[i].toString(16)}), expected ${want[i]} (0x${w[i].toString(16)})`);
  }
}

/** Runs `run` on fresh copies of the inputs with js and every other configuration and compares every array. */
function compare(what: string, inputs: readonly (Float32Array | Int32Array)[], run: (k: Kernels, arrays: (Float32Array | Int32Array)[]) => void): void {
  const want = inputs.map((a) => a.slice());
  run(jsKernels, want);
  for (const cfg of forEachBackend({ includeJs: false })) {
    const got = inputs.map((a) => a.slice());
    run(cfg.kernels, got);
    got.forEach((a, i) => assertSame(a, want[i], `${cfg.label} ${what} array ${i}`));
  }
}

const SIZES = [1, 7, 1000, 4099, 40001];

test('sgd: js = wasm = native for every option combination', (t) => {
  if (!requireBackends(t)) return;
  for (const n of SIZES) {
    const p = values(n, { special: true }), g = values(n, { special: true }), buf = values(n, { special: true });
    for (const momentum of [0, 0.9]) {
      for (const weightDecay of [0, 1e-4]) {
        for (const [dampening, nesterov] of [[0, false], [0.3, false], [0, true]] as const) {
          for (const first of momentum === 0 ? [false] : [true, false]) {
            if (nesterov && momentum === 0) continue;
            const s: SgdStep = { lr: 0.01, weightDecay, momentum, dampening, nesterov, first };
            compare(`sgd n=${n} ${JSON.stringify(s)}`, momentum === 0 ? [p, g] : [p, g, buf], (k, [pp, gg, bb]) =>
              k.sgd(pp as Float32Array, gg as Float32Array, momentum === 0 ? null : (bb as Float32Array), s));
          }
        }
      }
    }
  }
});

test('adam/adamw: js = wasm = native for L2, decoupled decay and both lerp formulas', (t) => {
  if (!requireBackends(t)) return;
  for (const n of SIZES) {
    const p = values(n, { special: true }), g = values(n, { special: true });
    const m = values(n), v = values(n, { positive: true });
    for (const [b1, b2, stepCount] of [[0.9, 0.999, 1], [0.3, 0.99, 7]] as const) {
      for (const [l2, decay] of [[0, 1], [0.01, 1], [0, 1 - 0.001 * 0.01]] as const) {
        const s: AdamStep = { stepSize: 0.001 / (1 - b1 ** stepCount), bc2Sqrt: Math.sqrt(1 - b2 ** stepCount), w: 1 - b1, beta2: b2, eps: 1e-8, decay, l2 };
        compare(`adam n=${n} ${JSON.stringify(s)}`, [p, g, m, v], (k, [pp, gg, mm, vv]) =>
          k.adam(pp as Float32Array, gg as Float32Array, mm as Float32Array, vv as Float32Array, s));
      }
    }
  }
});

/** [N, C, H, W, KH, KW, stride, padding] */
const CONVS: [number, number, number, number, number, number, number, number][] = [
  [1, 1, 1, 1, 1, 1, 1, 0], [2, 3, 5, 7, 3, 3, 1, 1], [3, 2, 9, 8, 3, 2, 2, 0], [2, 2, 6, 6, 5, 5, 1, 2],
  [1, 3, 7, 7, 3, 3, 3, 1], [4, 1, 28, 28, 5, 5, 1, 0], [2, 4, 5, 5, 5, 5, 1, 0], [3, 3, 4, 9, 2, 4, 2, 3],
  [64, 6, 12, 12, 5, 5, 1, 0], [5, 2, 11, 10, 4, 3, 3, 2],
];

function convGeometry([N, C, H, W, KH, KW, stride, padding]: readonly number[]): ConvGeometry {
  const OH = Math.floor((H + 2 * padding - KH) / stride) + 1;
  const OW = Math.floor((W + 2 * padding - KW) / stride) + 1;
  return { N, C, H, W, KH, KW, OH, OW, stride, padding };
}

test('im2col, col2im and swap01: js = wasm = native for strides, padding and odd shapes', (t) => {
  if (!requireBackends(t)) return;
  for (const c of CONVS) {
    const g = convGeometry(c);
    const xs = g.N * g.C * g.H * g.W, cs = g.C * g.KH * g.KW * g.N * g.OH * g.OW;
    const label = JSON.stringify(g);
    // the outputs start as NaN: every entry must be written (zeros in the padding)
    compare(`im2col ${label}`, [values(xs, { special: true }), new Float32Array(cs).fill(NaN)], (k, [x, col]) => k.im2col(x as Float32Array, col as Float32Array, g));
    compare(`col2im ${label}`, [values(cs, { special: true }), new Float32Array(xs).fill(NaN)], (k, [col, dx]) => k.col2im(col as Float32Array, dx as Float32Array, g));
    const [a, b, inner] = [g.C, g.N, g.OH * g.OW];
    compare(`swap01 ${label}`, [values(a * b * inner), new Float32Array(a * b * inner)], (k, [s, d]) => k.swap01(s as Float32Array, d as Float32Array, a, b, inner));
  }
});

test('relu and its gradient: js = wasm = native, specials included, across the threading threshold and the wasm chunk', (t) => {
  if (!requireBackends(t)) return;
  for (const n of [0, 1, 17, 16385, 200003]) {
    // the outputs start as NaN: every entry must be written
    compare(`relu n=${n}`, [values(n, { special: true }), new Float32Array(n).fill(NaN)], (k, [x, y]) => k.relu(x as Float32Array, y as Float32Array));
    compare(`reluBackward n=${n}`, [values(n, { special: true }), values(n, { special: true }), new Float32Array(n).fill(NaN)],
      (k, [x, g, d]) => k.reluBackward(x as Float32Array, g as Float32Array, d as Float32Array));
  }
});

test('sumRows: js = wasm = native, specials and cancellations included, across the threading threshold', (t) => {
  if (!requireBackends(t)) return;
  for (const [rows, n] of [[0, 5], [3, 0], [1, 1], [7, 33], [100, 1000], [257, 3001]]) {
    // out starts as NaN: every one of its n entries must be written, from +0
    compare(`sumRows ${rows}x${n}`, [values(rows * n, { special: rows < 100 }), new Float32Array(n).fill(NaN)],
      (k, [g, out]) => k.sumRows(g as Float32Array, out as Float32Array, rows, n));
  }
});

test('im2col places the receptive fields and col2im is its adjoint (hand-checked on js)', () => {
  // x = 1..9 on a 3×3 image, 2×2 kernel, padding 1, stride 2: outputs at rows/cols -1 and 1
  const g = convGeometry([1, 1, 3, 3, 2, 2, 2, 1]);
  const x = Float32Array.from({ length: 9 }, (_, i) => i + 1);
  const col = new Float32Array(16);
  jsKernels.im2col(x, col, g);
  assert.deepEqual([...col], [0, 0, 0, 5, 0, 0, 4, 6, 0, 2, 0, 8, 1, 3, 7, 9]);
  // ⟨im2col(x), y⟩ = ⟨x, col2im(y)⟩
  const y = Float32Array.from({ length: 16 }, (_, i) => (i % 5) - 2);
  const dx = new Float32Array(9);
  jsKernels.col2im(y, dx, g);
  const lhs = col.reduce((s, v, i) => s + v * y[i], 0);
  const rhs = x.reduce((s, v, i) => s + v * dx[i], 0);
  assert.equal(lhs, rhs);
});

/** [planes, H, W, K, stride, padding] */
const POOLS: [number, number, number, number, number, number][] = [
  [1, 1, 1, 1, 1, 0], [3, 4, 4, 2, 2, 0], [2, 5, 7, 3, 2, 1], [4, 6, 6, 3, 1, 1], [2, 7, 5, 2, 3, 1],
  [384, 24, 24, 2, 2, 0], [5, 9, 9, 4, 3, 2], [6, 8, 8, 2, 1, 0], [3, 9, 19, 2, 2, 0], [70, 28, 28, 2, 2, 0],
];

function poolGeometry([planes, H, W, K, stride, padding]: readonly number[]): PoolGeometry {
  const OH = Math.floor((H + 2 * padding - K) / stride) + 1;
  const OW = Math.floor((W + 2 * padding - K) / stride) + 1;
  return { planes, H, W, K, stride, padding, OH, OW };
}

test('max and average pooling, forward and backward: js = wasm = native', (t) => {
  if (!requireBackends(t)) return;
  for (const p of POOLS) {
    const g = poolGeometry(p);
    const xs = g.planes * g.H * g.W, os = g.planes * g.OH * g.OW;
    const label = JSON.stringify(g);
    for (const ties of [false, true]) {
      const x = values(xs, { special: !ties, ties });
      compare(`maxPool2d ${label} ties=${ties}`, [x, new Float32Array(os).fill(NaN), new Int32Array(os).fill(-1)], (k, [xx, out, arg]) =>
        k.maxPool2d(xx as Float32Array, out as Float32Array, arg as Int32Array, g));
      // the js forward's argmax drives every backend's backward
      const arg = new Int32Array(os);
      jsKernels.maxPool2d(x, new Float32Array(os), arg, g);
      compare(`maxPool2dBackward ${label} ties=${ties}`, [values(os, { special: true }), new Float32Array(xs).fill(NaN)], (k, [grad, dx]) =>
        k.maxPool2dBackward(grad as Float32Array, arg, dx as Float32Array, g));
    }
    compare(`avgPool2d ${label}`, [values(xs, { special: true }), new Float32Array(os).fill(NaN)], (k, [x, out]) => k.avgPool2d(x as Float32Array, out as Float32Array, g));
    compare(`avgPool2dBackward ${label}`, [values(os, { special: true }), new Float32Array(xs).fill(NaN)], (k, [grad, dx]) => k.avgPool2dBackward(grad as Float32Array, dx as Float32Array, g));
  }
});

test('every backend rejects bad layer-kernel arguments the same way', (t) => {
  if (!requireBackends(t)) return;
  const all: { label: string; kernels: Kernels }[] = [{ label: 'js', kernels: jsKernels }];
  for (const cfg of forEachBackend({ includeJs: false })) all.push({ label: cfg.label, kernels: cfg.kernels });
  const s: SgdStep = { lr: 0.1, weightDecay: 0, momentum: 0.9, dampening: 0, nesterov: false, first: true };
  const conv = convGeometry([1, 1, 4, 4, 3, 3, 1, 0]);
  const pool = poolGeometry([1, 4, 4, 2, 2, 0]);
  for (const { label, kernels: k } of all) {
    assert.throws(() => k.sgd(new Float32Array(4), new Float32Array(3), null, s), RangeError, label);
    const shared = new Float32Array(8);
    assert.throws(() => k.sgd(shared.subarray(0, 4), shared.subarray(2, 6), null, s), /overlap/, label);
    assert.throws(() => k.im2col(new Float32Array(16), new Float32Array(35), conv), RangeError, label);
    assert.throws(() => k.im2col(new Float32Array(16), new Float32Array(36), { ...conv, OH: 3 }), /not the output/, label);
    assert.throws(() => k.swap01(new Float32Array(5), new Float32Array(6), 2, 3, 1), RangeError, label);
    assert.throws(() => k.relu(new Float32Array(5), new Float32Array(6)), RangeError, label);
    assert.throws(() => k.sumRows(new Float32Array(5), new Float32Array(3), 2, 3), RangeError, label);
    assert.throws(() => k.reluBackward(shared.subarray(0, 4), new Float32Array(4), shared.subarray(2, 6)), /overlap/, label);
    assert.throws(() => k.maxPool2d(new Float32Array(16), new Float32Array(4), new Int32Array(3), pool), RangeError, label);
    assert.throws(() => k.maxPool2dBackward(new Float32Array(4), Int32Array.of(0, 1, 16, 2), new Float32Array(16), pool), /outside its/, label);
    assert.throws(() => k.avgPool2d(new Float32Array(16), new Float32Array(4), { ...pool, padding: 2 }), RangeError, label);
  }
});

test('conv2d: its reused scratch and col arrays never leak between calls, on every backend', (t) => {
  if (!requireBackends(t)) return;
  const w0 = values(6 * 3 * 3 * 3), b0 = values(6);
  const xs = [values(2 * 3 * 8 * 8), values(2 * 3 * 8 * 8)];
  const g = values(2 * 6 * 8 * 8);
  /** conv2d of x (padding 1) and the gradients of w, bias and x for output gradient g, from fresh leaves. */
  const leaves = (x: Float32Array) => ({
    x: new Tensor(x.slice(), [2, 3, 8, 8], true), w: new Tensor(w0.slice(), [6, 3, 3, 3], true), b: new Tensor(b0.slice(), [6], true),
  });
  const before = getBackend().name;
  try {
    setBackend('js');
    const alone = xs.map((x) => {
      const l = leaves(x);
      const y = conv2d(l.x, l.w, l.b, { padding: 1 });
      backward(y, g);
      return [y.data, l.w.grad!, l.b.grad!, l.x.grad!] as Float32Array[];
    });
    for (const name of ['js', 'wasm', 'native'] as const) {
      setBackend(name);
      for (let rep = 0; rep < 2; rep++) {
        // both forwards keep a col; the backwards run in reverse order and hand them back for the next rep
        const ls = xs.map(leaves);
        const ys = ls.map((l) => conv2d(l.x, l.w, l.b, { padding: 1 }));
        backward(ys[1], g);
        backward(ys[0], g);
        ls.forEach((l, i) => {
          const got = [ys[i].data, l.w.grad!, l.b.grad!, l.x.grad!] as Float32Array[];
          got.forEach((a, j) => assertSame(a, alone[i][j], `${name} rep ${rep} input ${i} array ${j}`));
        });
      }
    }
  } finally {
    setBackend(before);
  }
});
