/**
 * `precis train --recipe` with sampled products, as a user runs it, on the
 * bundled MNIST sample: the run trains, records the approx settings, logs
 * multiply-adds with every checkpoint and puts their totals in summary.json;
 * a bad approx field is refused naming it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

// The CLI of this build (whatever directory it was compiled to), run in a real process.
const mainJs = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const env = { ...process.env, PRECIS_DATA_DIR: '' };

function precis(args: string[]): { code: number; out: string; err: string } {
  const script = `const { main } = await import(${JSON.stringify(mainJs)}); process.exitCode = await main(${JSON.stringify(args)});`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

const tmp = () => mkdtempSync(join(tmpdir(), 'precis-approx-'));

describe('precis train with approx', () => {
  it('trains on the bundled sample and writes the multiply-adds done and exact', () => {
    const dir = tmp();
    const recipe = join(dir, 'recipe.json');
    writeFileSync(recipe, JSON.stringify({
      model: 'mlp', widths: [784, 64, 10], batchSize: 100, epochs: 2, checkpointEvery: 15, optimizer: 'adam', lr: 0.001,
      approx: { method: 'bernoulli-crs', pass: 'backward', ratio: 0.5, layers: { fc1: {}, fc2: { ratio: 0.9 } } },
    }));
    const out = join(dir, 'run');
    const r = precis(['train', '--recipe', recipe, '--out', out]);
    assert.equal(r.code, 0, r.err);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    assert.ok(summary.testAccuracy > 0.5, `accuracy ${summary.testAccuracy}`);
    const { macs, exactMacs, macReduction } = summary.approx;
    assert.ok(macs > 0 && macs < exactMacs, `${macs} of ${exactMacs}`);
    assert.equal(macReduction, 1 - macs / exactMacs);
    // fc1 has no input gradient: forward 784·64 + weight gradient 784·64 per image; fc2: 3·64·10 per image.
    const images = summary.steps * 100;
    assert.equal(exactMacs, images * (2 * 784 * 64 + 3 * 64 * 10));
    const lines = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const approxLines = lines.filter((l) => l.type === 'approx');
    // 40 steps per epoch: checkpoints every 15 global steps (15, 30, 45, 60, 75) and at each epoch's end (40, 80).
    assert.deepEqual(approxLines.map((l) => l.globalStep), [15, 30, 40, 45, 60, 75, 80]);
    assert.equal(approxLines.reduce((s, l) => s + l.macs, 0), macs);
    assert.equal(approxLines.reduce((s, l) => s + l.exactMacs, 0), exactMacs);
    const saved = JSON.parse(readFileSync(join(out, 'recipe.json'), 'utf8'));
    assert.deepEqual(saved.approx, { method: 'bernoulli-crs', pass: 'backward', ratio: 0.5, minK: 1, epsilon: 0.1, normSample: 0.1, layers: { fc1: {}, fc2: { ratio: 0.9 } } });
  });

  it('refuses a bad approx field, naming it', () => {
    const dir = tmp();
    const recipe = join(dir, 'recipe.json');
    writeFileSync(recipe, JSON.stringify({ model: 'mlp', approx: { method: 'topk', ratio: 0.5, layers: { fc1: { ratio: 3 } } } }));
    const r = precis(['train', '--recipe', recipe, '--out', join(dir, 'run')]);
    assert.equal(r.code, 1);
    assert.match(r.err, /approx\.layers\.fc1\.ratio/);
  });
});
