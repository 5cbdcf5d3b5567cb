/**
 * The sampled linear and conv2d ops with the sample held fixed: gradient
 * checks of the forward-sampled function, the backward-only and black-box
 * gradients against independent references (conv2d's and linear's own
 * backward with the sampled pairs masked and scaled), the physical size of
 * the sampled products, the multiply-add counts, and bit-identical results
 * on every backend.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApproxLayer, convInputGrad, convWeightGrad, MacCount, sampledConv2d, sampledLinear, type PairSample, type Pass, type Product, type Sampler } from '../../src/approx/index.js';
import { setBackend, getBackend } from '../../src/backend/index.js';
import { backward, conv2d, linear, reshape, Tensor } from '../../src/tensor/index.js';
import { gradCheck, randomLeaf } from '../support/gradcheck.js';
import { Rng } from '../support/rng.js';
import { backendLoads } from '../xbackend/backends.js';

/** A sampler returning the given sample for each product (absent: exact). */
const fixed = (samples: Partial<Record<Product, PairSample>>): Sampler => (product) => samples[product] ?? null;
const sample = (index: number[], scale: number[] | null = null): PairSample => ({ index: Int32Array.from(index), scale: scale ? Float64Array.from(scale) : null });
const all = (n: number): PairSample => sample(Array.from({ length: n }, (_, i) => i), new Array(n).fill(1));

function randomArray(n: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  return Float64Array.from({ length: n }, () => rng.float() * 2 - 1);
}

function assertClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < got.length; i++) assert.ok(Math.abs(got[i] - want[i]) <= tol * (1 + Math.abs(want[i])), `${what}[${i}]: ${got[i]} vs ${want[i]}`);
}

/** Gradients of (x, w, b) when `f` is back-propagated with output gradient g. */
function grads(f: (x: Tensor, w: Tensor, b: Tensor) => Tensor, x: Tensor, w: Tensor, b: Tensor, g: Float64Array): Float64Array[] {
  for (const t of [x, w, b]) t.grad = null;
  backward(f(x, w, b), g);
  return [x, w, b].map((t) => Float64Array.from(t.grad ?? new Float64Array(t.size)));
}

/** g with the pairs of `s` along dimension `dim` (0 or 1) scaled and every other slice zero. */
function masked(g: Float64Array, shape: number[], dim: 0 | 1, s: PairSample): Float64Array {
  const out = new Float64Array(g.length);
  const inner = shape.slice(dim + 1).reduce((p, d) => p * d, 1);
  const outer = shape.slice(0, dim).reduce((p, d) => p * d, 1);
  const n = shape[dim];
  s.index.forEach((i, j) => {
    const f = s.scale ? s.scale[j] : 1;
    for (let o = 0; o < outer; o++) for (let t = 0; t < inner; t++) out[(o * n + i) * inner + t] = g[(o * n + i) * inner + t] * f;
  });
  return out;
}

