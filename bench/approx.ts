/**
 * npm run bench -- approx [--recipes adelman-mlp-bcrs-backward-0.5,...] [--epochs N]
 *                         [--max-steps N] [--threads 2] [--backend native] [--data-dir DIR]
 *
 * Sampled products against the exact run, measured in the same process:
 * for each recipes/adelman-*.json that has an `approx` field (or the ones
 * named), the recipe is trained as given and with `approx` removed (the
 * exact run, shared by recipes that differ only in `approx`), and one JSON
 * line gives recipe, macReduction (over the approximated layers' products),
 * secondsPerEpoch, exactSecondsPerEpoch, speedup, testAccuracy and
 * exactTestAccuracy (after the last epoch), plus per-epoch accuracies.
 *
 * secondsPerEpoch is the training loop only, as in bench/train.ts: batches,
 * forward, loss, backward, optimizer step. The test evaluation (always
 * exact) is outside it. Defaults: native backend, 2 threads, the recipe's
 * epochs. --max-steps N stops every epoch after N steps (a smoke test; the
 * lines then say `quick: true`); --epochs N overrides the recipes' epochs.
 * Data: --data-dir, else PRECIS_DATA_DIR, else ../shared/data/mnist when
 * it exists, else the bundled sample (the lines then say `sample: true`).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { applyApprox, type ApproxRun } from '../src/approx/index.js';
import { setBackend, type BackendName } from '../src/backend/index.js';
import { packageRoot } from '../src/backend/paths.js';
import { batchCount, batches } from '../src/data/batch.js';
import { loadDataset, type Dataset } from '../src/data/load.js';
import { createModel } from '../src/nn/zoo.js';
import { createOptimizer } from '../src/optim/index.js';
import { backward } from '../src/tensor/autograd.js';
import { softmaxCrossEntropy } from '../src/tensor/ops/loss.js';
import { Tensor } from '../src/tensor/tensor.js';
import { resolveRecipe, validatePartial, type Recipe } from '../src/train/recipe.js';
import { evaluate } from '../src/train/trainer.js';
import { arg, benchDataDir } from './support.js';

const log = (s: string) => process.stderr.write(`${s}\n`);
const round = (x: number, digits: number) => Number(x.toFixed(digits));

const recipesDir = join(packageRoot(), 'recipes');
const backend = arg('backend', 'native') as BackendName;
const threads = Number(arg('threads', '2'));
const maxSteps = Number(arg('max-steps', '0'));
const epochsOverride = Number(arg('epochs', '0'));
const warmupSteps = Number(arg('warmup', '20'));


function loadRecipe(name: string): Recipe {
  const file = join(recipesDir, `${name}.json`);
  const r = resolveRecipe(validatePartial(JSON.parse(readFileSync(file, 'utf8')), file), {}, backend, threads);
  return epochsOverride > 0 ? { ...r, epochs: epochsOverride } : r;
}

/** A few untimed steps, so the first timed run does not pay for compilation and first-touch allocation. */
function warmUp(recipe: Recipe, dataset: Dataset): void {
  if (warmupSteps > 0) run({ ...recipe, epochs: 1 }, dataset, 'warm-up', warmupSteps, false);
}

interface RunResult { secondsPerEpoch: number; testAccuracy: number; accuracies: number[]; steps: number; macs: number; exactMacs: number }

