/**
 * The training loop: epochs of shuffled batches, forward, cross-entropy,
 * backward, optimizer step; a test-set evaluation after every epoch; metrics
 * as JSON lines; checkpoints that let a killed run continue bit for bit.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { applyApprox, sumMacLines, type MacTotals } from '../approx/index.js';
import { getBackend, setBackend } from '../backend/index.js';
import { batchCount, batches } from '../data/batch.js';
import type { Dataset } from '../data/load.js';
import { PrecisError } from '../errors.js';
import { createModel, type Model } from '../nn/zoo.js';
import { createOptimizer, type Optimizer } from '../optim/index.js';
import { learningRate, parseSchedule } from '../optim/schedule.js';
import { Emulation } from '../precision/emulation.js';
import { LossScaler } from '../precision/loss-scale.js';
import { Policy } from '../precision/policy.js';
import { summarizeTelemetry, type PrecisionSummary } from '../precision/telemetry.js';
import { backward, noGrad } from '../tensor/autograd.js';
import { softmaxCrossEntropy } from '../tensor/ops/loss.js';
import { Tensor, type FloatArray } from '../tensor/tensor.js';
import { loadCheckpoint, restoreCheckpoint, saveCheckpoint, type RunPosition } from './checkpoint.js';
import { silentProgress, type ProgressSink } from './progress.js';
import type { Recipe } from './recipe.js';
import { writeFileAtomic } from './safetensors.js';

export const RUN_FILES = { recipe: 'recipe.json', metrics: 'metrics.jsonl', summary: 'summary.json', checkpoint: 'checkpoint.safetensors' } as const;

export interface Summary {
  model: string;
  dataset: string;
  /** True when the bundled MNIST sample stood in for the full set. */
  sample: boolean;
  epochs: number;
  steps: number;
  testAccuracy: number;
  testLoss: number;
  trainSeconds: number;
  imagesPerSecond: number;
  backend: string;
  isa: string;
  threads: number;
  parameters: number;
  /** Emulated runs: telemetry over the logged steps, and the final loss scale. */
  precision?: PrecisionSummary;
  /** Runs with sampled products: multiply-adds of the approximated layers' products, done and exact. */
  approx?: MacTotals & { macReduction: number };
}

/** The emulation of a recipe, attached to its model (precision policy and loss scaling). */
export function createEmulation(recipe: Recipe, model: Model): Emulation {
  return new Emulation(model.module, {
    policy: recipe.precision ? Policy.parse(recipe.precision) : null,
    lossScaling: recipe.lossScaling ? LossScaler.parse(recipe.lossScaling) : null,
    seed: recipe.seed,
  });
}

function prefixed(tensors: ReadonlyMap<string, { data: FloatArray }>, prefix: string): Map<string, FloatArray> {
  const out = new Map<string, FloatArray>();
  for (const [name, e] of tensors) if (name.startsWith(prefix)) out.set(name.slice(prefix.length), e.data);
  return out;
}

export class TrainingError extends PrecisError {
  constructor(code: string, message: string, hint: string) {
    super(code, message, hint);
    this.name = 'TrainingError';
  }
}

export interface TrainOptions {
  /** The run directory. */
  out: string;
  dataset: Dataset;
  /** Continue from the run directory's checkpoint. */
  resume?: boolean;
  progress?: ProgressSink;
  /** Checked between steps: when it returns true the run checkpoints and stops. */
  shouldStop?: () => boolean;
}

export interface Evaluation {
  loss: number;
  accuracy: number;
}

/** Mean loss and accuracy over a split, in evaluation mode and without gradients. */
export function evaluate(model: Model, dataset: Dataset, batchSize: number, split: 'train' | 'test' = 'test'): Evaluation {
  const wasTraining = model.module.training;
  model.module.eval();
  let lossSum = 0;
  let correct = 0;
  let count = 0;
  noGrad(() => {
    for (const b of batches(dataset, split, { batchSize, shuffle: false })) {
      const logits = model.module.forward(new Tensor(b.x, b.shape));
      lossSum += softmaxCrossEntropy(logits, b.y).item() * b.n;
      correct += countCorrect(logits, b.y);
      count += b.n;
    }
  });
  model.module.train(wasTraining);
  return { loss: lossSum / count, accuracy: correct / count };
}

/** Rows whose largest logit (the first, on ties) is at the label. */
export function countCorrect(logits: Tensor, labels: Int32Array): number {
  const [n, c] = logits.shape;
  const x = logits.data;
  let correct = 0;
  for (let r = 0; r < n; r++) {
    let best = 0;
    for (let j = 1; j < c; j++) if (x[r * c + j] > x[r * c + best]) best = j;
    if (best === labels[r]) correct++;
  }
  return correct;
}

/** One line of metrics.jsonl: what was logged, and the step it belongs to. */
type MetricLine = { globalStep: number; [field: string]: unknown };

function readMetrics(path: string): MetricLine[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as MetricLine);
}

