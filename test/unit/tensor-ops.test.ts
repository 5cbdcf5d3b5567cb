import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  add, backward, div, flatten, gelu, linear, matmul, mean, mul, noGrad, permute, relu, reshape, scale, sigmoid, softmax,
  softmaxCrossEntropy, sub, sum, tanh, tensor, transpose, Tensor,
} from '../../src/tensor/index.js';
import { erf } from '../../src/tensor/ops/activation.js';
import { gradCheck, randomLeaf } from '../support/gradcheck.js';

describe('element-wise ops: gradients (float64 finite differences)', () => {
  for (const [name, f] of [['add', add], ['sub', sub], ['mul', mul], ['div', div]] as const) {
    it(`${name}, same shape and broadcast`, () => {
      gradCheck(f, [randomLeaf([3, 4], 1), randomLeaf([3, 4], 2, 0.5, 2)]);
      gradCheck(f, [randomLeaf([2, 3, 4], 3), randomLeaf([4], 4, 0.5, 2)]);
      gradCheck(f, [randomLeaf([2, 1, 4], 5), randomLeaf([3, 1], 6, 0.5, 2)]);
      gradCheck(f, [randomLeaf([1], 7, 0.5, 2), randomLeaf([2, 3], 8, 0.5, 2)]);
    });
  }
  it('scale', () => gradCheck((a) => scale(a, -2.5), [randomLeaf([5], 9)]));
  it('a tensor used twice gets both contributions', () => gradCheck((a) => mul(a, add(a, a)), [randomLeaf([6], 10)]));
});

describe('activations', () => {
  it('relu, sigmoid, tanh, gelu gradients', () => {
    // relu's kink at 0 is avoided: inputs in ±[0.1, 1]
    const x = randomLeaf([20], 11);
    for (let i = 0; i < x.size; i++) x.data[i] = Math.sign(x.data[i]) * (0.1 + 0.9 * Math.abs(x.data[i]));
    for (const f of [relu, sigmoid, tanh, gelu]) gradCheck(f, [x]);
    gradCheck(sigmoid, [randomLeaf([10], 12, -40, 40)]);
  });
  it('erf matches reference values to 1e-15', () => {
    const ref: [number, number][] = [
      [0, 0], [0.1, 0.1124629160182849], [0.5, 0.5204998778130465], [1, 0.8427007929497149], [2, 0.9953222650189527],
      [2.5, 0.9995930479825550], [3, 0.9999779095030014], [4, 0.9999999845827421], [-1.5, -0.9661051464753108],
    ];
    for (const [x, want] of ref) assert.ok(Math.abs(erf(x) - want) < 1e-15, `erf(${x}) = ${erf(x)}, want ${want}`);
  });
  it('relu has gradient 0 at 0, as in PyTorch', () => {
    const x = tensor([0, -1, 2], [3], { requiresGrad: true });
    backward(sum(relu(x)));
    assert.deepEqual(Array.from(x.grad!), [0, 0, 1]);
  });
  it('relu of -Inf, -0 and negatives is +0 and NaN stays NaN, as in PyTorch; the gradient is g·[x > 0]', () => {
    for (const dtype of ['float32', 'float64'] as const) {
      const x = tensor([-Infinity, -0, -3, NaN, Infinity, 2], [6], { requiresGrad: true, dtype });
      const y = relu(x);
      assert.deepEqual(Array.from(y.data), [0, 0, 0, NaN, Infinity, 2], dtype);
      assert.ok(Array.from(y.data).slice(0, 3).every((v) => Object.is(v, 0)), `${dtype}: +0, not -0`);
      backward(sum(mul(y, tensor([-1, -1, -1, 5, 5, 5], [6], { dtype }))));
      assert.ok(Object.is(x.grad![0], -0) && Object.is(x.grad![2], -0), `${dtype}: a negative gradient times 0 is -0`);
      assert.deepEqual(Array.from(x.grad!).slice(3), [0, 5, 5], dtype);
    }
  });
});

