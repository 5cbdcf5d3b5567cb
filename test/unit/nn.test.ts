import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Dropout } from '../../src/nn/layers.js';
import { subsamplePadChannels } from '../../src/nn/resnet.js';
import { createModel, MODEL_NAMES } from '../../src/nn/zoo.js';
import { noGrad } from '../../src/tensor/autograd.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { gradCheck, randomLeaf } from '../support/gradcheck.js';

describe('model zoo', () => {
  // Counts as PyTorch reports them for the same architectures (ResNet-20: He et al.'s 0.27M).
  const PARAMS = { mlp: 1_796_010, lenet5: 61_706, 'mnist-cnn': 3_274_634, cifarnet: 473_274, resnet20: 269_722 };
  for (const name of MODEL_NAMES) {
    it(`${name}: parameter count and output shape`, () => {
      const m = createModel(name, { seed: 1 });
      assert.equal(m.module.parameterCount(), PARAMS[name]);
      const [c, h, w] = m.inputShape;
      const y = noGrad(() => m.module.eval().forward(new Tensor(new Float32Array(2 * c * h * w).fill(0.5), [2, c, h, w])));
      assert.deepEqual(y.shape, [2, 10]);
      assert.ok(y.data.every(Number.isFinite));
    });
  }

  it('layer names are stable', () => {
    const names = createModel('lenet5', { seed: 0 }).module.namedParameters().map(([n]) => n);
    assert.deepEqual(names, ['conv1.weight', 'conv1.bias', 'conv2.weight', 'conv2.bias', 'conv3.weight', 'conv3.bias', 'fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']);
    const r = createModel('resnet20', { seed: 0 }).module;
    assert.ok(r.namedParameters().some(([n]) => n === 'layer2.0.conv1.weight'));
    assert.ok(r.namedBuffers().some(([n]) => n === 'layer3.2.bn2.running_var'));
    assert.deepEqual(createModel('mlp', { seed: 0, widths: [784, 20, 10] }).module.namedParameters().map(([n]) => n), ['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']);
  });

  it('initialisation is PyTorch default (uniform ±1/√fan_in), reproducible from the seed', () => {
    const p = (seed: number) => new Map(createModel('lenet5', { seed }).module.namedParameters());
    const a = Array.from(p(3).get('conv2.weight')!.data);
    const bound = 1 / Math.sqrt(6 * 25);
    assert.ok(a.every((v) => Math.abs(v) <= bound));
    const max = a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    assert.ok(max > 0.95 * bound, 'uses the whole range');
    const mean = a.reduce((s, v) => s + v, 0) / a.length;
    assert.ok(Math.abs(mean) < 0.05 * bound);
    assert.deepEqual(Array.from(p(3).get('fc1.weight')!.data), Array.from(p(3).get('fc1.weight')!.data));
    assert.notDeepEqual(Array.from(p(4).get('fc1.weight')!.data), Array.from(p(3).get('fc1.weight')!.data));
  });

  it('unknown models and bad widths are errors that say what to use', () => {
    assert.throws(() => createModel('vgg16', { seed: 0 }), /unknown model 'vgg16'[\s\S]*use one of: mlp, lenet5/);
    assert.throws(() => createModel('mlp', { seed: 0, widths: [784] }), /MLP widths \[784\]/);
  });
});

describe('layers', () => {
  it('the option-A shortcut: values and gradient', () => {
    const x = new Tensor(Float32Array.from({ length: 16 }, (_, i) => i + 1), [1, 1, 4, 4]);
    const y = subsamplePadChannels(x, 1);
    assert.deepEqual(y.shape, [1, 3, 2, 2]);
    assert.deepEqual(y.toArray(), [0, 0, 0, 0, 1, 3, 9, 11, 0, 0, 0, 0]);
    gradCheck((t) => subsamplePadChannels(t, 2), [randomLeaf([2, 3, 5, 5], 31)]);
  });

  it('dropout draws a fresh mask each step, the same one for the same step', () => {
    const rng = { seed: 9, step: 0 };
    const d = new Dropout(0.5, rng, 1);
    const x = new Tensor(new Float32Array(1000).fill(1), [1000]);
    const a = d.forward(x).toArray();
    const again = d.forward(x).toArray();
    rng.step = 1;
    const b = d.forward(x).toArray();
    assert.deepEqual(a, again);
    assert.notDeepEqual(a, b);
    const kept = a.filter((v) => v !== 0);
    assert.ok(kept.every((v) => v === 2));
    assert.ok(Math.abs(kept.length - 500) < 60, `${kept.length} kept`);
    d.eval();
    assert.deepEqual(d.forward(x).toArray(), x.toArray());
    assert.throws(() => new Dropout(1, rng, 0), /dropout probability 1 is not in \[0, 1\)/);
  });
});
