/**
 * Emulated training as a user runs it: recipes with precision policies and
 * loss scaling on the bundled sample, resumed after a real kill to the same
 * bits, the same on every backend, inspected and evaluated.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { packageRoot } from '../../src/backend/paths.js';
import { createModel } from '../../src/nn/zoo.js';
import { Emulation } from '../../src/precision/emulation.js';
import { LossScaler } from '../../src/precision/loss-scale.js';
import { Policy } from '../../src/precision/policy.js';
import { resolveRecipe, validatePartial } from '../../src/train/recipe.js';
import { assertSameTensors, checkpointTensors, killAfterFirstCheckpoint, precis } from '../support/runs.js';

const root = packageRoot();
const tmp = () => mkdtempSync(join(tmpdir(), 'precis-precision-'));

/** A small FP8 run: stochastic errors and gradients, delayed tensor scaling, fp16 master weights, dynamic loss scaling. */
const FP8 = {
  model: 'mlp', widths: [784, 64, 10], batchSize: 100, lr: 0.05, momentum: 0.9, logEvery: 5,
  precision: {
    default: {
      weight: 'e5m2', activation: { format: 'e4m3', overflow: 'saturate', scaling: { amax: 'delayed', history: 4 } },
      error: { format: 'e5m2', rounding: 'stochastic' }, gradient: { format: 'e5m2', rounding: 'stochastic', randomBits: 12 },
      master: { format: 'fp16', rounding: 'stochastic' }, optimizer: 'bf16', loss: 'fp16',
    },
    layers: { fc2: { activation: null } },
  },
  lossScaling: { mode: 'dynamic', scale: 2 ** 12, interval: 20 },
};

describe('recipes/', () => {
  it('every recipe validates and its policy fits its model', () => {
    const dir = join(root, 'recipes');
    const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
    assert.ok(files.length >= 20);
    for (const f of files) {
      const r = resolveRecipe(validatePartial(JSON.parse(readFileSync(join(dir, f), 'utf8')), f), {}, 'js', 1);
      const model = createModel(r.model, { seed: 0, widths: r.widths ?? undefined, dropout: r.dropout ?? undefined });
      assert.doesNotThrow(() => new Emulation(model.module, { policy: r.precision ? Policy.parse(r.precision) : null, lossScaling: r.lossScaling ? LossScaler.parse(r.lossScaling) : null, seed: 0 }), f);
      assert.equal(typeof r.description, 'string', `${f} says what it reproduces`);
    }
  });
});

