/**
 * A recipe: everything that decides a training run, as one flat JSON object
 * whose keys mirror the `precis train` flags. A recipe file and flags are
 * merged (flags win) over defaults, validated field by field, and the fully
 * resolved recipe is what a run directory records.
 */
import { ApproxConfigError, parseApproxConfig, type ApproxConfig } from '../approx/config.js';
import { BACKEND_NAMES, type BackendName } from '../backend/kernels.js';
import { DATASET_NAMES, type DatasetName } from '../data/files.js';
import { PrecisError } from '../errors.js';
import { MODEL_NAMES, type ModelName } from '../nn/zoo.js';
import { OPTIMIZER_NAMES, type OptimizerName } from '../optim/index.js';
import { parseSchedule } from '../optim/schedule.js';
import { LossScaler, type LossScalingInput } from '../precision/loss-scale.js';
import { Policy, type PolicyInput } from '../precision/policy.js';
import { PolicyError } from '../precision/quantizer.js';

export interface Recipe {
  model: ModelName;
  /** MLP layer widths, input first (e.g. [784, 1000, 1000, 10]). */
  widths: number[] | null;
  /** Dropout probability of the models that have dropout (null: the model's default). */
  dropout: number | null;
  dataset: DatasetName;
  /** Where the dataset files are (null: PRECIS_DATA_DIR, then the download cache, then the bundled MNIST sample). */
  dataDir: string | null;
  /** Random crop and flip (CIFAR-10 only). */
  augment: boolean;
  epochs: number;
  batchSize: number;
  optimizer: OptimizerName;
  lr: number;
  momentum: number;
  nesterov: boolean;
  weightDecay: number;
  /** Learning-rate schedule, e.g. 'constant', 'step:4:0.5', 'cosine', 'warmup:100+cosine'. */
  schedule: string;
  seed: number;
  /** Native threads; the results do not depend on it. */
  threads: number;
  /** The backend; the results do not depend on it. */
  backend: BackendName;
  evalBatchSize: number;
  /** Log the training loss every this many steps. */
  logEvery: number;
  /** Also checkpoint every this many steps (0: only at the end of each epoch). */
  checkpointEvery: number;
  /** Start from the weights of this checkpoint (fine-tuning); the optimizer starts fresh. */
  initFrom: string | null;
  /** What the run is (free text, e.g. the paper and table it reproduces). */
  description: string | null;
  /** The precision policy: formats and rounding per layer and role (null: fp32 throughout). */
  precision: PolicyInput | null;
  /** Loss scaling (null: none). */
  lossScaling: LossScalingInput | null;
  /** Sampled (approximate) products in training (null: exact); see src/approx. */
  approx: ApproxConfig | null;
}

export class RecipeError extends PrecisError {
  constructor(readonly field: string, problem: string, hint: string) {
    super('E_RECIPE', `recipe field '${field}': ${problem}`, hint);
    this.name = 'RecipeError';
  }
}

type Check = (v: unknown, field: string) => unknown;

const fail = (field: string, v: unknown, want: string, example: string): never => {
  throw new RecipeError(field, `expected ${want}, got ${JSON.stringify(v)}`, `e.g. "${field}": ${example}`);
};
const int = (lo: number, hi: number, example: string): Check => (v, f) =>
  typeof v === 'number' && Number.isSafeInteger(v) && v >= lo && v <= hi ? v : fail(f, v, `an integer in ${lo}..${hi}`, example);
const num = (ok: (x: number) => boolean, want: string, example: string): Check => (v, f) =>
  typeof v === 'number' && Number.isFinite(v) && ok(v) ? v : fail(f, v, want, example);
const oneOf = (choices: readonly string[]): Check => (v, f) =>
  typeof v === 'string' && choices.includes(v) ? v : fail(f, v, `one of ${choices.join(', ')}`, JSON.stringify(choices[0]));
const bool: Check = (v, f) => (typeof v === 'boolean' ? v : fail(f, v, 'true or false', 'true'));
const nullable = (c: Check): Check => (v, f) => (v === null ? null : c(v, f));
const str: Check = (v, f) => (typeof v === 'string' && v !== '' ? v : fail(f, v, 'a non-empty string', '"data"'));
const widths: Check = (v, f) =>
  Array.isArray(v) && v.length >= 2 && v.every((w) => Number.isSafeInteger(w) && w > 0) ? v : fail(f, v, 'an array of at least two positive integers', '[784, 1000, 1000, 10]');
const schedule: Check = (v, f) => {
  if (typeof v !== 'string') return fail(f, v, 'a schedule string', '"step:4:0.5"');
  try {
    parseSchedule(v);
  } catch (e) {
    throw new RecipeError(f, (e as Error).message, 'see `precis train --help` for the schedule forms');
  }
  return v;
};

