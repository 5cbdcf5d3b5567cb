/**
 * Optimizers against reference formulas written here from PyTorch's
 * documented pseudo-code (torch.optim.SGD / Adam / AdamW), checkpoint state
 * round trips, option validation, and learning-rate schedules.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OptionError } from '../../src/errors.js';
import {
  Adam, AdamW, createOptimizer, describeSchedule, formatSchedule, learningRate, parseSchedule, scheduleFromJSON, scheduleToJSON, SGD,
  type NamedParameters, type Optimizer, type Schedule,
} from '../../src/optim/index.js';
import { tensor, type DType, type Tensor } from '../../src/tensor/tensor.js';

// ---------------------------------------------------------------- helpers

const INIT = [0.5, -1.25, 2, 0.75, -0.3, 1.1, 0.2, -2.5, 0.9]; // weight [2,3] then bias [3]
const TARGET = [1, 0, -1, 0.5, 2, -0.5, 0, 1, 0.25];
const CURV = [1, 3, 0.5, 2, 1.5, 0.25, 4, 1, 0.8];

/** The gradient at step k of a quadratic with a step-dependent wobble (so gradients differ every step). */
function gradAt(p: ArrayLike<number>, k: number): number[] {
  return Array.from(p, (x, i) => CURV[i] * (x - TARGET[i]) + 0.1 * Math.sin(1.7 * k + i));
}

function makeParams(dtype: DType, values = INIT): NamedParameters {
  return [
    ['fc.weight', tensor(values.slice(0, 6), [2, 3], { dtype, requiresGrad: true })],
    ['fc.bias', tensor(values.slice(6), [3], { dtype, requiresGrad: true })],
  ];
}

const flat = (ps: NamedParameters): number[] => ps.flatMap(([, t]) => Array.from(t.data));

/** Sets each parameter's grad from gradAt over the concatenated values. */
function setGrads(ps: NamedParameters, k: number, skipBias = false): void {
  const g = gradAt(flat(ps), k);
  let o = 0;
  for (const [name, t] of ps) {
    t.grad = skipBias && name === 'fc.bias' ? null : (t.dtype === 'float64' ? Float64Array : Float32Array).from(g.slice(o, o + t.size));
    o += t.size;
  }
}

/** `steps` optimizer steps; lrs[k] (if given) is the learning rate of step k+1. */
function run(opt: Optimizer, ps: NamedParameters, from: number, to: number, lrs?: (k: number) => number, skip?: (k: number) => boolean): void {
  for (let k = from; k < to; k++) {
    if (lrs) opt.lr = lrs(k);
    setGrads(ps, k, skip?.(k) ?? false);
    opt.step();
    opt.zeroGrad();
  }
}

function assertClose(got: readonly number[], want: readonly number[], rel: number, what: string): void {
  assert.equal(got.length, want.length);
  for (let i = 0; i < got.length; i++) {
    const tol = rel * Math.max(1, Math.abs(want[i]));
    assert.ok(Math.abs(got[i] - want[i]) <= tol, `${what}[${i}]: got ${got[i]}, want ${want[i]}`);
  }
}

// ------------------------------------------- references from the PyTorch docs

interface SGDRef { lr: number; momentum: number; dampening: number; weightDecay: number; nesterov: boolean }

function referenceSGD(o: SGDRef, steps: number, lrs?: (k: number) => number): number[] {
  let theta = [...INIT];
  let b: number[] = [];
  for (let t = 1; t <= steps; t++) {
    const lr = lrs ? lrs(t - 1) : o.lr;
    let g = gradAt(theta, t - 1);
    if (o.weightDecay !== 0) g = g.map((gi, i) => gi + o.weightDecay * theta[i]);
    if (o.momentum !== 0) {
      b = t > 1 ? b.map((bi, i) => o.momentum * bi + (1 - o.dampening) * g[i]) : [...g];
      g = o.nesterov ? g.map((gi, i) => gi + o.momentum * b[i]) : [...b];
    }
    theta = theta.map((x, i) => x - lr * g[i]);
  }
  return theta;
}