describe('sampled linear', () => {
  const [N, IN, OUT] = [5, 7, 4];
  const leaves = () => [randomLeaf([N, IN], 1), randomLeaf([OUT, IN], 2), randomLeaf([OUT], 3)];

  it('forward sampling: the gradient of the sampled function, checked against finite differences', () => {
    const s = sample([0, 2, 3, 6], [1.5, 0.5, 2, 1.25]);
    gradCheck((x, w, b) => sampledLinear(x, w, b, 'forward', fixed({ forward: s })), leaves());
  });

  it('forward sampling equals linear on the gathered, scaled operands, and its gradients flow through the kept pairs only', () => {
    const [x, w, b] = leaves();
    const s = sample([1, 4], [2, 3]);
    const y = sampledLinear(x, w, b, 'forward', fixed({ forward: s }));
    const want = new Float64Array(N * OUT);
    for (let r = 0; r < N; r++) for (let o = 0; o < OUT; o++) want[r * OUT + o] = b.data[o] + 2 * x.data[r * IN + 1] * w.data[o * IN + 1] + 3 * x.data[r * IN + 4] * w.data[o * IN + 4];
    assertClose(y.data, want, 1e-12, 'y');
    backward(y, randomArray(N * OUT, 4));
    for (let r = 0; r < N; r++) for (let i = 0; i < IN; i++) if (i !== 1 && i !== 4) assert.equal(x.grad![r * IN + i], 0);
  });

  it('backward sampling keeping every pair is exact: finite differences', () => {
    gradCheck((x, w, b) => sampledLinear(x, w, b, 'backward', fixed({ 'input-grad': all(OUT), 'weight-grad': all(N) })), leaves());
  });

  it('backward sampling: the sampled gradients equal linear\'s backward with the sampled pairs masked and scaled', () => {
    const [x, w, b] = leaves();
    const g = randomArray(N * OUT, 5);
    const sIn = sample([0, 3], [1.75, 0.5]);
    const sW = sample([1, 2, 4], [3, 1, 2.5]);
    const [gx, gw, gb] = grads((x, w, b) => sampledLinear(x, w, b, 'backward', fixed({ 'input-grad': sIn, 'weight-grad': sW })), x, w, b, g);
    const y = sampledLinear(x, w, b, 'backward', fixed({}));
    assertClose(y.data, linear(x, w, b).data, 0, 'the forward is exact');
    assertClose(gx, grads(linear, x, w, b, masked(g, [N, OUT], 1, sIn))[0], 1e-12, 'dx: pairs are output features');
    assertClose(gw, grads(linear, x, w, b, masked(g, [N, OUT], 0, sW))[1], 1e-12, 'dW: pairs are batch rows');
    assertClose(gb, grads(linear, x, w, b, g)[2], 1e-12, 'the bias gradient is exact');
  });

  it('black-box sampling: a sampled forward, the exact gradients of x·wᵀ + b', () => {
    const [x, w, b] = leaves();
    const g = randomArray(N * OUT, 6);
    const s = sample([2, 5], [2, 2]);
    const bb = (x: Tensor, w: Tensor, b: Tensor) => sampledLinear(x, w, b, 'blackbox', fixed({ forward: s }));
    assertClose(bb(x, w, b).data, sampledLinear(x, w, b, 'forward', fixed({ forward: s })).data, 0, 'forward as forward sampling');
    const got = grads(bb, x, w, b, g);
    const want = grads(linear, x, w, b, g);
    got.forEach((a, i) => assertClose(a, want[i], 1e-12, `input ${i}`));
  });

  it('an empty sample gives the bias alone and zero gradients', () => {
    const [x, w, b] = leaves();
    const y = sampledLinear(x, w, b, 'forward', fixed({ forward: sample([], []) }));
    for (let r = 0; r < N; r++) assertClose(y.data.subarray(r * OUT, (r + 1) * OUT), b.data, 0, 'row');
    const [gx, gw] = grads((x, w, b) => sampledLinear(x, w, b, 'backward', fixed({ 'input-grad': sample([], []), 'weight-grad': sample([], []) })), x, w, b, randomArray(N * OUT, 1));
    assert.ok(gx.every((v) => v === 0) && gw.every((v) => v === 0));
  });

  it('counts multiply-adds: done over the kept pairs, exact over all', () => {
    const [x, w, b] = leaves();
    const count = (pass: Pass, samples: Partial<Record<Product, PairSample>>) => {
      const macs = new MacCount();
      backward(sampledLinear(x, w, b, pass, fixed(samples), macs), randomArray(N * OUT, 1));
      return [macs.macs, macs.exactMacs];
    };
    const exact = 3 * N * IN * OUT;
    assert.deepEqual(count('forward', { forward: sample([0, 1, 2], null) }), [3 * N * 3 * OUT, exact]);
    assert.deepEqual(count('backward', { 'input-grad': sample([0], null), 'weight-grad': sample([0, 1], null) }), [N * IN * OUT + N * IN * 1 + OUT * IN * 2, exact]);
    assert.deepEqual(count('blackbox', { forward: sample([0, 1, 2], null) }), [N * 3 * OUT + 2 * N * IN * OUT, exact]);
  });
});

