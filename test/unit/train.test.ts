import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { resolveRecipe, validatePartial } from '../../src/train/recipe.js';
import { decodeSafetensors, encodeSafetensors, readSafetensors, writeFileAtomic } from '../../src/train/safetensors.js';

describe('recipes', () => {
  it('defaults follow the model; the file overrides defaults and flags override the file', () => {
    const r = resolveRecipe({ model: 'resnet20', epochs: 3, lr: 0.1 }, { lr: 0.2 }, 'js', 1);
    assert.equal(r.dataset, 'cifar10');
    assert.equal(r.augment, true);
    assert.equal(r.epochs, 3);
    assert.equal(r.lr, 0.2);
    assert.equal(resolveRecipe({}, {}, 'js', 1).model, 'lenet5');
  });
  it('every bad field is named with what is expected', () => {
    const cases: [unknown, RegExp][] = [
      [{ epochs: 0 }, /'epochs': expected an integer in 1\.\.100000, got 0/],
      [{ batchSize: 1.5 }, /'batchSize': expected an integer/],
      [{ optimizer: 'lbfgs' }, /'optimizer': expected one of sgd, adam, adamw/],
      [{ dataset: 'imagenet' }, /'dataset': expected one of mnist, fashion-mnist, cifar10/],
      [{ momentum: 1 }, /'momentum': expected a number in \[0, 1\)/],
      [{ widths: [784] }, /'widths': expected an array of at least two/],
      [{ schedule: 'step' }, /'schedule'/],
      [{ learningRate: 0.1 }, /'learningRate': unknown field[\s\S]*the fields are: model, widths/],
      [[1, 2], /is not a JSON object/],
    ];
    for (const [obj, re] of cases) assert.throws(() => validatePartial(obj, 'r.json'), re);
  });
  it('combinations that make no sense are refused', () => {
    assert.throws(() => resolveRecipe({ model: 'lenet5', widths: [784, 10] }, {}, 'js', 1), /only the mlp model has configurable widths/);
    assert.throws(() => resolveRecipe({ model: 'lenet5', augment: true }, {}, 'js', 1), /augmentation is defined for cifar10/);
    assert.throws(() => resolveRecipe({ optimizer: 'adam', nesterov: true }, {}, 'js', 1), /Nesterov momentum needs the sgd optimizer/);
  });
});

describe('safetensors', () => {
  it('round-trips tensors and metadata with 8-byte aligned data', () => {
    const tensors = new Map([
      ['a', { data: Float32Array.from([1, -2, 3.5]), shape: [3] }],
      ['b.c', { data: Float64Array.from([Math.PI, 0, -0]), shape: [1, 3] }],
    ]);
    const bytes = encodeSafetensors({ tensors, metadata: { step: '7' } });
    assert.equal((8 + Number(bytes.readBigUInt64LE(0))) % 8, 0);
    const back = decodeSafetensors(bytes, 'x');
    assert.deepEqual(back.metadata, { step: '7' });
    assert.deepEqual(Array.from(back.tensors.get('a')!.data), [1, -2, 3.5]);
    assert.ok(back.tensors.get('b.c')!.data instanceof Float64Array);
    assert.deepEqual(back.tensors.get('b.c')!.shape, [1, 3]);
    assert.ok(Object.is(back.tensors.get('b.c')!.data[2], -0));
  });
  it('damaged files are errors naming the file and the problem', () => {
    const good = encodeSafetensors({ tensors: new Map([['w', { data: new Float32Array(4), shape: [4] }]]), metadata: {} });
    assert.throws(() => decodeSafetensors(good.subarray(0, 5), 'f.st'), /f\.st: too short/);
    assert.throws(() => decodeSafetensors(good.subarray(0, good.length - 4), 'f.st'), /tensor 'w' has a byte range/);
    const bad = Buffer.from(good);
    bad.writeBigUInt64LE(10n ** 9n, 0);
    assert.throws(() => decodeSafetensors(bad, 'f.st'), /header of 1000000000 bytes runs past the end/);
    const junk = Buffer.from(good);
    junk.write('!', 8);
    assert.throws(() => decodeSafetensors(junk, 'f.st'), /header is not valid JSON/);
    assert.throws(() => readSafetensors('/nonexistent/ckpt.safetensors'), /cannot read/);
  });
  it('atomic writes leave no temporary file and replace the old content whole', () => {
    const dir = mkdtempSync(join(tmpdir(), 'precis-atomic-'));
    const path = join(dir, 'f.json');
    writeFileSync(path, 'old');
    writeFileAtomic(path, 'new content');
    assert.deepEqual(readdirSync(dir), ['f.json']);
  });
});