interface AdamRef { lr: number; beta1: number; beta2: number; eps: number; weightDecay: number; decoupled: boolean }

function referenceAdam(o: AdamRef, steps: number, lrs?: (k: number) => number): number[] {
  let theta = [...INIT];
  let m = theta.map(() => 0);
  let v = theta.map(() => 0);
  for (let t = 1; t <= steps; t++) {
    const lr = lrs ? lrs(t - 1) : o.lr;
    let g = gradAt(theta, t - 1);
    if (o.decoupled) theta = theta.map((x) => x - lr * o.weightDecay * x);
    else if (o.weightDecay !== 0) g = g.map((gi, i) => gi + o.weightDecay * theta[i]);
    m = m.map((mi, i) => o.beta1 * mi + (1 - o.beta1) * g[i]);
    v = v.map((vi, i) => o.beta2 * vi + (1 - o.beta2) * g[i] * g[i]);
    const mHat = m.map((x) => x / (1 - o.beta1 ** t));
    const vHat = v.map((x) => x / (1 - o.beta2 ** t));
    theta = theta.map((x, i) => x - (lr * mHat[i]) / (Math.sqrt(vHat[i]) + o.eps));
  }
  return theta;
}

const wavyLr = (k: number) => 0.05 * (1 + 0.5 * Math.cos(k));

// ------------------------------------------------------------------ tests

describe('SGD matches torch.optim.SGD', () => {
  const cases: [string, SGDRef][] = [
    ['plain', { lr: 0.1, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false }],
    ['momentum', { lr: 0.05, momentum: 0.9, dampening: 0, weightDecay: 0, nesterov: false }],
    ['momentum + dampening', { lr: 0.05, momentum: 0.8, dampening: 0.3, weightDecay: 0, nesterov: false }],
    ['nesterov', { lr: 0.05, momentum: 0.9, dampening: 0, weightDecay: 0, nesterov: true }],
    ['weight decay', { lr: 0.1, momentum: 0, dampening: 0, weightDecay: 0.01, nesterov: false }],
    ['nesterov + weight decay', { lr: 0.05, momentum: 0.7, dampening: 0, weightDecay: 5e-4, nesterov: true }],
  ];
  for (const [name, o] of cases) {
    it(`${name}: 8 steps, float64`, () => {
      const ps = makeParams('float64');
      const opt = new SGD(ps, o);
      run(opt, ps, 0, 8);
      assertClose(flat(ps), referenceSGD(o, 8), 1e-14, name);
      assert.equal(opt.stepCount, 8);
    });
  }
  it('reads the learning rate at every step', () => {
    const o = { lr: 0.05, momentum: 0.9, dampening: 0, weightDecay: 1e-3, nesterov: true };
    const ps = makeParams('float64');
    run(new SGD(ps, o), ps, 0, 8, wavyLr);
    assertClose(flat(ps), referenceSGD(o, 8, wavyLr), 1e-14, 'sgd');
  });
  it('a known step: p = 1, g = 2, lr = 0.1 → 0.8; momentum buffer starts at g', () => {
    const p = tensor([1], [1], { dtype: 'float64' });
    const opt = new SGD([['p', p]], { lr: 0.1, momentum: 0.5, dampening: 0.5 });
    p.grad = new Float64Array([2]);
    opt.step();
    assert.equal(p.data[0], 0.8);
    assert.deepEqual(Array.from(opt.state().get('p.momentum')!), [2]);
    opt.step(); // buf = 0.5·2 + 0.5·2 = 2
    assert.ok(Math.abs(p.data[0] - 0.6) < 1e-15);
  });
});

