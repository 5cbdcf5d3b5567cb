import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseScalarFormat } from '../../src/formats/format.js';
import { quantize } from '../../src/formats/quantize.js';
import { applyApprox } from '../../src/approx/apply.js';
import { parseApproxConfig } from '../../src/approx/config.js';
import { Initializer, Linear } from '../../src/nn/layers.js';
import { createModel } from '../../src/nn/zoo.js';
import { createOptimizer } from '../../src/optim/index.js';
import { Emulation } from '../../src/precision/emulation.js';
import { LossScaler } from '../../src/precision/loss-scale.js';
import { roundedCrossEntropy } from '../../src/precision/loss.js';
import { globRegExp, Policy } from '../../src/precision/policy.js';
import { AmaxHistory, emptyStats, parseQuantizer } from '../../src/precision/quantizer.js';
import { LayerPrecision, randomKey, roundingOp } from '../../src/precision/site.js';
import { summarizeTelemetry } from '../../src/precision/telemetry.js';
import { backward } from '../../src/tensor/autograd.js';
import { softmaxCrossEntropy } from '../../src/tensor/ops/loss.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { validatePartial } from '../../src/train/recipe.js';
import { Rng } from '../support/rng.js';

function randomArray(n: number, seed: number, scale = 1): Float32Array {
  const r = new Rng(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (r.u32() / 2 ** 32 - 0.5) * 2 * scale;
  return a;
}

/** Whether every value is one the format can hold. */
function onGrid(a: Float32Array, spec: string): boolean {
  const q = new Float32Array(a.length);
  quantize(a, q, spec);
  return a.every((v, i) => Object.is(v, q[i]));
}

describe('quantizers', () => {
  it('take a format string or an object, with the format\'s own overflow by default', () => {
    const q = parseQuantizer('f', 'e5m2');
    assert.equal(q.spec.rounding, 'nearest');
    assert.equal(q.spec.overflow, 'format');
    assert.equal(q.toJSON(), 'e5m2');
    const s = parseQuantizer('f', { format: 'fixed<16,8>', rounding: 'stochastic', randomBits: 8 });
    assert.equal(s.stochastic, true);
    assert.deepEqual(s.toJSON(), { format: 'fixed<16,8>', rounding: 'stochastic', overflow: 'format', subnormals: 'keep', randomBits: 8, scaling: null });
  });
  it('name the bad part of a spec', () => {
    const cases: [unknown, RegExp][] = [
      ['e4m4', /^x\.format: invalid format spec 'e4m4'/],
      [{ format: 'e5m2', rounding: 'banker' }, /^x\.rounding: expected one of nearest/],
      [{ format: 'e5m2', overflow: 'clip' }, /^x\.overflow/],
      [{ format: 'e5m2', randomBits: 30 }, /^x\.randomBits: expected an integer in 1\.\.24/],
      [{ format: 'e5m2', scale: 2 }, /^x\.scale: is not a known field/],
      [{ format: 'e5m2', scaling: { amax: 'max' } }, /^x\.scaling\.amax/],
      [{ format: 'e5m2', scaling: { amax: 'delayed', history: 0 } }, /^x\.scaling\.history/],
      [{ rounding: 'nearest' }, /^x\.format: expected a format spec string/],
      [3, /^x: expected a format string or an object/],
    ];
    for (const [v, re] of cases) assert.throws(() => parseQuantizer('x', v), (e: Error) => re.test(e.message));
  });
  it('round exactly as quantize() does, and count what happened', () => {
    const src = Float32Array.of(1, 70000, 1e-9, NaN, 0.3);
    const dst = new Float32Array(5);
    const stats = emptyStats();
    parseQuantizer('q', { format: 'fp16', overflow: 'saturate' }).apply(src, dst, { seed: 0, stream: 0, offset: 0 }, 1, stats, true);
    const want = new Float32Array(5);
    quantize(src, want, 'fp16', { overflow: 'saturate' });
    assert.deepEqual(dst, want);
    assert.equal(stats.count, 5);
    assert.equal(stats.overflow, 1);
    assert.equal(stats.flushed, 1);
    assert.equal(stats.nan, 1);
    assert.equal(stats.measured, 4);
  });
  it('scale tensors by their amax, by a power of two unless told otherwise', () => {
    const q = parseQuantizer('q', { format: 'e4m3', scaling: 'current' });
    const src = Float32Array.of(0.001, -0.002, 0.0005);
    const dst = new Float32Array(3);
    q.apply(src, dst, { seed: 0, stream: 0, offset: 0 }, 1, null, false);
    const s = q.scaleFor(0.002);
    assert.equal(s, 2 ** Math.floor(Math.log2(448 / 0.002)));
    for (let i = 0; i < 3; i++) assert.ok(Math.abs(dst[i] - src[i]) <= Math.abs(src[i]) * 2 ** -4);
    // without scaling, 0.0005 is deep in e4m3's subnormals and loses most of its bits
    const plain = new Float32Array(3);
    parseQuantizer('q', 'e4m3').apply(src, plain, { seed: 0, stream: 0, offset: 0 }, 1, null, false);
    assert.ok(Math.abs(plain[2] - src[2]) > Math.abs(dst[2] - src[2]));
    assert.equal(parseQuantizer('q', { format: 'e4m3', scaling: { amax: 'current', pow2: false } }).scaleFor(2), 224);
  });
  it('use the delayed amax of previous tensors, not the current one', () => {
    const q = parseQuantizer('q', { format: 'e4m3', scaling: { amax: 'delayed', history: 2 } });
    const h = new AmaxHistory(2);
    const key = { seed: 0, stream: 0, offset: 0 };
    const out = new Float32Array(1);
    q.apply(Float32Array.of(1), out, key, 1, null, false, h); // first use: its own amax
    q.apply(Float32Array.of(1000), out, key, 1, null, false, h); // scaled for amax 1: 1000·256 overflows e4m3 → NaN
    assert.ok(Number.isNaN(out[0]));
    assert.equal(h.max(), 1000);
    q.apply(Float32Array.of(3), out, key, 1, null, false, h);
    q.apply(Float32Array.of(3), out, key, 1, null, false, h);
    assert.equal(h.max(), 3); // the window has forgotten 1000
  });
});

describe('policies', () => {
  const policy = Policy.parse({
    default: { weight: 'e5m2', activation: 'e5m2', error: { format: 'e5m2', rounding: 'stochastic' }, loss: 'fp16', accumulator: 'fp32' },
    layers: { 'conv*': { weight: 'e4m3' }, conv1: { weight: null, activation: null } },
    switch: [{ epoch: 3, default: { weight: 'fp16' } }],
  });
  it('resolve defaults, overrides (later entries win) and null as fp32', () => {
    assert.equal(policy.quantizer(0, 'fc1', 'weight')?.spec.format, 'e5m2');
    assert.equal(policy.quantizer(0, 'conv2', 'weight')?.spec.format, 'e4m3');
    assert.equal(policy.quantizer(0, 'conv1', 'weight'), null);
    assert.equal(policy.quantizer(0, 'conv1', 'error')?.spec.rounding, 'stochastic');
    assert.equal(policy.quantizer(0, 'fc1', 'gradient'), null);
    assert.equal(policy.lossQuantizer(0)?.spec.format, 'fp16');
    assert.equal(policy.accumulator(0, 'fc1'), 'fp32');
  });
  it('switch phases by epoch', () => {
    assert.equal(policy.phaseIndex(2), 0);
    assert.equal(policy.phaseIndex(3), 1);
    assert.equal(policy.phaseIndex(9), 1);
    assert.deepEqual(policy.switchEpochs, [3]);
    assert.equal(policy.quantizer(1, 'fc1', 'weight')?.spec.format, 'fp16');
    assert.equal(policy.quantizer(1, 'fc1', 'activation'), null);
  });
  it('globs match whole names', () => {
    assert.ok(globRegExp('layer1.*.conv?').test('layer1.0.conv1'));
    assert.ok(!globRegExp('conv1').test('conv10'));
    assert.ok(!globRegExp('fc.1').test('fcx1'));
  });
  it('errors name the field, and a glob that matches nothing is an error', () => {
    const cases: [unknown, RegExp][] = [
      [{ default: { weights: 'e5m2' } }, /^precision\.default\.weights: is not a role/],
      [{ layers: { fc1: { loss: 'fp16' } } }, /^precision\.layers\.fc1\.loss: the loss role is not per layer/],
      [{ default: { activation: { format: 'e9m9' } } }, /^precision\.default\.activation\.format/],
      [{ activationAt: 'middle' }, /^precision\.activationAt/],
      [{ switch: [{ epoch: 0 }] }, /^precision\.switch\[0\]\.epoch/],
      [{ switch: [{ epoch: 2 }, { epoch: 2 }] }, /^precision\.switch\[1\]\.epoch/],
      [{ default: { accumulator: 3 } }, /^precision\.default\.accumulator/],
      [{ defaults: {} }, /^precision\.defaults: is not a known field/],
    ];
    for (const [v, re] of cases) assert.throws(() => Policy.parse(v), (e: Error) => re.test(e.message), JSON.stringify(v));
    const p = Policy.parse({ layers: { fc9: { weight: 'e5m2' } } });
    assert.throws(() => p.checkLayers('precision', ['fc1', 'fc2']), /precision\.layers\.fc9: matches no layer[\s\S]*fc1, fc2/);
  });
  it('recipe errors name the nested field', () => {
    assert.throws(() => validatePartial({ precision: { default: { weight: { format: 'e5m2', rounding: 'x' } } } }, 'r.json'), /recipe field 'precision\.default\.weight\.rounding'/);
    assert.throws(() => validatePartial({ lossScaling: { mode: 'enhanced' } }, 'r.json'), /recipe field 'lossScaling\.minimum'/);
  });
});

describe('rounding sites', () => {
  const ctx = { seed: 7, step: 3, measure: false };
  it('roundingOp rounds forward with one quantizer and the gradient with another (straight through)', () => {
    const x = new Tensor(Float32Array.of(0.3, -1.7, 2.2), [3], true);
    const fwd = parseQuantizer('a', 'e4m3');
    const bwd = parseQuantizer('e', 'e5m2');
    const key = { seed: 0, stream: 0, offset: 0 };
    const y = roundingOp(x, (s, d) => fwd.apply(s, d, key, 1, null, false), (s, d) => bwd.apply(s, d, key, 1, null, false));
    const want = new Float32Array(3);
    quantize(x.data as Float32Array, want, 'e4m3');
    assert.deepEqual(y.data, want);
    backward(y, Float32Array.of(0.3, 1, -0.1));
    const g = new Float32Array(3);
    quantize(Float32Array.of(0.3, 1, -0.1), g, 'e5m2');
    assert.deepEqual(x.grad, g);
  });
  it('stochastic keys differ by layer, role, slot and step, and repeat for the same ones', () => {
    const k = (layer: number, role: 'weight' | 'error', slot: number, step: number) => randomKey(ctx.seed, step, layer, role, slot);
    const keys = [k(0, 'weight', 0, 3), k(1, 'weight', 0, 3), k(0, 'error', 0, 3), k(0, 'weight', 1, 3), k(0, 'weight', 0, 4)].map((x) => `${x.stream}/${x.offset}`);
    assert.equal(new Set(keys).size, keys.length);
    assert.deepEqual(k(2, 'error', 1, 9), k(2, 'error', 1, 9));
  });
  it('a Linear layer computes with rounded weights and activations and rounds its errors and gradients', () => {
    const model = createModel('mlp', { seed: 1, widths: [6, 5, 3] });
    const em = new Emulation(model.module, {
      policy: Policy.parse({ default: { weight: 'e4m3', activation: 'e5m2', error: 'e5m2', gradient: 'e4m3' } }),
      lossScaling: null, seed: 1,
    });
    assert.deepEqual(em.sites.map((s) => s.layer), ['fc1', 'fc2']);
    em.beginStep(0, 0, false);
    const x = new Tensor(randomArray(4 * 6, 2), [4, 6]);
    const logits = model.module.forward(x);
    assert.ok(onGrid(logits.data as Float32Array, 'e5m2'));
    backward(em.loss(logits, [0, 1, 2, 0]));
    for (const [, p] of model.module.namedParameters()) assert.ok(onGrid(p.grad as Float32Array, 'e4m3'));
    // The weights themselves (the master copy) are not rounded: only the copy the layer computes with.
    const w = model.module.namedParameters()[0][1].data as Float32Array;
    assert.ok(!onGrid(w, 'e4m3'));
  });
  it('the master copy and the optimizer state are rounded after each update', () => {
    const model = createModel('mlp', { seed: 1, widths: [6, 5, 3] });
    const em = new Emulation(model.module, {
      policy: Policy.parse({ default: { master: { format: 'bf16', rounding: 'stochastic' }, optimizer: 'fp16' } }), lossScaling: null, seed: 1,
    });
    const opt = createOptimizer('sgd', model.module.namedParameters(), { lr: 0.1, momentum: 0.9 });
    em.beginStep(0, 0, false);
    backward(em.loss(model.module.forward(new Tensor(randomArray(12, 3), [2, 6])), [1, 2]));
    opt.step();
    em.afterUpdate(opt);
    for (const [name, p] of model.module.namedParameters()) {
      assert.ok(onGrid(p.data as Float32Array, 'bf16'), name);
      assert.ok(onGrid(opt.liveState(name)[0][1] as Float32Array, 'fp16'), name);
    }
  });
  it('a phase switch changes the formats layers compute in from its epoch on', () => {
    const model = createModel('mlp', { seed: 1, widths: [6, 5, 3] });
    const em = new Emulation(model.module, { policy: Policy.parse({ default: { activation: 'fixed<12,4>' }, switch: [{ epoch: 2, default: { activation: 'fixed<20,12>' } }] }), lossScaling: null, seed: 1 });
    const x = new Tensor(randomArray(12, 5), [2, 6]);
    em.beginStep(10, 1, false);
    assert.ok(onGrid(model.module.forward(x).data as Float32Array, 'fixed<12,4>'));
    em.beginStep(20, 2, false);
    const y = model.module.forward(x).data as Float32Array;
    assert.ok(onGrid(y, 'fixed<20,12>') && !onGrid(y, 'fixed<12,4>'));
  });
  it('placement at inputs rounds what each layer reads', () => {
    const model = createModel('mlp', { seed: 1, widths: [6, 5, 3] });
    const em = new Emulation(model.module, { policy: Policy.parse({ default: { activation: 'e2m1' }, activationAt: 'input' }), lossScaling: null, seed: 1 });
    em.beginStep(0, 0, false);
    const site = em.sites[0];
    assert.ok(site instanceof LayerPrecision);
    const x = new Tensor(randomArray(12, 4), [2, 6]);
    assert.ok(onGrid(site.input(x).data as Float32Array, 'e2m1'));
    assert.equal(site.output(x), x);
  });
});

describe('loss role', () => {
  it('rounds the probabilities, the loss and the derivative once each, straight from float64', () => {
    const logits = new Tensor(randomArray(4 * 5, 9, 3), [4, 5], true);
    const labels = [0, 4, 2, 2];
    const q = parseQuantizer('l', 'posit<8,2>');
    const loss = roundedCrossEntropy(logits, labels, (s, d) => q.apply(s, d, { seed: 0, stream: 0, offset: 0 }, 1, null, false));
    const exact = softmaxCrossEntropy(new Tensor(logits.data, [4, 5]), labels).item();
    assert.equal(loss.item(), parseScalarFormat('posit<8,2>').round(exact));
    backward(loss);
    assert.ok(onGrid(logits.grad as Float32Array, 'posit<8,2>'));
  });
});

describe('loss scaling', () => {
  it('dynamic: grows after clean steps, backs off and skips on overflow', () => {
    const s = LossScaler.parse({ mode: 'dynamic', scale: 8, interval: 2 });
    assert.equal(s.endStep(false, 0), true);
    assert.equal(s.endStep(false, 0), true);
    assert.equal(s.scale, 16);
    assert.equal(s.endStep(true, 0), false);
    assert.equal(s.scale, 8);
    assert.equal(s.state.skipped, 1);
  });
  it('enhanced: the scale never falls below the epoch\'s minimum', () => {
    const s = LossScaler.parse({ mode: 'enhanced', scale: 4, interval: 1000, minimum: [[0, 1], [2, 64]] });
    s.beginStep(0);
    s.endStep(true, 0);
    s.endStep(true, 0);
    s.endStep(true, 0);
    assert.equal(s.scale, 1);
    s.beginStep(2);
    assert.equal(s.scale, 64);
    s.endStep(true, 2);
    assert.equal(s.scale, 64);
  });
  it('static: fixed, skips overflowed steps', () => {
    const s = LossScaler.parse({ mode: 'static', scale: 128 });
    assert.equal(s.endStep(true, 0), false);
    assert.equal(s.scale, 128);
    assert.throws(() => LossScaler.parse({ mode: 'static' }), /lossScaling\.scale/);
  });
  it('the scale multiplies the error and is divided out of the gradient before the optimizer', () => {
    const grads = (scaling: LossScaler | null): Float32Array[] => {
      const model = createModel('mlp', { seed: 5, widths: [6, 5, 3] });
      const em = new Emulation(model.module, { policy: null, lossScaling: scaling, seed: 5 });
      em.beginStep(0, 0, false);
      backward(em.loss(model.module.forward(new Tensor(randomArray(12, 6), [2, 6])), [1, 2]), em.lossSeed());
      assert.equal(em.applyGradients(model.module.namedParameters(), 0), true);
      return model.module.namedParameters().map(([, p]) => p.grad as Float32Array);
    };
    assert.deepEqual(grads(LossScaler.parse({ mode: 'static', scale: 1024 })), grads(null));
  });
  it('an overflowed gradient skips the step', () => {
    const model = createModel('mlp', { seed: 5, widths: [6, 5, 3] });
    const em = new Emulation(model.module, { policy: Policy.parse({ default: { error: 'e4m3' } }), lossScaling: LossScaler.parse({ mode: 'dynamic', scale: 2 ** 20 }), seed: 5 });
    em.beginStep(0, 0, false);
    backward(em.loss(model.module.forward(new Tensor(randomArray(12, 6), [2, 6])), [1, 2]), em.lossSeed());
    assert.equal(em.applyGradients(model.module.namedParameters(), 0), false);
    assert.equal(em.lossScaler?.scale, 2 ** 19);
  });
});

describe('telemetry', () => {
  it('reports fractions and error per layer and role, and sums a run', () => {
    const model = createModel('mlp', { seed: 1, widths: [6, 5, 3] });
    const em = new Emulation(model.module, { policy: Policy.parse({ default: { activation: { format: 'e4m3', subnormals: 'flush' }, weight: 'fixed<4,2>' } }), lossScaling: null, seed: 1 });
    em.beginStep(0, 0, true);
    const x = randomArray(12, 8, 1e-3);
    model.module.forward(new Tensor(x, [2, 6]));
    const r = em.report();
    const w = r.layers.fc1.weight;
    assert.equal(w.values, 35);
    assert.equal(w.overflowAs, 'saturate');
    assert.ok(w.relativeRms! > 0 && w.snrDb! > 0);
    assert.equal(r.layers.fc1.activation.overflowAs, 'inf-nan');
    // the window resets
    assert.deepEqual(em.report().layers, {});
    const s = summarizeTelemetry([{ type: 'train' }, { type: 'telemetry', globalStep: 1, ...r }, { type: 'telemetry', globalStep: 2, ...r }]);
    assert.equal(s.layers.fc1.weight.values, 70);
    assert.ok(Math.abs(s.layers.fc1.weight.relativeRms! - w.relativeRms!) < 1e-15);
    assert.ok(Math.abs(s.layers.fc1.weight.snrDb! + 20 * Math.log10(w.relativeRms!)) < 1e-9);
  });
});

describe('accumulators in layers', () => {
  function positnnExample(accumulator: string, measure = true): number {
    const layer = new Linear(new Initializer(0), 4, 1, false);
    layer.weight.data.set([10, 10, 10, 2]);
    const em = new Emulation(layer, { policy: Policy.parse({ default: { weight: 'posit<8,0>', activation: 'posit<8,0>', accumulator } }), lossScaling: null, seed: 0 });
    em.beginStep(0, 0, measure);
    const y = layer.forward(new Tensor(Float32Array.of(2, 2, 2, 2), [1, 4]));
    const report = em.report();
    // events are counted on the steps that measure; the others compute the same values
    assert.equal(report.accumulators?.[''].products, measure ? 4 : undefined);
    return y.item();
  }
  it('PositNN\'s example: posit<8,0> sums 2×10 + 2×10 + 2×10 + 2×2 to 32 when every product and add rounds, to 64 in a quire', () => {
    for (const measure of [true, false]) {
      assert.equal(positnnExample('posit<8,0> product=posit<8,0>', measure), 32);
      assert.equal(positnnExample('exact', measure), 64);
    }
  });
  it('an accumulator spec error names the policy field', () => {
    assert.throws(() => Policy.parse({ default: { accumulator: 'float<4,7> order=chunk:0' } }), (e: Error) => /^precision\.default\.accumulator: invalid accumulator spec/.test(e.message));
  });
  it('mask-overflow stops the gradient at outputs whose accumulation overflowed; ste passes it', () => {
    const grad = (mode: 'ste' | 'mask-overflow'): Float32Array => {
      const layer = new Linear(new Initializer(0), 2, 2, false);
      layer.weight.data.set([100, 100, 0.5, 0.5]);
      const em = new Emulation(layer, { policy: Policy.parse({ default: { accumulator: 'fixed<8,2> overflow=saturate' }, accumulatorGradient: mode }), lossScaling: null, seed: 0 });
      em.beginStep(0, 0, false);
      backward(layer.forward(new Tensor(Float32Array.of(1, 1), [1, 2])), Float32Array.of(1, 1));
      return layer.weight.grad as Float32Array;
    };
    // output 0 (100 + 100) saturates fixed<8,2>; output 1 (0.5 + 0.5) does not
    assert.deepEqual(grad('ste'), Float32Array.of(1, 1, 1, 1));
    assert.deepEqual(grad('mask-overflow'), Float32Array.of(0, 0, 1, 1));
  });
});

describe('accumulators in convolutions', () => {
  it('a Conv2d layer runs its three products through its accumulator model', () => {
    const run = (accumulator: string | null) => {
      const model = createModel('lenet5', { seed: 3 });
      const em = new Emulation(model.module, { policy: Policy.parse({ layers: { conv2: { accumulator } } }), lossScaling: null, seed: 3 });
      em.beginStep(0, 0, true);
      const x = new Tensor(randomArray(2 * 28 * 28, 11), [2, 1, 28, 28]);
      backward(em.loss(model.module.forward(x), [3, 7]));
      const conv2 = model.module.namedParameters().find(([n]) => n === 'conv2.weight')![1];
      return { grad: conv2.grad as Float32Array, acc: em.report().accumulators };
    };
    const fp32 = run(null);
    const exact = run('exact');
    // 16 output channels × 6·5·5 inputs × 2 images · 10·10 positions, for each of the three products
    assert.equal(exact.acc?.conv2.products, 3 * 16 * 150 * 200);
    assert.equal(fp32.acc, undefined);
    // a quire differs from fp32 fused multiply-adds only in the last bits
    const g1 = fp32.grad, g2 = exact.grad;
    let diff = 0;
    for (let i = 0; i < g1.length; i++) diff = Math.max(diff, Math.abs(g1[i] - g2[i]) / Math.max(1e-6, Math.abs(g1[i])));
    assert.ok(diff < 1e-3, `relative difference ${diff}`);
    const narrow = run('float<4,3> overflow=saturate');
    assert.ok(narrow.acc!.conv2.swamped > 0.01, 'a 4-bit-mantissa accumulator swamps');
  });
});

describe('a product that rounds straight into the activation format', () => {
  function run(measure: boolean, accumulator: string | null) {
    const model = createModel('lenet5', { seed: 5 });
    const policy = Policy.parse({ layers: { conv2: { accumulator, activation: { format: 'posit<8,2>' } } } });
    const em = new Emulation(model.module, { policy, lossScaling: null, seed: 5 });
    em.beginStep(0, 0, measure);
    const y = model.module.forward(new Tensor(randomArray(2 * 784, 13), [2, 1, 28, 28]));
    return { y: y.data as Float32Array, activation: em.report().layers.conv2?.activation };
  }
  it('is not rounded again, and its telemetry on a logged step measures that rounding (not a no-op second pass)', () => {
    const logged = run(true, 'exact');
    // 16 channels × 10·10 positions × 2 images, their rounding error that of posit<8,2> (a few percent), none exact
    assert.equal(logged.activation?.values, 3200);
    assert.ok(logged.activation!.relativeRms! > 0.005 && logged.activation!.relativeRms! < 0.1, JSON.stringify(logged.activation));
    // the values do not depend on the measuring, and an unlogged step reports nothing for the role
    const unlogged = run(false, 'exact');
    assert.deepEqual(unlogged.y, logged.y);
    assert.equal(unlogged.activation, undefined);
    // with the fp32 GEMM the activation is rounded as a pass of its own, measured the same way
    const fp32 = run(true, null);
    assert.equal(fp32.activation?.values, 3200);
    assert.ok(Math.abs(fp32.activation!.relativeRms! - logged.activation!.relativeRms!) < 0.01, `${fp32.activation!.relativeRms} vs ${logged.activation!.relativeRms}`);
  });
});

describe('accumulators in sampled products', () => {
  function run(pass: 'forward' | 'backward' | 'blackbox', accumulatorGradient: 'ste' | 'mask-overflow' = 'ste') {
    const model = createModel('lenet5', { seed: 4 });
    const approx = applyApprox(model.module.namedModules(), parseApproxConfig({ method: 'topk', pass, ratio: 0.5, layers: { conv2: {}, fc1: {} } }), model.rng);
    const em = new Emulation(model.module, { policy: Policy.parse({ default: { accumulator: 'float<8,23>' }, accumulatorGradient }), lossScaling: null, seed: 4 });
    em.beginStep(0, 0, true);
    backward(em.loss(model.module.forward(new Tensor(randomArray(2 * 784, 12), [2, 1, 28, 28])), [1, 8]));
    return { acc: em.report().accumulators!, macs: approx.take() };
  }
  it('run through the layer\'s accumulator model in every pass, the multiply-adds done matching the sampled count', () => {
    for (const pass of ['forward', 'backward', 'blackbox'] as const) {
      const { acc } = run(pass);
      assert.ok(acc.conv2.products > 0 && acc.fc1.products > 0, pass);
      assert.equal(acc.conv1.products, 3 * 6 * 25 * 2 * 784 - 6 * 25 * 2 * 784, 'conv1 (exact, not sampled): forward and weight gradient; no input gradient for the image');
    }
    const fwd = run('forward');
    // forward sampling: fc1 (120 → 84)'s three products each run over the kept half of its 120 inputs
    assert.equal(fwd.acc.fc1.products, 3 * 2 * 84 * 60);
  });
  it('mask-overflow with backward sampling is an error, not a silently dropped mask', () => {
    assert.throws(() => run('backward', 'mask-overflow'), /mask-overflow' works with forward sampling only/);
    assert.doesNotThrow(() => run('forward', 'mask-overflow'));
  });
});

describe('block formats in policies', () => {
  it('block a convolution\'s weights along their whole fan-in, one shared scale per output channel', () => {
    const model = createModel('lenet5', { seed: 6 });
    const em = new Emulation(model.module, { policy: Policy.parse({ layers: { conv2: { weight: { format: 'mx<e2m1,block=150>' } } } }), lossScaling: null, seed: 6 });
    em.beginStep(0, 0, false);
    const conv2 = model.module.namedModules().find(([n]) => n === 'conv2')![1] as unknown as { weight: Tensor; precision: LayerPrecision };
    const w = conv2.precision.param(conv2.weight, 0).data as Float32Array;
    const want = new Float32Array(w.length);
    quantize(conv2.weight.data as Float32Array, want, 'mx<e2m1,block=150>', { lastAxis: 150 });
    assert.deepEqual(w, want);
    const rowOf5 = new Float32Array(w.length);
    quantize(conv2.weight.data as Float32Array, rowOf5, 'mx<e2m1,block=150>', { lastAxis: 5 });
    assert.notDeepEqual(w, rowOf5);
  });
});
