/** `precis train` and `precis eval`. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultThreads, getBackend, setBackend } from '../backend/index.js';
import { loadDataset, type Dataset } from '../data/load.js';
import { createModel } from '../nn/zoo.js';
import { loadCheckpoint, restoreCheckpoint } from '../train/checkpoint.js';
import { progressSink } from '../train/progress.js';
import { RecipeError, resolveRecipe, validatePartial, type Recipe } from '../train/recipe.js';
import { createEmulation, evaluate, RUN_FILES, train } from '../train/trainer.js';
import { parseArgs, UsageError, type ParsedArgs } from './args.js';

export const TRAIN_USAGE = `precis train [options]        train a model; writes a run directory
  --model NAME           mlp | lenet5 | mnist-cnn | cifarnet | resnet20 (default lenet5)
  --dataset NAME         mnist | fashion-mnist | cifar10 (default: mnist, cifar10 for cifarnet/resnet20)
  --epochs N             (default 1)
  --batch-size N         (default 64)
  --optimizer NAME       sgd | adam | adamw (default sgd)
  --lr X                 learning rate (default 0.01)
  --momentum X           SGD momentum (default 0.9)
  --nesterov             Nesterov momentum
  --weight-decay X       (default 0)
  --schedule S           constant | step:N:GAMMA | cosine[:min=X] | warmup:N+<schedule> (default constant)
  --seed N               initialisation, shuffling, augmentation and dropout (default 0)
  --widths A-B-...       MLP widths (default 784-1000-1000-10)
  --dropout P            dropout probability of models with dropout
  --augment / --no-augment   CIFAR-10 random crop and flip (default on for CIFAR-10)
  --data-dir DIR         dataset files (default PRECIS_DATA_DIR; else the download cache; else,
                         for MNIST, the bundled sample of 4000 + 1000 images)
  --download             fetch missing dataset files from their published URLs into the cache
  --out DIR              run directory (default runs/<model>-<dataset>)
  --resume               continue the run in --out from its checkpoint
  --init-from FILE       start from the weights of a checkpoint (fine-tuning; the optimizer starts fresh)
  --recipe FILE          a JSON recipe; flags override its fields. Emulated arithmetic (the
                         "precision" policy, "lossScaling") is set in recipes: see recipes/ and docs/precision.md
  --threads N            native threads (default: PRECIS_THREADS or all cores)
  --backend NAME         native | wasm | js (default: the fastest that loads)
  --eval-batch-size N, --log-every N, --checkpoint-every N
  The run directory gets recipe.json, metrics.jsonl, summary.json and checkpoint.safetensors.

precis eval --checkpoint FILE [--precision FILE|none] [--data-dir DIR] [--backend NAME] [--threads N] [--json]
  test-set accuracy and loss of a checkpoint, in the arithmetic of its run's precision policy,
  or of the policy in --precision FILE (a policy object, or a recipe whose "precision" is used;
  e.g. zero-shot evaluation of an fp32 run with a narrow accumulator), or in fp32 (none)`;

const VALUE_FLAGS = [
  'model', 'dataset', 'epochs', 'batch-size', 'optimizer', 'lr', 'momentum', 'weight-decay', 'schedule', 'seed', 'widths', 'dropout',
  'data-dir', 'out', 'recipe', 'threads', 'backend', 'eval-batch-size', 'log-every', 'checkpoint-every', 'init-from',
] as const;

const camel = (flag: string) => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
const NUMERIC = new Set(['epochs', 'batch-size', 'lr', 'momentum', 'weight-decay', 'seed', 'dropout', 'threads', 'eval-batch-size', 'log-every', 'checkpoint-every']);

/** The recipe fields given as flags, validated, with errors naming the flag. */
function recipeFromFlags(args: ParsedArgs): Partial<Recipe> {
  const raw: Record<string, unknown> = {};
  for (const [flag, v] of args.flags) {
    if (flag === 'out' || flag === 'recipe') continue;
    if (flag === 'widths') raw.widths = v.split('-').map(Number);
    else raw[camel(flag)] = NUMERIC.has(flag) ? (v.trim() === '' ? NaN : Number(v)) : v;
  }
  if (args.booleans.has('nesterov')) raw.nesterov = true;
  if (args.booleans.has('augment')) raw.augment = true;
  if (args.booleans.has('no-augment')) raw.augment = false;
  try {
    return validatePartial(raw, 'the flags');
  } catch (e) {
    if (e instanceof RecipeError) {
      const flag = e.field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
      throw new UsageError(`--${flag}: ${e.message.replace(/^recipe field '[^']+': /, '').split('\n')[0]}`, 'see `precis train --help`');
    }
    throw e;
  }
}

function readRecipeFile(path: string): Partial<Recipe> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read the recipe ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'check the path given to --recipe');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new RecipeError('(top level)', `${path} is not valid JSON: ${(e as Error).message}`, 'fix the JSON syntax');
  }
  return validatePartial(json, path);
}

async function openDataset(recipe: Pick<Recipe, 'dataset' | 'dataDir'>, download: boolean, err: (s: string) => void): Promise<Dataset> {
  return loadDataset(recipe.dataset, {
    dataDir: recipe.dataDir ?? undefined,
    download,
    onProgress: (file, bytes, total) => err(`downloading ${file}: ${(bytes / 1e6).toFixed(1)}${total ? ` / ${(total / 1e6).toFixed(1)}` : ''} MB`),
  });
}