describe('Adam and AdamW match torch.optim', () => {
  const cases: [string, AdamRef][] = [
    ['adam', { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupled: false }],
    ['adam + L2', { lr: 0.02, beta1: 0.8, beta2: 0.99, eps: 1e-6, weightDecay: 0.1, decoupled: false }],
    ['adam, beta1 = 0.3 (the other lerp branch)', { lr: 0.01, beta1: 0.3, beta2: 0.9, eps: 1e-8, weightDecay: 0, decoupled: false }],
    ['adamw', { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, decoupled: true }],
    ['adamw, strong decay', { lr: 0.05, beta1: 0.85, beta2: 0.995, eps: 1e-8, weightDecay: 0.5, decoupled: true }],
  ];
  for (const [name, o] of cases) {
    it(`${name}: 10 steps, float64, varying lr`, () => {
      const ps = makeParams('float64');
      const opts = { lr: o.lr, betas: [o.beta1, o.beta2] as const, eps: o.eps, weightDecay: o.weightDecay };
      const opt = o.decoupled ? new AdamW(ps, opts) : new Adam(ps, opts);
      run(opt, ps, 0, 10, wavyLr);
      assertClose(flat(ps), referenceAdam(o, 10, wavyLr), 1e-12, name);
    });
  }
  it('defaults: betas (0.9, 0.999), eps 1e-8, weight decay 0 (adam) and 0.01 (adamw)', () => {
    const a = new Adam(makeParams('float64'), { lr: 1e-3 });
    const w = new AdamW(makeParams('float64'), { lr: 1e-3 });
    assert.deepEqual([a.beta1, a.beta2, a.eps, a.weightDecay], [0.9, 0.999, 1e-8, 0]);
    assert.deepEqual([w.beta1, w.beta2, w.eps, w.weightDecay], [0.9, 0.999, 1e-8, 0.01]);
  });
  it("Adam's first step moves each parameter by ≈ lr·sign(g)", () => {
    const g = [3, -0.5, 1e-3, -200, 0.07];
    const p = tensor([0, 1, -1, 5, 2], [5], { dtype: 'float64' });
    const before = Array.from(p.data);
    const lr = 0.01;
    const opt = new Adam([['p', p]], { lr });
    p.grad = new Float64Array(g);
    opt.step();
    for (let i = 0; i < g.length; i++) {
      const moved = p.data[i] - before[i];
      assert.ok(Math.abs(moved + lr * Math.sign(g[i])) < 1e-4 * lr, `element ${i} moved ${moved}`);
    }
  });
  it('a parameter without a gradient is skipped and its step count does not advance', () => {
    const ps = makeParams('float64');
    const bias = Array.from(ps[1][1].data);
    const opt = new Adam(ps, { lr: 0.01 });
    run(opt, ps, 0, 3, undefined, () => true);
    assert.deepEqual(Array.from(ps[1][1].data), bias);
    assert.equal(opt.state().has('fc.bias.exp_avg'), false);
    run(opt, ps, 3, 5);
    assert.deepEqual(Array.from(opt.state().get('fc.weight.step')!), [5]);
    assert.deepEqual(Array.from(opt.state().get('fc.bias.step')!), [2]);
    assert.equal(opt.stepCount, 5);
  });
});

describe('convergence on a quadratic', () => {
  const solve = (make: (ps: NamedParameters) => Optimizer, steps: number, lrs?: (k: number) => number) => {
    const ps = makeParams('float64');
    const opt = make(ps);
    for (let k = 0; k < steps; k++) {
      if (lrs) opt.lr = lrs(k);
      const g = flat(ps).map((x, i) => CURV[i] * (x - TARGET[i]));
      ps[0][1].grad = Float64Array.from(g.slice(0, 6));
      ps[1][1].grad = Float64Array.from(g.slice(6));
      opt.step();
      opt.zeroGrad();
    }
    return flat(ps);
  };
  it('sgd, sgd + nesterov', () => {
    assertClose(solve((ps) => new SGD(ps, { lr: 0.1 }), 600), TARGET, 1e-6, 'sgd');
    assertClose(solve((ps) => new SGD(ps, { lr: 0.05, momentum: 0.9, nesterov: true }), 600), TARGET, 1e-6, 'nesterov');
  });
  it('adam and adamw with a cosine schedule', () => {
    const cos = parseSchedule('cosine');
    const lrs = (k: number) => learningRate(cos, 0.1, { epoch: Math.floor(k / 100), step: k % 100, stepsPerEpoch: 100, epochs: 20 });
    assertClose(solve((ps) => new Adam(ps, { lr: 0.1 }), 2000, lrs), TARGET, 1e-3, 'adam');
    assertClose(solve((ps) => new AdamW(ps, { lr: 0.1, weightDecay: 0 }), 2000, lrs), TARGET, 1e-3, 'adamw');
  });
});