describe('reductions and shapes', () => {
  it('sum and mean over all, over axes, keeping dims', () => {
    const x = randomLeaf([2, 3, 4], 13);
    for (const f of [sum, mean]) {
      gradCheck((a) => f(a), [x]);
      gradCheck((a) => f(a, [1]), [x]);
      gradCheck((a) => f(a, [0, 2], true), [x]);
      gradCheck((a) => f(a, [-1]), [x]);
    }
    const t = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    assert.deepEqual(sum(t, [0]).toArray(), [5, 7, 9]);
    assert.deepEqual(mean(t, [1], true).shape, [2, 1]);
    assert.deepEqual(mean(t, [1]).toArray(), [2, 5]);
    assert.throws(() => sum(t, [2]), /axis 2 is out of range/);
  });
  it('reshape, flatten, permute, transpose', () => {
    const x = randomLeaf([2, 3, 4], 14);
    gradCheck((a) => mul(reshape(a, [4, -1]), reshape(a, [4, 6])), [x]);
    gradCheck((a) => flatten(a), [x]);
    gradCheck((a) => permute(a, [2, 0, 1]), [x]);
    gradCheck((a) => transpose(a, 0, 2), [x]);
    const t = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    assert.deepEqual(transpose(t).toArray(), [1, 4, 2, 5, 3, 6]);
    assert.deepEqual(flatten(zeros3()).shape, [2, 12]);
    assert.throws(() => reshape(t, [4, 2]), /cannot reshape \[2, 3\]/);
    assert.throws(() => permute(t, [0, 0]), /permutation/);
  });
});

function zeros3(): Tensor {
  return new Tensor(new Float32Array(24), [2, 3, 4]);
}

describe('matrix products', () => {
  it('matmul: 2-D, batched, and a shared right operand', () => {
    gradCheck(matmul, [randomLeaf([3, 5], 15), randomLeaf([5, 4], 16)]);
    gradCheck(matmul, [randomLeaf([2, 3, 5], 17), randomLeaf([2, 5, 4], 18)]);
    gradCheck(matmul, [randomLeaf([2, 3, 5], 19), randomLeaf([5, 4], 20)]);
    const c = matmul(tensor([1, 2, 3, 4], [2, 2]), tensor([5, 6, 7, 8], [2, 2]));
    assert.deepEqual(c.toArray(), [19, 22, 43, 50]);
    assert.throws(() => matmul(tensor([1, 2], [1, 2]), tensor([1, 2, 3], [3, 1])), /matmul of \[1, 2\] and \[3, 1\]/);
  });
  it('linear with and without bias', () => {
    gradCheck((x, w, b) => linear(x, w, b), [randomLeaf([4, 6], 21), randomLeaf([3, 6], 22), randomLeaf([3], 23)]);
    gradCheck((x, w) => linear(x, w), [randomLeaf([4, 6], 24), randomLeaf([3, 6], 25)]);
    assert.throws(() => linear(tensor([1, 2], [1, 2]), tensor([1, 2, 3], [1, 3])), /the weight \[out, in\]/);
  });
  it('float32 matmul gives the same values as float64 for exactly representable sums', () => {
    const a = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    const b = tensor([1, 0, 0, 1, 1, 1], [3, 2]);
    assert.deepEqual(matmul(a, b).toArray(), [4, 5, 10, 11]);
  });
});

describe('softmax and cross-entropy', () => {
  it('gradients', () => {
    gradCheck(softmax, [randomLeaf([3, 5], 26, -3, 3)]);
    gradCheck((x) => softmaxCrossEntropy(x, [0, 4, 2]), [randomLeaf([3, 5], 27, -3, 3)]);
  });
  it('is stable for huge logits and matches log-sum-exp', () => {
    const x = tensor([1000, 0, -1000, 5, 5, 5], [2, 3], { dtype: 'float64' });
    const loss = softmaxCrossEntropy(x, [0, 2]).item();
    assert.ok(Math.abs(loss - Math.log(3) / 2) < 1e-12, `loss ${loss}`);
    const p = softmax(x).toArray();
    assert.ok(p.every(Number.isFinite));
  });
  it('rejects labels outside the classes', () => {
    assert.throws(() => softmaxCrossEntropy(tensor([1, 2], [1, 2]), [2]), /label 2 at row 0 is not a class in 0\.\.1/);
  });
});

describe('autograd', () => {
  it('noGrad records nothing', () => {
    const w = tensor([1, 2], [2], { requiresGrad: true });
    const y = noGrad(() => mul(w, w));
    assert.equal(y.requiresGrad, false);
    assert.equal(y.gradFn, null);
    assert.throws(() => backward(sum(y)), /does not require a gradient/);
  });
  it('backward needs a scalar or a gradient', () => {
    const w = tensor([1, 2], [2], { requiresGrad: true });
    assert.throws(() => backward(mul(w, w)), /needs a scalar/);
  });
  it('gradients accumulate across backward calls on leaves', () => {
    const w = tensor([3], [1], { requiresGrad: true });
    backward(sum(mul(w, w)));
    backward(sum(mul(w, w)));
    assert.deepEqual(Array.from(w.grad!), [12]);
  });
});