describe('sampled conv2d', () => {
  const geometries = [
    { N: 2, C: 3, H: 6, W: 5, OC: 4, K: 3, stride: 1, padding: 1 },
    { N: 2, C: 3, H: 7, W: 6, OC: 2, K: 3, stride: 2, padding: 0 },
    { N: 3, C: 2, H: 5, W: 5, OC: 3, K: 2, stride: 2, padding: 1 },
    { N: 2, C: 2, H: 4, W: 4, OC: 2, K: 3, stride: 1, padding: 3 },
  ];
  for (const G of geometries) {
    const label = `${G.N}×${G.C}×${G.H}×${G.W}, ${G.OC} outputs, kernel ${G.K}, stride ${G.stride}, padding ${G.padding}`;
    const opts = { stride: G.stride, padding: G.padding };
    const leaves = () => [randomLeaf([G.N, G.C, G.H, G.W], 1), randomLeaf([G.OC, G.C, G.K, G.K], 2), randomLeaf([G.OC], 3)];

    it(`forward sampling over input channels: finite differences (${label})`, () => {
      const s = sample([0, 2].filter((c) => c < G.C), [1.5, 0.75].slice(0, G.C > 2 ? 2 : 1));
      gradCheck((x, w, b) => sampledConv2d(x, w, b, opts, 'forward', fixed({ forward: s })), leaves());
    });

    it(`backward sampling keeping every pair is exact: finite differences (${label})`, () => {
      gradCheck((x, w, b) => sampledConv2d(x, w, b, opts, 'backward', fixed({ 'input-grad': all(G.OC), 'weight-grad': all(G.N) })), leaves());
    });

    it(`backward sampling equals conv2d's backward with output channels / images masked and scaled (${label})`, () => {
      const [x, w, b] = leaves();
      const y = conv2d(x, w, b, opts);
      const g = randomArray(y.size, 9);
      const sIn = sample([G.OC - 1], [2.5]);
      const sW = sample([0, G.N - 1], [1.5, 3]);
      const [gx, gw, gb] = grads((x, w, b) => sampledConv2d(x, w, b, opts, 'backward', fixed({ 'input-grad': sIn, 'weight-grad': sW })), x, w, b, g);
      const conv = (x: Tensor, w: Tensor, b: Tensor) => conv2d(x, w, b, opts);
      assertClose(gx, grads(conv, x, w, b, masked(g, [...y.shape], 1, sIn))[0], 1e-12, 'dx');
      assertClose(gw, grads(conv, x, w, b, masked(g, [...y.shape], 0, sW))[1], 1e-12, 'dW');
      assertClose(gb, grads(conv, x, w, b, g)[2], 1e-12, 'db');
    });

    it(`black-box sampling: the exact gradients (${label})`, () => {
      const [x, w, b] = leaves();
      const s = sample([1], [3]);
      const conv = (x: Tensor, w: Tensor, b: Tensor) => conv2d(x, w, b, opts);
      const y = conv(x, w, b);
      const g = randomArray(y.size, 4);
      const got = grads((x, w, b) => sampledConv2d(x, w, b, opts, 'blackbox', fixed({ forward: s })), x, w, b, g);
      grads(conv, x, w, b, g).forEach((want, i) => assertClose(got[i], want, 1e-12, `input ${i}`));
    });
  }

  it('the transposed-convolution and batch-convolution helpers give conv2d\'s own gradients', () => {
    const G = { N: 2, C: 3, H: 9, W: 8, OC: 2, K: 4, S: 3, P: 2 };
    const x = randomLeaf([G.N, G.C, G.H, G.W], 5);
    const w = randomLeaf([G.OC, G.C, G.K, G.K], 6);
    const y = conv2d(x, w, null, { stride: G.S, padding: G.P });
    const g = randomArray(y.size, 7);
    backward(y, g);
    const cs = { N: G.N, C: G.C, H: G.H, W: G.W, OC: G.OC, KH: G.K, KW: G.K, OH: y.shape[2], OW: y.shape[3], S: G.S, P: G.P, dtype: 'float64' as const };
    assertClose(convInputGrad(g, w.data, G.OC, cs), x.grad!, 1e-12, 'dx');
    assertClose(convWeightGrad(x.data, g, G.N, cs), w.grad!, 1e-12, 'dW');
  });

  it('the sampled forward is a physically smaller convolution (fewer multiply-adds counted)', () => {
    const x = randomLeaf([2, 8, 6, 6], 1);
    const w = randomLeaf([4, 8, 3, 3], 2);
    const macs = new MacCount();
    const y = sampledConv2d(x, w, null, { padding: 1 }, 'forward', fixed({ forward: sample([1, 5], [4, 4]) }), macs);
    assert.deepEqual(y.shape, [2, 4, 6, 6]);
    const perChannel = 4 * 9 * 2 * 36;
    assert.deepEqual([macs.macs, macs.exactMacs], [3 * 2 * perChannel, 3 * 8 * perChannel]);
  });
});

describe('sampled products across backends', () => {
  it('one training step of sampled layers gives the same bits on every backend that loads', (t) => {
    const before = getBackend().name;
    const results = new Map<string, Uint32Array[]>();
    for (const load of backendLoads()) {
      if (!load.kernels) {
        t.diagnostic(`skipping ${load.name}: ${load.reason}`);
        continue;
      }
      setBackend(load.name);
      const out: Uint32Array[] = [];
      for (const [method, pass] of [['bernoulli-crs', 'backward'], ['crs', 'forward'], ['topk', 'forward'], ['topk-est', 'blackbox'], ['uniform', 'backward']] as const) {
        const rng = new Rng(3);
        const f32 = (shape: number[], grad: boolean) => new Tensor(Float32Array.from({ length: shape.reduce((p, d) => p * d, 1) }, () => rng.float() * 2 - 1), shape, grad);
        const x = f32([4, 6, 8, 8], false);
        const cw = f32([8, 6, 3, 3], true);
        const lw = f32([5, 8 * 8 * 8], true);
        const settings = { method, pass, ratio: 0.5, minK: 1, epsilon: 0.1, normSample: 0.2 };
        const clock = { seed: 42, step: 7 };
        const conv = new ApproxLayer('conv', settings, clock, 0);
        const fc = new ApproxLayer('fc', settings, clock, 1);
        const h = conv.conv2d(x, cw, null, { padding: 1 });
        const y = fc.linear(reshape(h, [4, 8 * 8 * 8]), lw, null);
        backward(y, new Float32Array(y.size).fill(1));
        out.push(new Uint32Array(Float32Array.from(y.data).buffer), new Uint32Array(Float32Array.from(cw.grad!).buffer), new Uint32Array(Float32Array.from(lw.grad!).buffer));
      }
      results.set(load.name, out);
    }
    setBackend(before);
    const [first, ...rest] = [...results];
    for (const [name, out] of rest) out.forEach((a, i) => assert.deepEqual(a, first[1][i], `${name} vs ${first[0]}, array ${i}`));
    t.diagnostic(`compared ${[...results.keys()].join(', ')}`);
    assert.ok(results.size >= 1);
  });
});