describe('state for checkpoints', () => {
  const makers: [string, (ps: NamedParameters) => Optimizer][] = [
    ['sgd + nesterov', (ps) => createOptimizer('sgd', ps, { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-3 })],
    ['sgd + dampening', (ps) => createOptimizer('sgd', ps, { lr: 0.05, momentum: 0.9, dampening: 0.2 })],
    ['adam', (ps) => createOptimizer('adam', ps, { lr: 0.01, weightDecay: 1e-3 })],
    ['adamw', (ps) => createOptimizer('adamw', ps, { lr: 0.01 })],
  ];
  for (const dtype of ['float32', 'float64'] as const) {
    for (const [name, make] of makers) {
      it(`${name}, ${dtype}: save after 5 steps, load into a fresh optimizer, continue = uninterrupted run, bit for bit`, () => {
        const skip = (k: number) => k === 1 || k === 7; // the bias misses some updates
        const whole = makeParams(dtype);
        run(make(whole), whole, 0, 12, wavyLr, skip);

        const first = makeParams(dtype);
        const a = make(first);
        run(a, first, 0, 5, wavyLr, skip);
        const saved = a.state();
        for (const [k, s] of saved) assert.equal(s instanceof Float64Array, dtype === 'float64' || k.endsWith('.step'), k);
        const resumed = makeParams(dtype, flat(first));
        const b = make(resumed);
        b.loadState(saved, a.stepCount);
        assert.equal(b.stepCount, 5);
        run(b, resumed, 5, 12, wavyLr, skip);

        for (let i = 0; i < 2; i++) assert.deepEqual(resumed[i][1].data, whole[i][1].data, resumed[i][0]);
      });
    }
  }
  it('names every state array <param>.<slot>, in the parameter dtype', () => {
    const ps = makeParams('float32');
    const adam = new Adam(ps, { lr: 0.01 });
    run(adam, ps, 0, 1);
    assert.deepEqual([...adam.state().keys()], [
      'fc.weight.exp_avg', 'fc.weight.exp_avg_sq', 'fc.weight.step', 'fc.bias.exp_avg', 'fc.bias.exp_avg_sq', 'fc.bias.step',
    ]);
    assert.ok(adam.state().get('fc.bias.exp_avg') instanceof Float32Array);
    const sgd = new SGD(ps, { lr: 0.01, momentum: 0.9 });
    run(sgd, ps, 0, 1);
    assert.deepEqual([...sgd.state().keys()], ['fc.weight.momentum', 'fc.bias.momentum']);
    assert.equal(new SGD(ps, { lr: 0.01 }).state().size, 0);
  });
  it('state() returns copies', () => {
    const ps = makeParams('float64');
    const opt = new SGD(ps, { lr: 0.01, momentum: 0.9 });
    run(opt, ps, 0, 1);
    opt.state().get('fc.bias.momentum')!.fill(99);
    assert.notEqual(opt.state().get('fc.bias.momentum')![0], 99);
  });
  it('loadState names the missing, unknown or mismatched entry and changes nothing on error', () => {
    const ps = makeParams('float32');
    const opt = new Adam(ps, { lr: 0.01 });
    run(opt, ps, 0, 2);
    const good = opt.state();
    const without = (k: string) => new Map([...good].filter(([n]) => n !== k));
    const check = (tensors: Map<string, Float32Array | Float64Array>, pattern: RegExp, steps = 2) => {
      const fresh = new Adam(makeParams('float32'), { lr: 0.01 });
      assert.throws(() => fresh.loadState(tensors, steps), (e: unknown) => e instanceof OptionError && pattern.test(e.message));
      assert.equal(fresh.state().size, 0);
      assert.equal(fresh.stepCount, 0);
    };
    check(without('fc.bias.exp_avg_sq'), /missing 'fc\.bias\.exp_avg_sq'/);
    check(new Map([...good, ['fc.bais.exp_avg', new Float32Array(3)]]), /unknown optimizer state 'fc\.bais\.exp_avg'/);
    check(new Map([...good, ['fc.weight.exp_avg', new Float32Array(5)]]), /'fc\.weight\.exp_avg' has 5 elements, expected 6/);
    check(new Map([...good, ['fc.weight.exp_avg', new Float64Array(6)]]), /'fc\.weight\.exp_avg' is float64, expected float32/);
    check(new Map([...good, ['fc.bias.step', new Float64Array([3])]]), /'fc\.bias\.step' is 3/);
    check(good, /step count -1/, -1);
    // a record works as well as a Map
    const fresh = new Adam(makeParams('float32'), { lr: 0.01 });
    fresh.loadState(Object.fromEntries(good), 2);
    assert.deepEqual(fresh.state(), good);
  });
});