/** Trains a recipe as `precis train` does (without files), timing the training loop of each epoch. */
function run(recipe: Recipe, dataset: Dataset, label: string, stepLimit = maxSteps, evaluateEpochs = true): RunResult {
  setBackend(recipe.backend).setThreads(recipe.threads);
  const model = createModel(recipe.model, { seed: recipe.seed, widths: recipe.widths ?? undefined, dropout: recipe.dropout ?? undefined });
  const approx: ApproxRun | null = recipe.approx ? applyApprox(model.module.namedModules(), recipe.approx, model.rng) : null;
  const optimizer = createOptimizer(recipe.optimizer, model.module.namedParameters(), { lr: recipe.lr, momentum: recipe.momentum, nesterov: recipe.nesterov, weightDecay: recipe.weightDecay });
  const perEpoch = batchCount(dataset.train.count, recipe.batchSize);
  const steps = stepLimit > 0 ? Math.min(stepLimit, perEpoch) : perEpoch;
  let seconds = 0;
  let globalStep = 0;
  const accuracies: number[] = [];
  for (let epoch = 0; epoch < recipe.epochs; epoch++) {
    model.module.train();
    const t0 = performance.now();
    for (const b of batches(dataset, 'train', { batchSize: recipe.batchSize, seed: recipe.seed, epoch })) {
      if (b.step >= steps) break;
      model.rng.step = globalStep++;
      const loss = softmaxCrossEntropy(model.module.forward(new Tensor(b.x, b.shape)), b.y);
      const value = loss.item();
      if (!Number.isFinite(value)) throw new Error(`${label}: loss ${value} at epoch ${epoch}, step ${b.step}`);
      backward(loss);
      optimizer.step();
      optimizer.zeroGrad();
    }
    const dt = (performance.now() - t0) / 1000;
    seconds += dt;
    if (!evaluateEpochs) continue;
    accuracies.push(evaluate(model, dataset, recipe.evalBatchSize).accuracy);
    log(`  ${label}: epoch ${epoch + 1}/${recipe.epochs} ${dt.toFixed(2)} s, test accuracy ${(100 * accuracies[epoch]).toFixed(2)}%`);
  }
  const t = approx ? approx.totals() : { macs: 0, exactMacs: 0 };
  return { secondsPerEpoch: seconds / recipe.epochs, testAccuracy: accuracies[accuracies.length - 1], accuracies, steps, ...t };
}

async function main(): Promise<void> {
  const all = readdirSync(recipesDir).filter((f) => f.startsWith('adelman-') && f.endsWith('.json')).map((f) => f.slice(0, -5)).sort();
  const names = arg('recipes', '') ? arg('recipes', '').split(',') : all.filter((n) => loadRecipe(n).approx !== null);
  const dir = benchDataDir();
  const dataset = await loadDataset('mnist', dir ? { dataDir: dir } : {});
  log(dataset.sample ? `using the bundled MNIST sample (${dataset.train.count} training images); pass --data-dir for the full set` : `MNIST from ${dataset.dir}`);
  const exactRuns = new Map<string, RunResult>();
  for (const name of names) {
    const recipe = loadRecipe(name);
    if (recipe.approx === null) throw new Error(`recipes/${name}.json has no approx field: nothing to compare`);
    const exactRecipe: Recipe = { ...recipe, approx: null, description: null };
    const key = JSON.stringify(exactRecipe);
    if (!exactRuns.has(key)) {
      warmUp(exactRecipe, dataset);
      exactRuns.set(key, run(exactRecipe, dataset, `${recipe.model} exact`));
    }
    const exact = exactRuns.get(key)!;
    warmUp(recipe, dataset);
    const ours = run(recipe, dataset, name);
    console.log(JSON.stringify({
      bench: 'approx', recipe: name, model: recipe.model, method: recipe.approx.method, pass: recipe.approx.pass, ratio: recipe.approx.ratio,
      layers: recipe.approx.layers ? Object.keys(recipe.approx.layers) : 'all',
      backend, threads, epochs: recipe.epochs, stepsPerEpoch: ours.steps, trainImages: dataset.train.count,
      ...(dataset.sample ? { sample: true } : {}), ...(maxSteps > 0 ? { quick: true } : {}),
      macs: ours.macs, exactMacs: ours.exactMacs, macReduction: round(ours.exactMacs > 0 ? 1 - ours.macs / ours.exactMacs : 0, 4),
      secondsPerEpoch: round(ours.secondsPerEpoch, 3), exactSecondsPerEpoch: round(exact.secondsPerEpoch, 3), speedup: round(exact.secondsPerEpoch / ours.secondsPerEpoch, 3),
      testAccuracy: round(ours.testAccuracy, 4), exactTestAccuracy: round(exact.testAccuracy, 4),
      testAccuracyPerEpoch: ours.accuracies.map((a) => round(a, 4)), exactTestAccuracyPerEpoch: exact.accuracies.map((a) => round(a, 4)),
    }));
  }
}

await main();
