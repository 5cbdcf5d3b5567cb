/**
 * `precis train` and `precis eval` as a user runs them: real processes on the
 * bundled MNIST sample. Covers the run directory, recipes and their errors,
 * a NaN stop, and resuming after a real kill -9 to the same bits.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readSafetensors } from '../../src/train/safetensors.js';
import { assertSameTensors, checkpointTensors, killAfterFirstCheckpoint, precis } from '../support/runs.js';

// No data directory: the bundled sample is used. A small MLP keeps each run to a second or two.
const SMALL = ['--model', 'mlp', '--widths', '784-64-10', '--batch-size', '100'];
const tmp = () => mkdtempSync(join(tmpdir(), 'precis-train-'));

describe('precis train', () => {
  it('trains LeNet-5 on the bundled sample and writes the run directory', () => {
    const out = join(tmp(), 'run');
    const r = precis(['train', '--model', 'lenet5', '--epochs', '1', '--out', out]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /bundled MNIST sample/);
    for (const f of ['recipe.json', 'metrics.jsonl', 'summary.json', 'checkpoint.safetensors']) assert.ok(existsSync(join(out, f)), f);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    for (const k of ['testAccuracy', 'testLoss', 'epochs', 'trainSeconds', 'imagesPerSecond', 'backend', 'threads']) assert.ok(k in summary, k);
    assert.ok(summary.testAccuracy > 0.5 && summary.testAccuracy <= 1, `accuracy ${summary.testAccuracy}`);
    assert.equal(summary.sample, true);
    const recipe = JSON.parse(readFileSync(join(out, 'recipe.json'), 'utf8'));
    assert.equal(recipe.model, 'lenet5');
    assert.equal(recipe.batchSize, 64);
    const lines = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.ok(lines.some((l) => l.type === 'train') && lines.some((l) => l.type === 'eval'));
    // eval of the checkpoint reproduces the summary's figure
    const e = precis(['eval', '--checkpoint', join(out, 'checkpoint.safetensors'), '--json']);
    assert.equal(e.code, 0, e.err);
    assert.equal(JSON.parse(e.out).testAccuracy, summary.testAccuracy);
    // a second run into the same directory is refused, and nothing there changes
    const before = readFileSync(join(out, 'summary.json'));
    const again = precis(['train', '--model', 'lenet5', '--out', out]);
    assert.equal(again.code, 1);
    assert.match(again.err, /already holds a run/);
    assert.ok(readFileSync(join(out, 'summary.json')).equals(before));
  });

  it('reads a recipe, lets flags override it, and names bad fields', () => {
    const dir = tmp();
    const recipe = join(dir, 'r.json');
    writeFileSync(recipe, JSON.stringify({ model: 'mlp', widths: [784, 32, 10], epochs: 1, batchSize: 200, lr: 0.1 }));
    const out = join(dir, 'run');
    const r = precis(['train', '--recipe', recipe, '--batch-size', '500', '--out', out]);
    assert.equal(r.code, 0, r.err);
    const resolved = JSON.parse(readFileSync(join(out, 'recipe.json'), 'utf8'));
    assert.equal(resolved.batchSize, 500);
    assert.deepEqual(resolved.widths, [784, 32, 10]);
    writeFileSync(recipe, JSON.stringify({ model: 'mlp', epocs: 2 }));
    const bad = precis(['train', '--recipe', recipe, '--out', join(dir, 'x')]);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /recipe field 'epocs': unknown field/);
    writeFileSync(recipe, JSON.stringify({ lr: -1 }));
    assert.match(precis(['train', '--recipe', recipe, '--out', join(dir, 'x')]).err, /recipe field 'lr': expected a positive number, got -1/);
    writeFileSync(recipe, '{"model": ');
    assert.match(precis(['train', '--recipe', recipe, '--out', join(dir, 'x')]).err, /is not valid JSON/);
    const flag = precis(['train', '--lr', 'fast', '--out', join(dir, 'x')]);
    assert.equal(flag.code, 2);
    assert.match(flag.err, /--lr: expected a positive number/);
    assert.match(precis(['train', '--model', 'vgg', '--out', join(dir, 'x')]).err, /--model: expected one of mlp, lenet5/);
    assert.match(precis(['train', '--schedule', 'step:x', '--out', join(dir, 'x')]).err, /--schedule/);
    assert.equal(existsSync(join(dir, 'x', 'summary.json')), false);
  });

  it('stops on a non-finite loss and keeps the last good checkpoint', () => {
    const out = join(tmp(), 'run');
    // An absurd learning rate: the first update sends the weights to ~1e30 and the next logits overflow.
    const r = precis(['train', ...SMALL, '--lr', '1e30', '--epochs', '1', '--checkpoint-every', '1', '--out', out]);
    assert.equal(r.code, 1);
    assert.match(r.err, /the loss became (NaN|Infinity|-Infinity) at epoch \d+, step \d+; training stopped/);
    assert.ok(existsSync(join(out, 'checkpoint.safetensors')));
    const ckpt = readSafetensors(join(out, 'checkpoint.safetensors'));
    for (const [k, t] of ckpt.tensors) if (k.startsWith('param/')) assert.ok(t.data.every(Number.isFinite), `${k} is finite`);
    assert.match(readFileSync(join(out, 'metrics.jsonl'), 'utf8'), /"type":"stopped"/);
  });

  it('a run killed with SIGKILL resumes to the same weights as an uninterrupted run', async () => {
    const dir = tmp();
    const args = [...SMALL, '--epochs', '2', '--dropout', '0.2', '--checkpoint-every', '7'];
    const whole = join(dir, 'whole');
    assert.equal(precis(['train', ...args, '--out', whole]).code, 0);

    const cut = join(dir, 'cut');
    await killAfterFirstCheckpoint(args, cut);
    assert.equal(existsSync(join(cut, 'summary.json')), false, 'the run was killed before it finished');
    const resumed = precis(['train', '--resume', '--out', cut]);
    assert.equal(resumed.code, 0, resumed.err);
    assertSameTensors(checkpointTensors(whole), checkpointTensors(cut));
    const s1 = JSON.parse(readFileSync(join(whole, 'summary.json'), 'utf8'));
    const s2 = JSON.parse(readFileSync(join(cut, 'summary.json'), 'utf8'));
    assert.equal(s2.testAccuracy, s1.testAccuracy);
    // metrics are those of one run: no step logged twice
    const steps = readFileSync(join(cut, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((l) => l.type === 'train').map((l) => l.globalStep);
    assert.equal(new Set(steps).size, steps.length);
    // resuming cannot change what the run computes
    assert.match(precis(['train', '--resume', '--out', cut, '--lr', '1']).err, /cannot change lr/);
  });

  it('gives the same weights at 1 and 2 threads and on every backend', () => {
    const dir = tmp();
    const runs = [['native', '1'], ['native', '2'], ['wasm', '1'], ['js', '1']].map(([backend, threads]) => {
      const out = join(dir, `${backend}-${threads}`);
      const r = precis(['train', ...SMALL, '--epochs', '1', '--backend', backend, '--threads', threads, '--out', out]);
      assert.equal(r.code, 0, r.err);
      return checkpointTensors(out);
    });
    for (const r of runs.slice(1)) assertSameTensors(runs[0], r);
  });
});