describe('options', () => {
  const ps = () => makeParams('float64');
  const rejects = (f: () => unknown, pattern: RegExp) => assert.throws(f, (e: unknown) => e instanceof OptionError && pattern.test(e.message), String(pattern));
  it('errors name the option', () => {
    rejects(() => createOptimizer('sgd', ps(), { lr: 0 }), /learning rate 0/);
    rejects(() => createOptimizer('sgd', ps(), { lr: Number.NaN }), /learning rate NaN/);
    rejects(() => createOptimizer('sgd', ps(), { lr: 0.1, momentum: 1 }), /momentum = 1 .*\[0, 1\)/);
    rejects(() => createOptimizer('sgd', ps(), { lr: 0.1, momentum: -0.1 }), /momentum/);
    rejects(() => createOptimizer('sgd', ps(), { lr: 0.1, dampening: 2 }), /dampening/);
    rejects(() => createOptimizer('sgd', ps(), { lr: 0.1, weightDecay: -1 }), /weightDecay/);
    rejects(() => createOptimizer('sgd', ps(), { lr: 0.1, nesterov: true }), /nesterov needs momentum > 0/);
    rejects(() => createOptimizer('sgd', ps(), { lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true }), /nesterov .*dampening 0/);
    rejects(() => createOptimizer('adam', ps(), { lr: 0.1, betas: [1, 0.999] }), /betas\[0\]/);
    rejects(() => createOptimizer('adamw', ps(), { lr: 0.1, betas: [0.9, -1] }), /betas\[1\]/);
    rejects(() => createOptimizer('adam', ps(), { lr: 0.1, eps: -1 }), /eps/);
    rejects(() => createOptimizer('adam', ps(), { lr: 0.1, momentun: 0.9 } as never), /no option 'momentun'/);
    rejects(() => createOptimizer('rmsprop' as never, ps(), { lr: 0.1 }), /unknown optimizer 'rmsprop'/);
    rejects(() => new Adam(ps(), { lr: 0.1, momentum: 0.9 } as never), /adam has no option 'momentum'/);
  });
  it("createOptimizer ignores another optimizer's options", () => {
    const a = createOptimizer('adam', ps(), { lr: 0.1, momentum: 0.9, nesterov: false, weightDecay: 0 });
    assert.ok(a instanceof Adam);
    const s = createOptimizer('sgd', ps(), { lr: 0.1, momentum: 0.9, betas: [0.9, 0.99] });
    assert.equal(s.momentum, 0.9);
  });
  it('parameters: names unique, tensors listed once, at least one', () => {
    const [w, b] = ps();
    rejects(() => new SGD([w, ['fc.weight', b[1]]], { lr: 0.1 }), /'fc\.weight' appears twice/);
    rejects(() => new SGD([w, ['other', w[1]]], { lr: 0.1 }), /already listed/);
    rejects(() => new SGD([], { lr: 0.1 }), /at least one parameter/);
  });
  it('lr can be set to ≥ 0 (a schedule may reach 0), not below', () => {
    const opt = new SGD(ps(), { lr: 0.1 });
    opt.lr = 0;
    assert.equal(opt.lr, 0);
    rejects(() => { opt.lr = -1e-3; }, /learning rate -0\.001/);
    rejects(() => { opt.lr = Infinity; }, /learning rate Infinity/);
  });
  it('zeroGrad sets every gradient to null; a wrong-length gradient is an error', () => {
    const p = ps();
    const opt = new SGD(p, { lr: 0.1 });
    setGrads(p, 0);
    opt.zeroGrad();
    for (const [, t] of p) assert.equal(t.grad, null);
    (p[1][1] as Tensor).grad = new Float64Array(2);
    rejects(() => opt.step(), /'fc\.bias' has 3 elements but its gradient has 2/);
    assert.equal(opt.stepCount, 0);
  });
});

