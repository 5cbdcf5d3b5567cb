/**
 * Checkpoints: everything a run needs to continue bit for bit. Weights and
 * batch-norm statistics, optimizer state, and where the run stands (epoch,
 * step). Random draws (shuffling, augmentation, dropout) and the learning
 * rate are pure functions of the seed and that position, so the position is
 * the whole of their state.
 */
import type { Model } from '../nn/zoo.js';
import type { Optimizer } from '../optim/index.js';
import type { Recipe } from './recipe.js';
import { CheckpointError, encodeSafetensors, readSafetensors, writeFileAtomic, type SafetensorsEntry } from './safetensors.js';

export const CHECKPOINT_FORMAT = 'precis-checkpoint-1';

export interface RunPosition {
  /** The next epoch to run (from 0). */
  epoch: number;
  /** The next step within that epoch. */
  step: number;
  /** Steps taken since the start of the run. */
  globalStep: number;
  /** Training time so far, across resumes. */
  trainSeconds: number;
}

export interface Checkpoint {
  readonly recipe: Recipe;
  readonly position: RunPosition;
  /** Updates the optimizer has made (Adam's bias correction depends on it). */
  readonly optimizerSteps: number;
  readonly tensors: Map<string, SafetensorsEntry>;
}

/** `extra` holds the precision state (loss scale, amax histories), saved under 'precision/'. */
export function saveCheckpoint(path: string, recipe: Recipe, position: RunPosition, model: Model, optimizer: Optimizer, extra: ReadonlyMap<string, Float32Array | Float64Array> = new Map()): void {
  const tensors = new Map<string, SafetensorsEntry>();
  for (const [name, v] of extra) tensors.set(`precision/${name}`, { data: v, shape: [v.length] });
  for (const [name, t] of model.module.namedParameters()) tensors.set(`param/${name}`, { data: t.data, shape: t.shape });
  for (const [name, b] of model.module.namedBuffers()) tensors.set(`buffer/${name}`, { data: b, shape: [b.length] });
  for (const [name, s] of optimizer.state()) tensors.set(`optim/${name}`, { data: s, shape: [s.length] });
  const metadata: Record<string, string> = {
    format: CHECKPOINT_FORMAT,
    recipe: JSON.stringify(recipe),
    position: JSON.stringify(position),
    optimizerSteps: String(optimizer.stepCount),
  };
  writeFileAtomic(path, encodeSafetensors({ tensors, metadata }));
}

export function loadCheckpoint(path: string): Checkpoint {
  const file = readSafetensors(path);
  const m = file.metadata;
  if (m.format !== CHECKPOINT_FORMAT) {
    throw new CheckpointError(path, `is not a precis checkpoint (format '${m.format ?? 'none'}', expected '${CHECKPOINT_FORMAT}')`, 'pass a checkpoint.safetensors written by `precis train`');
  }
  try {
    const optimizerSteps = Number(m.optimizerSteps);
    if (!Number.isSafeInteger(optimizerSteps)) throw new Error('bad optimizerSteps');
    return { recipe: JSON.parse(m.recipe) as Recipe, position: JSON.parse(m.position) as RunPosition, optimizerSteps, tensors: file.tensors };
  } catch {
    throw new CheckpointError(path, 'has damaged metadata', 'use another checkpoint');
  }
}

/** Copies a checkpoint's weights, buffers and optimizer state into a freshly built model and optimizer. */
export function restoreCheckpoint(path: string, ckpt: Checkpoint, model: Model, optimizer: Optimizer | null): void {
  const take = (name: string, into: Float32Array | Float64Array) => {
    const e = ckpt.tensors.get(name);
    if (!e) throw new CheckpointError(path, `has no tensor '${name}'`, 'the checkpoint was written for another model');
    if (e.data.length !== into.length) throw new CheckpointError(path, `tensor '${name}' has ${e.data.length} values, the model needs ${into.length}`, 'the checkpoint was written for another model');
    into.set(e.data);
  };
  for (const [name, t] of model.module.namedParameters()) take(`param/${name}`, t.data);
  for (const [name, b] of model.module.namedBuffers()) take(`buffer/${name}`, b);
  if (optimizer) {
    const state = new Map<string, Float32Array | Float64Array>();
    for (const [name, e] of ckpt.tensors) if (name.startsWith('optim/')) state.set(name.slice(6), e.data);
    optimizer.loadState(state, ckpt.optimizerSteps);
  }
}