export async function train(recipe: Recipe, options: TrainOptions): Promise<Summary> {
  const { out, dataset } = options;
  const progress = options.progress ?? silentProgress;
  const paths = {
    recipe: join(out, RUN_FILES.recipe),
    metrics: join(out, RUN_FILES.metrics),
    summary: join(out, RUN_FILES.summary),
    checkpoint: join(out, RUN_FILES.checkpoint),
  };
  mkdirSync(out, { recursive: true });
  if (!options.resume && (existsSync(paths.checkpoint) || existsSync(paths.metrics))) {
    throw new TrainingError('E_RUN_EXISTS', `${out} already holds a run`, 'continue it with --resume, or choose another --out');
  }
  const backend = setBackend(recipe.backend);
  backend.setThreads(recipe.threads);

  const model = createModel(recipe.model, { seed: recipe.seed, widths: recipe.widths ?? undefined, dropout: recipe.dropout ?? undefined });
  const [c, h, w] = model.inputShape;
  if (c * h * w !== dataset.train.channels * dataset.train.height * dataset.train.width) {
    throw new TrainingError('E_MODEL_DATA', `model ${recipe.model} takes ${c}×${h}×${w} inputs but ${dataset.name} images are ${dataset.train.channels}×${dataset.train.height}×${dataset.train.width}`, 'pick a model made for this dataset');
  }
  // Fine-tuning: start from another run's weights (and batch-norm statistics), with a fresh optimizer.
  if (recipe.initFrom && !options.resume) restoreCheckpoint(recipe.initFrom, loadCheckpoint(recipe.initFrom), model, null);
  const optimizer: Optimizer = createOptimizer(recipe.optimizer, model.module.namedParameters(), {
    lr: recipe.lr, momentum: recipe.momentum, nesterov: recipe.nesterov, weightDecay: recipe.weightDecay,
  });
  const emulation = createEmulation(recipe, model);
  // Absent in recipes saved before sampled products existed.
  const approx = recipe.approx ? applyApprox(model.module.namedModules(), recipe.approx, model.rng) : null;
  const schedule = parseSchedule(recipe.schedule);
  const stepsPerEpoch = batchCount(dataset.train.count, recipe.batchSize);
  let pos: RunPosition = { epoch: 0, step: 0, globalStep: 0, trainSeconds: 0 };

  if (options.resume) {
    if (!existsSync(paths.checkpoint)) {
      throw new TrainingError('E_NO_CHECKPOINT', `${out} has no checkpoint to resume from`, 'start the run without --resume');
    }
    const ckpt = loadCheckpoint(paths.checkpoint);
    restoreCheckpoint(paths.checkpoint, ckpt, model, optimizer);
    emulation.loadState(prefixed(ckpt.tensors, 'precision/'));
    pos = { ...ckpt.position };
    // Lines logged after the checkpoint belong to the lost part of the run; the resumed run logs them again.
    const kept = readMetrics(paths.metrics).filter((m) => m.globalStep <= pos.globalStep);
    writeFileAtomic(paths.metrics, kept.map((m) => `${JSON.stringify(m)}\n`).join(''));
  } else {
    writeFileAtomic(paths.recipe, `${JSON.stringify(recipe, null, 2)}\n`);
  }
  const log = (m: MetricLine) => appendFileSync(paths.metrics, `${JSON.stringify(m)}\n`);
  const checkpoint = () => {
    // The multiply-adds since the previous line go with every checkpoint, so a resumed run's kept lines add up to its whole count.
    if (approx) log({ type: 'approx', epoch: pos.epoch, globalStep: pos.globalStep, ...approx.take() });
    saveCheckpoint(paths.checkpoint, recipe, pos, model, optimizer, emulation.state());
  };
  const emulating = emulation.policy !== null || emulation.lossScaler !== null;
  if (dataset.sample) progress.line(`using the bundled MNIST sample (${dataset.train.count} training, ${dataset.test.count} test images); pass --data-dir, or --download, for the full set`);

  let last: Evaluation | null = null;
  const totalSteps = stepsPerEpoch * recipe.epochs;
  const runStart = pos.globalStep;
  let epochStart = performance.now();
  let secondsThisRun = 0;
  model.module.train();
  for (let epoch = pos.epoch; epoch < recipe.epochs; epoch++) {
    let seen = 0;
    let correct = 0;
    let lossSum = 0;
    epochStart = performance.now();
    for (const b of batches(dataset, 'train', { batchSize: recipe.batchSize, seed: recipe.seed, epoch, augment: recipe.augment, startStep: pos.step })) {
      const t0 = performance.now();
      optimizer.lr = learningRate(schedule, recipe.lr, { epoch, step: b.step, stepsPerEpoch, epochs: recipe.epochs });
      model.rng.step = pos.globalStep;
      const logStep = b.step % recipe.logEvery === 0 || b.step + 1 === stepsPerEpoch;
      emulation.beginStep(pos.globalStep, epoch, logStep);
      const logits = model.module.forward(new Tensor(b.x, b.shape));
      const lossT = emulation.loss(logits, b.y);
      const loss = lossT.item();
      if (!Number.isFinite(loss)) {
        log({ type: 'stopped', reason: 'non-finite loss', loss: String(loss), epoch, step: b.step, globalStep: pos.globalStep });
        progress.done();
        const kept = existsSync(paths.checkpoint) ? `the last good checkpoint is ${paths.checkpoint} (epoch ${loadCheckpoint(paths.checkpoint).position.epoch + 1})` : 'no checkpoint had been written yet';
        throw new TrainingError('E_NONFINITE_LOSS', `the loss became ${loss} at epoch ${epoch + 1}, step ${b.step}; training stopped and ${kept}`, 'lower the learning rate (--lr) or check the data');
      }
      backward(lossT, emulation.lossSeed());
      // With loss scaling, a step whose gradients overflowed is skipped (and the scale backs off).
      if (emulation.applyGradients(optimizer.params, epoch)) {
        optimizer.step();
        emulation.afterUpdate(optimizer);
      }
      optimizer.zeroGrad();
      const dt = (performance.now() - t0) / 1000;
      pos.trainSeconds += dt;
      secondsThisRun += dt;
      const batchCorrect = countCorrect(logits, b.y);
      seen += b.n;
      correct += batchCorrect;
      lossSum += loss * b.n;
      pos = { ...pos, step: b.step + 1, globalStep: pos.globalStep + 1 };
      if (logStep) {
        log({ type: 'train', epoch, step: b.step, globalStep: pos.globalStep, loss, accuracy: batchCorrect / b.n, lr: optimizer.lr });
        if (emulating) log({ type: 'telemetry', epoch, step: b.step, globalStep: pos.globalStep, ...emulation.report() });
      }
      const done = pos.globalStep - runStart;
      const rate = secondsThisRun > 0 ? done / secondsThisRun : 0;
      progress.update({
        epoch, epochs: recipe.epochs, step: pos.step, steps: stepsPerEpoch, loss: lossSum / seen, accuracy: correct / seen,
        imagesPerSecond: (seen * 1000) / Math.max(1e-9, performance.now() - epochStart), eta: rate > 0 ? (totalSteps - pos.globalStep) / rate : Infinity,
      });
      if (recipe.checkpointEvery > 0 && pos.globalStep % recipe.checkpointEvery === 0 && pos.step < stepsPerEpoch) checkpoint();
      // Let signals (Ctrl-C) through between steps.
      await new Promise((r) => setImmediate(r));
      if (options.shouldStop?.() && pos.step < stepsPerEpoch) {
        checkpoint();
        progress.done();
        throw new TrainingError('E_INTERRUPTED', `interrupted at epoch ${epoch + 1}, step ${pos.step}; the run is saved in ${paths.checkpoint}`, `continue it with: precis train --resume --out ${out}`);
      }
    }
    last = evaluate(model, dataset, recipe.evalBatchSize);
    emulation.report(); // evaluation's roundings are not training telemetry
    pos = { ...pos, epoch: epoch + 1, step: 0 };
    log({ type: 'eval', epoch, globalStep: pos.globalStep, testLoss: last.loss, testAccuracy: last.accuracy, trainLoss: lossSum / Math.max(1, seen), trainAccuracy: correct / Math.max(1, seen) });
    progress.done();
    progress.line(`epoch ${epoch + 1}/${recipe.epochs}: test accuracy ${(100 * last.accuracy).toFixed(2)}%, test loss ${last.loss.toFixed(4)}`);
    checkpoint();
    if (options.shouldStop?.() && epoch + 1 < recipe.epochs) {
      throw new TrainingError('E_INTERRUPTED', `interrupted after epoch ${epoch + 1}; the run is saved in ${paths.checkpoint}`, `continue it with: precis train --resume --out ${out}`);
    }
  }
  last ??= evaluate(model, dataset, recipe.evalBatchSize);
  const summary: Summary = {
    model: recipe.model,
    dataset: recipe.dataset,
    sample: dataset.sample,
    epochs: recipe.epochs,
    steps: pos.globalStep,
    testAccuracy: last.accuracy,
    testLoss: last.loss,
    trainSeconds: pos.trainSeconds,
    imagesPerSecond: (pos.globalStep * dataset.train.count) / stepsPerEpoch / Math.max(1e-9, pos.trainSeconds),
    backend: getBackend().name,
    isa: getBackend().isa(),
    threads: getBackend().threads(),
    parameters: model.module.parameterCount(),
  };
  if (emulating) summary.precision = summarizeTelemetry(readMetrics(paths.metrics));
  if (approx) summary.approx = sumMacLines(readMetrics(paths.metrics));
  writeFileAtomic(paths.summary, `${JSON.stringify(summary, null, 2)}\n`);
  return summary;
}