export async function trainCommand(argv: readonly string[], out: (line: string) => void, shouldStop: () => boolean): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) { out(TRAIN_USAGE); return; }
  const args = parseArgs(argv, { values: VALUE_FLAGS, booleans: ['resume', 'nesterov', 'augment', 'no-augment', 'download'] }, 'see `precis train --help`');
  if (args.positional.length > 0) throw new UsageError(`unexpected argument '${args.positional[0]}'`, 'see `precis train --help`');
  const flags = recipeFromFlags(args);
  const threads = flags.threads ?? defaultThreads();
  let recipe: Recipe;
  let runDir = args.flags.get('out');
  if (args.booleans.has('resume')) {
    if (!runDir) throw new UsageError('--resume needs --out, the run directory to continue', 'e.g. precis train --resume --out runs/lenet5-mnist');
    const saved = loadCheckpoint(join(runDir, RUN_FILES.checkpoint)).recipe;
    // Where and how fast a run computes may change on resume; what it computes may not.
    const changed = Object.keys(flags).filter((k) => k !== 'backend' && k !== 'threads' && k !== 'dataDir' && JSON.stringify(flags[k as keyof Recipe]) !== JSON.stringify(saved[k as keyof Recipe]));
    if (changed.length > 0 || args.flags.has('recipe')) {
      throw new UsageError(`--resume continues the saved recipe; it cannot change ${changed.length ? changed.join(', ') : 'the recipe'}`, 'only --backend, --threads and --data-dir may be given with --resume');
    }
    recipe = { ...saved, ...flags };
  } else {
    const fromFile = args.flags.has('recipe') ? readRecipeFile(args.flags.get('recipe')!) : {};
    recipe = resolveRecipe(fromFile, flags, flags.backend ?? getBackend().name, threads);
    runDir ??= join('runs', `${recipe.model}-${recipe.dataset}`);
  }
  const err = (s: string) => process.stderr.write(`${s}\n`);
  const dataset = await openDataset(recipe, args.booleans.has('download'), err);
  out(`training ${recipe.model} on ${dataset.name}${dataset.sample ? ' (bundled sample)' : ''}: ${recipe.epochs} epoch(s), batch ${recipe.batchSize}, ${recipe.optimizer} lr ${recipe.lr}; run directory ${runDir}`);
  const summary = await train(recipe, { out: runDir, dataset, resume: args.booleans.has('resume'), progress: progressSink(process.stderr), shouldStop });
  out(`test accuracy ${(100 * summary.testAccuracy).toFixed(2)}%  test loss ${summary.testLoss.toFixed(4)}  ${summary.trainSeconds.toFixed(1)} s  ${Math.round(summary.imagesPerSecond)} img/s  (${summary.backend} ${summary.isa}, ${summary.threads} thread(s))`);
  out(`wrote ${join(runDir, RUN_FILES.summary)}`);
}

/** The policy eval uses: the run's own, none ('none'), or one read from a JSON file (zero-shot evaluation in other arithmetic). */
function evalPolicy(flag: string | undefined, own: Recipe['precision']): Recipe['precision'] {
  if (flag === undefined) return own;
  if (flag === 'none') return null;
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(flag, 'utf8'));
  } catch (e) {
    throw new UsageError(`cannot read the precision policy ${flag}: ${(e as Error).message}`, 'pass a JSON file holding a policy object, as a recipe\'s "precision" field');
  }
  const obj = v as Record<string, unknown>;
  // A whole recipe may be given: its precision field is the policy.
  const policy = obj && typeof obj === 'object' && 'precision' in obj ? obj.precision : v;
  return validatePartial({ precision: policy }, flag).precision ?? null;
}

export async function evalCommand(argv: readonly string[], out: (line: string) => void): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) { out(TRAIN_USAGE.slice(TRAIN_USAGE.indexOf('precis eval'))); return; }
  const args = parseArgs(argv, { values: ['checkpoint', 'data-dir', 'backend', 'threads', 'batch-size', 'precision'], booleans: ['json', 'download'] }, 'see `precis eval --help`');
  const path = args.flags.get('checkpoint') ?? args.positional[0];
  if (!path) throw new UsageError('precis eval needs --checkpoint FILE', 'e.g. precis eval --checkpoint runs/lenet5-mnist/checkpoint.safetensors');
  const ckpt = loadCheckpoint(path);
  const flags = recipeFromFlags({ ...args, flags: new Map([...args.flags].filter(([k]) => k !== 'checkpoint' && k !== 'precision').map(([k, v]) => [k === 'batch-size' ? 'eval-batch-size' : k, v])) });
  const recipe = { ...ckpt.recipe, ...flags, precision: evalPolicy(args.flags.get('precision'), ckpt.recipe.precision ?? null) };
  setBackend(recipe.backend).setThreads(recipe.threads);
  const model = createModel(recipe.model, { seed: recipe.seed, widths: recipe.widths ?? undefined, dropout: recipe.dropout ?? undefined });
  restoreCheckpoint(path, ckpt, model, null);
  const emulation = createEmulation(recipe, model);
  emulation.beginStep(ckpt.position.globalStep, ckpt.position.epoch, false);
  const dataset = await openDataset(recipe, args.booleans.has('download'), (s) => process.stderr.write(`${s}\n`));
  const r = evaluate(model, dataset, recipe.evalBatchSize);
  if (args.booleans.has('json')) out(JSON.stringify({ checkpoint: path, dataset: dataset.name, sample: dataset.sample, testAccuracy: r.accuracy, testLoss: r.loss }));
  else out(`${path}: ${recipe.model} on ${dataset.name}${dataset.sample ? ' (bundled sample)' : ''}: test accuracy ${(100 * r.accuracy).toFixed(2)}%, test loss ${r.loss.toFixed(4)}`);
}