/** The `approx` object with its defaults filled in; errors name the subfield ('approx.ratio'). */
const approxConfig: Check = (v, f) => {
  try {
    return parseApproxConfig(v, f);
  } catch (e) {
    if (e instanceof ApproxConfigError) throw new RecipeError(e.field, e.problem, e.hint);
    throw e;
  }
};

/** A nested field validated by its own parser; its errors name the full path ('precision.default.weight'). */
const nested = (parse: (v: unknown, field: string) => unknown): Check => (v, f) => {
  try {
    parse(v, f);
  } catch (e) {
    if (e instanceof PolicyError) throw new RecipeError(e.field, e.problem, e.hint);
    throw e;
  }
  return v;
};

const FIELDS: Record<keyof Recipe, Check> = {
  model: oneOf(MODEL_NAMES),
  widths: nullable(widths),
  dropout: nullable(num((x) => x >= 0 && x < 1, 'a probability in [0, 1)', '0.5')),
  dataset: oneOf(DATASET_NAMES),
  dataDir: nullable(str),
  augment: bool,
  epochs: int(1, 100000, '10'),
  batchSize: int(1, 65536, '64'),
  optimizer: oneOf(OPTIMIZER_NAMES),
  lr: num((x) => x > 0, 'a positive number', '0.01'),
  momentum: num((x) => x >= 0 && x < 1, 'a number in [0, 1)', '0.9'),
  nesterov: bool,
  weightDecay: num((x) => x >= 0, 'a non-negative number', '0.0005'),
  schedule,
  seed: int(0, Number.MAX_SAFE_INTEGER, '0'),
  threads: int(1, 256, '2'),
  backend: oneOf(BACKEND_NAMES),
  evalBatchSize: int(1, 65536, '1000'),
  logEvery: int(1, 1e9, '50'),
  checkpointEvery: int(0, 1e9, '0'),
  initFrom: nullable(str),
  description: nullable((v, f) => (typeof v === 'string' ? v : fail(f, v, 'a string', '"PositNN Table 3, O12-L12"'))),
  precision: nullable(nested((v, f) => Policy.parse(v, f))),
  lossScaling: nullable(nested((v, f) => LossScaler.parse(v, f))),
  approx: nullable(approxConfig),
};

export const RECIPE_FIELDS = Object.keys(FIELDS) as (keyof Recipe)[];

/** The defaults a recipe starts from; dataset and augmentation follow the model. */
export function defaultRecipe(model: ModelName, backend: BackendName, threads: number): Recipe {
  const cifar = model === 'cifarnet' || model === 'resnet20';
  return {
    model,
    widths: null,
    dropout: null,
    dataset: cifar ? 'cifar10' : 'mnist',
    dataDir: null,
    augment: cifar,
    epochs: 1,
    batchSize: 64,
    optimizer: 'sgd',
    lr: 0.01,
    momentum: 0.9,
    nesterov: false,
    weightDecay: 0,
    schedule: 'constant',
    seed: 0,
    threads,
    backend,
    evalBatchSize: 1000,
    logEvery: 50,
    checkpointEvery: 0,
    initFrom: null,
    description: null,
    precision: null,
    lossScaling: null,
    approx: null,
  };
}

/** Checks a partial recipe (from a file or from flags): every key known, every value valid. */
export function validatePartial(obj: unknown, source: string): Partial<Recipe> {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
    throw new RecipeError('(top level)', `${source} is not a JSON object`, 'a recipe is an object like {"model": "lenet5", "epochs": 10}');
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    const check = FIELDS[k as keyof Recipe];
    if (!check) throw new RecipeError(k, `unknown field in ${source}`, `the fields are: ${RECIPE_FIELDS.join(', ')}`);
    out[k] = check(v, k);
  }
  return out as Partial<Recipe>;
}

/** Defaults, then the recipe file, then flags; the result is validated as a whole. */
export function resolveRecipe(fromFile: Partial<Recipe>, fromFlags: Partial<Recipe>, backend: BackendName, threads: number): Recipe {
  const model = fromFlags.model ?? fromFile.model ?? 'lenet5';
  const r: Recipe = { ...defaultRecipe(model, backend, threads), ...fromFile, ...fromFlags };
  validatePartial(r, 'the resolved recipe');
  if (r.widths !== null && r.model !== 'mlp') throw new RecipeError('widths', `only the mlp model has configurable widths, not ${r.model}`, 'remove "widths" or use "model": "mlp"');
  if (r.augment && r.dataset !== 'cifar10') throw new RecipeError('augment', `augmentation is defined for cifar10, not ${r.dataset}`, 'set "augment": false');
  if (r.nesterov && (r.optimizer !== 'sgd' || r.momentum === 0)) throw new RecipeError('nesterov', 'Nesterov momentum needs the sgd optimizer and momentum > 0', 'set "momentum", or "nesterov": false');
  return r;
}