describe('precis train with a precision policy', () => {
  it('writes telemetry, a precision summary and an inspect table', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'fp8.json'), JSON.stringify({ ...FP8, epochs: 1 }));
    const out = join(dir, 'run');
    const r = precis(['train', '--recipe', join(dir, 'fp8.json'), '--out', out, '--backend', 'wasm']);
    assert.equal(r.code, 0, r.err);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    assert.ok(summary.testAccuracy > 0.5, `the emulated MLP learns (accuracy ${summary.testAccuracy})`);
    const p = summary.precision;
    assert.equal(p.layers.fc1.weight.format, 'e5m2');
    assert.ok(p.layers.fc1.error.values > 0 && p.layers.fc1.error.snrDb > 10);
    assert.equal(p.layers.fc2.activation, undefined, 'the override keeps fc2\'s activations in fp32');
    assert.equal(typeof p.lossScale, 'number');
    const telemetry = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((l) => l.type === 'telemetry');
    assert.ok(telemetry.length >= 2);
    const shown = precis(['inspect', out]);
    assert.equal(shown.code, 0, shown.err);
    assert.match(shown.out, /loss scaling: dynamic; final scale/);
    assert.match(shown.out, /fc1\s+gradient\s+e5m2/);
    assert.match(precis(['inspect', dir]).err, /is not a run directory/);
    // eval in the run's arithmetic, in fp32, and in another policy
    const own = JSON.parse(precis(['eval', '--checkpoint', join(out, 'checkpoint.safetensors'), '--json']).out);
    assert.equal(own.testAccuracy, summary.testAccuracy);
    const fp32 = precis(['eval', '--checkpoint', join(out, 'checkpoint.safetensors'), '--precision', 'none', '--json']);
    assert.equal(fp32.code, 0, fp32.err);
    writeFileSync(join(dir, 'narrow.json'), JSON.stringify({ default: { weight: 'e2m1', activation: 'e2m1' } }));
    const narrow = JSON.parse(precis(['eval', '--checkpoint', join(out, 'checkpoint.safetensors'), '--precision', join(dir, 'narrow.json'), '--json']).out);
    assert.ok(narrow.testAccuracy < own.testAccuracy, 'fp4 weights and activations lose accuracy');
    // fine-tuning starts from the run's weights: evaluated before any step, it scores what the run scored in fp32
    const tuned = join(dir, 'tuned');
    const ft = precis(['train', '--model', 'mlp', '--widths', '784-64-10', '--init-from', join(out, 'checkpoint.safetensors'), '--lr', '1e-9', '--momentum', '0', '--out', tuned, '--backend', 'wasm']);
    assert.equal(ft.code, 0, ft.err);
    assert.ok(Math.abs(JSON.parse(readFileSync(join(tuned, 'summary.json'), 'utf8')).testAccuracy - JSON.parse(fp32.out).testAccuracy) < 0.02);
    assert.match(precis(['train', '--model', 'lenet5', '--init-from', join(out, 'checkpoint.safetensors'), '--out', join(dir, 'x')]).err, /written for another model/);
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ default: { weight: 'e9m9' } }));
    assert.match(precis(['eval', '--checkpoint', join(out, 'checkpoint.safetensors'), '--precision', join(dir, 'bad.json')]).err, /precision\.default\.weight\.format/);
  });

  it('inspect reads a run in progress from its metrics, accumulators included', () => {
    const run = tmp();
    writeFileSync(join(run, 'recipe.json'), JSON.stringify(resolveRecipe({ model: 'mlp', epochs: 2, precision: { default: { accumulator: 'float<5,4>' } } }, {}, 'js', 1)));
    const line = { type: 'telemetry', globalStep: 10, layers: {}, overflowSteps: 0, accumulators: { fc1: { model: 'float<5,4>', products: 1000, swamped: 0.25, overflow: 2, underflow: 7 } } };
    writeFileSync(join(run, 'metrics.jsonl'), `${JSON.stringify(line)}\n${JSON.stringify({ ...line, globalStep: 20 })}\n`);
    const r = precis(['inspect', run]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /in progress or stopped: 0 of 2 epoch\(s\) evaluated/);
    assert.match(r.out, /fc1\s+float<5,4>\s+2000\s+25\.00%\s+4\s+14/);
    writeFileSync(join(run, 'metrics.jsonl'), '{"type": "telemetry", broken\n');
    assert.match(precis(['inspect', run]).err, /metrics\.jsonl line 1 is not JSON/);
  });

  it('a killed emulated run resumes to the same bits, loss scale and amax histories included', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'fp8.json'), JSON.stringify({ ...FP8, epochs: 2, checkpointEvery: 7 }));
    const args = ['train', '--recipe', join(dir, 'fp8.json'), '--backend', 'native'];
    const whole = join(dir, 'whole');
    assert.equal(precis([...args, '--out', whole]).code, 0);
    const cut = join(dir, 'cut');
    await killAfterFirstCheckpoint(args.slice(1), cut);
    const resumed = precis(['train', '--resume', '--out', cut]);
    assert.equal(resumed.code, 0, resumed.err);
    const a = checkpointTensors(whole);
    assert.ok(a.has('precision/lossScale') && [...a.keys()].some((k) => k.startsWith('precision/amax/')));
    assertSameTensors(a, checkpointTensors(cut));
  });

  it('gives the same bits on js, wasm and native at 1 and 2 threads, stochastic rounding included', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'fp8.json'), JSON.stringify({ ...FP8, epochs: 1 }));
    const runs = [['native', '1'], ['native', '2'], ['wasm', '1'], ['js', '1']].map(([backend, threads]) => {
      const out = join(dir, `${backend}-${threads}`);
      const r = precis(['train', '--recipe', join(dir, 'fp8.json'), '--backend', backend, '--threads', threads, '--out', out]);
      assert.equal(r.code, 0, r.err);
      return checkpointTensors(out);
    });
    for (const r of runs.slice(1)) assertSameTensors(runs[0], r);
  });
});