describe('learning-rate schedules', () => {
  const at = (epoch: number, step = 0, stepsPerEpoch = 100, epochs = 10) => ({ epoch, step, stepsPerEpoch, epochs });
  it('constant', () => {
    assert.equal(learningRate(parseSchedule('constant'), 0.1, at(7, 42)), 0.1);
  });
  it('step:4:0.5 — epochs 0..3 give lr, 4..7 lr/2, 8.. lr/4; steps within the epoch do not matter', () => {
    const s = parseSchedule('step:4:0.5');
    for (let e = 0; e < 12; e++) {
      for (const step of [0, 57, 99]) assert.equal(learningRate(s, 0.1, at(e, step)), e < 4 ? 0.1 : e < 8 ? 0.05 : 0.025, `epoch ${e}`);
    }
    assert.deepEqual(parseSchedule('step:30'), { kind: 'step', every: 30, gamma: 0.1 });
  });
  it('cosine (per step): lr at the start, the mean at the midpoint, min at the end', () => {
    const s = parseSchedule('cosine:min=0.0001');
    const lr = 0.1;
    assert.equal(learningRate(s, lr, at(0)), lr);
    assert.ok(Math.abs(learningRate(s, lr, at(5)) - (lr + 1e-4) / 2) < 1e-15);
    const q = learningRate(s, lr, at(2, 50)); // t/T = 1/4
    assert.ok(Math.abs(q - (1e-4 + (lr - 1e-4) * (1 + Math.SQRT1_2) / 2)) < 1e-15);
    const last = learningRate(s, lr, at(9, 99));
    assert.ok(last > 1e-4 && last < 1e-4 + 1e-6, String(last));
    assert.equal(learningRate(s, lr, at(10)), 1e-4);
    assert.equal(learningRate(parseSchedule('cosine'), lr, at(12)), 0);
    // strictly decreasing within an epoch (per step, not per epoch)
    assert.ok(learningRate(s, lr, at(3, 10)) < learningRate(s, lr, at(3, 9)));
  });
  it('warmup:500+cosine: a linear ramp from 0, times the cosine, continuous at the end of the ramp', () => {
    const s = parseSchedule('warmup:500+cosine');
    const cos = parseSchedule('cosine');
    const lr = 0.2;
    const t = (k: number) => at(Math.floor(k / 100), k % 100);
    assert.equal(learningRate(s, lr, t(0)), 0);
    for (const k of [1, 100, 250, 499]) {
      assert.ok(Math.abs(learningRate(s, lr, t(k)) - (k / 500) * learningRate(cos, lr, t(k))) < 1e-15, `step ${k}`);
    }
    assert.equal(learningRate(s, lr, t(500)), learningRate(cos, lr, t(500)));
    assert.ok(Math.abs(learningRate(s, lr, t(499)) - learningRate(s, lr, t(500))) < 1e-3);
  });
  it('warm-up in epochs, with a start factor, over a step schedule; warmup alone means constant', () => {
    const s = parseSchedule('warmup:2epochs:start=0.1+step:1:0.5');
    assert.deepEqual(s, { kind: 'step', every: 1, gamma: 0.5, warmup: { length: 2, unit: 'epochs', start: 0.1 } });
    assert.equal(learningRate(s, 1, at(0, 0, 10)), 0.1);
    assert.ok(Math.abs(learningRate(s, 1, at(0, 5, 10)) - (0.1 + 0.9 * 0.25)) < 1e-15);
    assert.ok(Math.abs(learningRate(s, 1, at(1, 0, 10)) - 0.5 * (0.1 + 0.9 * 0.5)) < 1e-15);
    assert.equal(learningRate(s, 1, at(2, 0, 10)), 0.25);
    const w = parseSchedule('warmup:10');
    assert.deepEqual(w, { kind: 'constant', warmup: { length: 10, unit: 'steps', start: 0 } });
    assert.equal(learningRate(w, 0.5, at(0, 5)), 0.25);
  });
  it('parser errors name the bad part and list the valid forms', () => {
    const bad: [string, RegExp][] = [
      ['cosin', /unknown schedule 'cosin'/],
      ['', /empty/],
      ['step', /step is step:EVERY\[:GAMMA\]/],
      ['step:0:0.5', /step interval \(epochs\) '0'/],
      ['step:4:abc', /step factor 'abc'/],
      ['step:4:-1', /step factor '-1'/],
      ['cosine:max=1', /unknown cosine option 'max=1'/],
      ['cosine:min=-1', /cosine minimum '-1'/],
      ['constant:3', /constant takes no arguments/],
      ['cosine+warmup:5', /only a warm-up can come before '\+'/],
      ['warmup:x+cosine', /warm-up length 'x'/],
      ['warmup:5:start=2+cosine', /warm-up start '2'/],
      ['warmup:5+', /nothing after '\+'/],
      ['warmup:5+warmup:3+cosine', /a warm-up comes first and once/],
    ];
    for (const [text, pattern] of bad) {
      assert.throws(() => parseSchedule(text), (e: unknown) => e instanceof OptionError && pattern.test(e.message) && /step:EVERY/.test(e.hint) && /cosine\[:min=LR\]/.test(e.hint), text);
    }
    assert.deepEqual(parseSchedule(' cosine:min=1e+3 '), { kind: 'cosine', min: 1000 });
  });
  it('string and JSON forms round-trip with the parser', () => {
    for (const text of ['constant', 'step:4:0.5', 'step:30', 'cosine', 'cosine:min=0.0001', 'cosine:min=1e-7', 'warmup:500+cosine', 'warmup:3epochs:start=0.25+step:2:0.3', 'warmup:7']) {
      const s = parseSchedule(text);
      assert.deepEqual(parseSchedule(formatSchedule(s)), s, text);
      const json: unknown = JSON.parse(JSON.stringify(s));
      assert.deepEqual(scheduleFromJSON(json), s, text);
      assert.deepEqual(scheduleToJSON(s), s, text);
      assert.equal(typeof describeSchedule(s), 'string');
    }
    assert.equal(formatSchedule(parseSchedule('warmup:500steps+cosine:min=0')), 'warmup:500+cosine');
    assert.match(describeSchedule(parseSchedule('warmup:500+cosine')), /linear warm-up over 500 steps/);
    assert.deepEqual(scheduleFromJSON({ kind: 'step', every: 3 }), { kind: 'step', every: 3, gamma: 0.1 });
    const jsonBad: [unknown, RegExp][] = [
      [{ kind: 'step' }, /step\.every/],
      [{ kind: 'cosine', foo: 1 }, /unknown field cosine\.foo/],
      [{ kind: 'linear' }, /kind "linear"/],
      [{ kind: 'constant', warmup: { length: 0 } }, /warmup\.length/],
      [{ kind: 'constant', warmup: { length: 5, unit: 'hours' } }, /warmup\.unit/],
      ['cosine', /not an object/],
    ];
    for (const [v, pattern] of jsonBad) assert.throws(() => scheduleFromJSON(v), (e: unknown) => e instanceof OptionError && pattern.test(e.message), String(pattern));
  });
  it('positions are checked', () => {
    const s: Schedule = { kind: 'cosine', min: 0 };
    assert.throws(() => learningRate(s, 0.1, { epoch: 0, step: 0, stepsPerEpoch: 10 }), /total number of epochs/);
    assert.throws(() => learningRate(s, 0.1, at(0, 100)), /step 100/);
    assert.throws(() => learningRate(s, 0.1, at(0, 0, 0)), /stepsPerEpoch 0/);
  });
});
