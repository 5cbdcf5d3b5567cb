/**
 * The `approx` recipe field and attaching it to a model: defaults, errors
 * naming the exact subfield, layer patterns, per-layer settings, exact
 * evaluation, and sampling that depends only on the seed and the step.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyApprox, ApproxConfigError, parseApproxConfig } from '../../src/approx/index.js';
import { Conv2d, Linear } from '../../src/nn/layers.js';
import { createModel } from '../../src/nn/zoo.js';
import { noGrad, Tensor } from '../../src/tensor/index.js';
import { RecipeError, resolveRecipe, validatePartial } from '../../src/train/recipe.js';
import { Rng } from '../support/rng.js';

function throwsField(fn: () => unknown, field: string, cls: typeof ApproxConfigError | typeof RecipeError = ApproxConfigError): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof cls, `a ${cls.name}, got ${String(e)}`);
    assert.equal(e.field, field);
    assert.ok(e.hint.length > 0, 'a hint');
    return true;
  });
}

function images(n: number, seed: number): Tensor {
  const rng = new Rng(seed);
  return new Tensor(Float32Array.from({ length: n * 784 }, () => rng.float()), [n, 1, 28, 28]);
}

describe('approx config', () => {
  it('fills in the defaults, and validates again to itself', () => {
    const c = parseApproxConfig({ method: 'bernoulli-crs', ratio: 0.5 });
    assert.deepEqual(c, { method: 'bernoulli-crs', ratio: 0.5, pass: 'forward', minK: 1, epsilon: 0.1, normSample: 0.1, layers: null });
    assert.deepEqual(parseApproxConfig(JSON.parse(JSON.stringify(c))), c);
  });

  it('errors name the exact subfield', () => {
    throwsField(() => parseApproxConfig({ method: 'topk', ratio: 0 }), 'approx.ratio');
    throwsField(() => parseApproxConfig({ method: 'topk', ratio: 1.5 }), 'approx.ratio');
    throwsField(() => parseApproxConfig({ method: 'sketch', ratio: 0.5 }), 'approx.method');
    throwsField(() => parseApproxConfig({ ratio: 0.5 }), 'approx.method');
    throwsField(() => parseApproxConfig({ method: 'crs' }), 'approx.ratio');
    throwsField(() => parseApproxConfig({ method: 'crs', ratio: 0.5, pass: 'both' }), 'approx.pass');
    throwsField(() => parseApproxConfig({ method: 'crs', ratio: 0.5, minK: 0 }), 'approx.minK');
    throwsField(() => parseApproxConfig({ method: 'crs', ratio: 0.5, epsilon: -0.1 }), 'approx.epsilon');
    throwsField(() => parseApproxConfig({ method: 'crs', ratio: 0.5, k: 3 }), 'approx.k');
    throwsField(() => parseApproxConfig({ method: 'crs', ratio: 0.5, layers: { conv1: { minK: 2.5 } } }), 'approx.layers.conv1.minK');
    throwsField(() => parseApproxConfig({ method: 'crs', ratio: 0.5, layers: { 'conv 1': {} } }), 'approx.layers.conv 1');
    throwsField(() => parseApproxConfig({ method: 'crs', ratio: 0.5, layers: {} }), 'approx.layers');
    throwsField(() => parseApproxConfig([]), 'approx');
  });

  it('is a recipe field: default null, recorded with its defaults, errors are RecipeErrors naming the subfield', () => {
    assert.equal(resolveRecipe({}, {}, 'js', 1).approx, null);
    const r = resolveRecipe(validatePartial({ model: 'mlp', approx: { method: 'topk', ratio: 0.25 } }, 'test'), {}, 'js', 1);
    assert.equal(r.approx?.pass, 'forward');
    assert.equal(r.approx?.minK, 1);
    throwsField(() => validatePartial({ approx: { method: 'topk', ratio: 2 } }, 'test'), 'approx.ratio', RecipeError);
    throwsField(() => validatePartial({ approx: { method: 'topk', ratio: 0.5, layers: { fc1: { pass: 1 } } } }, 'test'), 'approx.layers.fc1.pass', RecipeError);
  });
});

describe('applyApprox', () => {
  it('patterns select layers; the first matching pattern gives its settings; the rest stay exact', () => {
    const model = createModel('mnist-cnn', { seed: 1 });
    const config = parseApproxConfig({ method: 'topk', ratio: 0.5, layers: { conv2: { ratio: 0.25, minK: 4 }, 'conv*': {} } });
    const run = applyApprox(model.module.namedModules(), config, model.rng);
    assert.deepEqual(run.layers.map((l) => [l.name, l.settings.ratio, l.settings.minK, l.index]), [['conv1', 0.5, 1, 0], ['conv2', 0.25, 4, 1]]);
    const byName = new Map(model.module.namedModules());
    assert.ok((byName.get('conv1') as Conv2d).approx !== null);
    assert.equal((byName.get('fc1') as Linear).approx, null);
  });

  it('without layers, every Linear and Conv2d is approximated', () => {
    const model = createModel('lenet5', { seed: 1 });
    const run = applyApprox(model.module.namedModules(), parseApproxConfig({ method: 'crs', ratio: 0.5 }), model.rng);
    assert.deepEqual(run.layers.map((l) => l.name), ['conv1', 'conv2', 'conv3', 'fc1', 'fc2']);
  });

  it('a pattern that matches no layer is an error naming it, never a silently exact layer', () => {
    const model = createModel('mlp', { seed: 1, widths: [784, 32, 10] });
    throwsField(() => applyApprox(model.module.namedModules(), parseApproxConfig({ method: 'crs', ratio: 0.5, layers: { conv1: {} } }), model.rng), 'approx.layers.conv1');
  });

  it('evaluation is exact; training samples, as a function of the seed and the step only', () => {
    const make = () => {
      const model = createModel('mnist-cnn', { seed: 3, dropout: 0 });
      const run = applyApprox(model.module.namedModules(), parseApproxConfig({ method: 'bernoulli-crs', ratio: 0.3, layers: { conv2: {}, fc1: {} } }), model.rng);
      return { model, run };
    };
    const x = images(4, 1);
    const a = make();
    const b = make();
    const exact = createModel('mnist-cnn', { seed: 3, dropout: 0 });
    const evalOut = (m: typeof exact) => noGrad(() => m.module.eval().forward(x)).data;
    assert.deepEqual(evalOut(a.model), evalOut(exact), 'evaluation ignores approx');
    assert.equal(a.run.totals().exactMacs, 0, 'evaluation is not counted');
    const trainOut = (m: typeof exact, step: number) => {
      m.rng.step = step;
      return noGrad(() => m.module.train().forward(x)).data;
    };
    assert.deepEqual(trainOut(a.model, 5), trainOut(b.model, 5), 'same seed and step, same bits');
    assert.notDeepEqual(trainOut(a.model, 5), trainOut(exact, 5), 'training samples');
    assert.notDeepEqual(trainOut(a.model, 5), trainOut(a.model, 6), 'another step, another sample');
    const t = a.run.take();
    assert.ok(t.macs > 0 && t.macs < t.exactMacs && t.macReduction > 0.5, JSON.stringify(t));
    assert.deepEqual(a.run.take(), { macs: 0, exactMacs: 0, macReduction: 0 }, 'take() counts from the previous take()');
  });
});
