/**
 * Batches for training and evaluation. The order of an epoch and every
 * augmentation draw depend only on (seed, epoch) and (seed, epoch, image), so
 * an interrupted run resumed at (epoch, step) sees exactly the batches an
 * uninterrupted one would, whatever else used random numbers in between.
 */
import { OptionError } from '../errors.js';
import { split64 } from '../rng/philox.js';
import type { DatasetName } from './files.js';
import type { Dataset } from './load.js';
import type { ImageSet } from './parse.js';
import { augmentImage, augmentation, NORMALIZATION, normalizationTable, TAG_SHUFFLE, WordSequence } from './transform.js';

export type Split = 'train' | 'test';

export interface BatchOptions {
  /** Images per batch (the last one may be smaller; see dropLast). */
  readonly batchSize: number;
  /** Seed of the shuffle and the augmentation, an integer in [0, 2^53). Default 0. */
  readonly seed?: number;
  /** Which epoch's order and augmentation, an integer in [0, 2^32). Default 0. */
  readonly epoch?: number;
  /** Shuffle the images (a fresh order every epoch). Default: true for 'train', false for 'test'. */
  readonly shuffle?: boolean;
  /** CIFAR-10 training only: random 32×32 crop of the image padded by 4, then horizontal flip with p = 1/2. Default false. */
  readonly augment?: boolean;
  /** Leave out the last batch when it is smaller than batchSize. Default false: it is kept. */
  readonly dropLast?: boolean;
  /** Start at this step of the epoch (to resume a run): the batches are those an uninterrupted run gets from that step on. Default 0. */
  readonly startStep?: number;
}

export interface Batch {
  /** Normalised images, NCHW, `shape` = [n, channels, height, width]. A new array for every batch. */
  readonly x: Float32Array;
  /** Class labels 0..9. */
  readonly y: Int32Array;
  /** Images in this batch (batchSize, or fewer for the last one). */
  readonly n: number;
  readonly shape: readonly [number, number, number, number];
  /** The step within the epoch, from 0. */
  readonly step: number;
  /** Which images of the set these are. */
  readonly indices: Uint32Array;
}

/** Largest set that can be shuffled exactly (see WordSequence.below). */
const MAX_COUNT = 2 ** 21;

function integer(name: string, v: number, max: number, hint: string): number {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new OptionError(`${name} must be an integer in [0, ${max}], got ${v}`, hint);
  return v;
}

/** Batches in an epoch of `count` images. */
export function batchCount(count: number, batchSize: number, dropLast = false): number {
  return dropLast ? Math.floor(count / batchSize) : Math.ceil(count / batchSize);
}

/**
 * The order of the images in `epoch`: a Fisher–Yates shuffle (for i from
 * count−1 down to 1, swap i with a uniform j in [0, i]) drawing from Philox
 * keyed by the seed, counter (block, 0, epoch, TAG_SHUFFLE).
 */
export function epochOrder(count: number, seed: number, epoch: number): Uint32Array {
  integer('image count', count, MAX_COUNT, 'sets larger than 2^21 images are not supported');
  integer('seed', seed, Number.MAX_SAFE_INTEGER, 'use a non-negative integer below 2^53');
  integer('epoch', epoch, 0xffffffff, 'epochs are counted from 0');
  const [k0, k1] = split64(seed);
  const w = new WordSequence(k0, k1, 0, epoch, TAG_SHUFFLE);
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  for (let i = count - 1; i > 0; i--) {
    const j = w.below(i + 1);
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  return order;
}

/**
 * The batches of one epoch of a dataset's train or test set, normalised with
 * the dataset's mean and std (NORMALIZATION). The test set is in its file
 * order unless shuffle is asked for; augmentation is for training only.
 */
export function batches(dataset: Dataset, split: Split, options: BatchOptions): Generator<Batch, void, undefined> {
  // options are checked here, when called, not at the first next() as a generator function would

  if (split !== 'train' && split !== 'test') throw new OptionError(`unknown split '${String(split)}'`, "use 'train' or 'test'");
  const set: ImageSet = dataset[split];
  const batchSize = options.batchSize;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new OptionError(`batch size must be a positive integer, got ${batchSize}`, 'pass --batch-size N with N ≥ 1');
  const seed = integer('seed', options.seed ?? 0, Number.MAX_SAFE_INTEGER, 'use a non-negative integer below 2^53');
  const epoch = integer('epoch', options.epoch ?? 0, 0xffffffff, 'epochs are counted from 0');
  const shuffle = options.shuffle ?? split === 'train';
  const augment = options.augment ?? false;
  if (augment && split !== 'train') throw new OptionError('augmentation is for the training set only', 'evaluate on the test set without --augment');
  if (augment && dataset.name !== 'cifar10') {
    throw new OptionError(`augmentation (random crop and horizontal flip) is defined for cifar10, not ${dataset.name}`, 'drop --augment: flipping digits or garments changes what they are');
  }
  const steps = batchCount(set.count, batchSize, options.dropLast ?? false);
  const start = integer('start step', options.startStep ?? 0, steps, `an epoch of ${set.count} images in batches of ${batchSize} has ${steps} steps`);

  return generate(set, dataset.name, batchSize, steps, start, shuffle ? epochOrder(set.count, seed, epoch) : null, augment ? split64(seed) : null, epoch);
}

function* generate(
  set: ImageSet, name: DatasetName, batchSize: number, steps: number, start: number,
  order: Uint32Array | null, augmentKey: [number, number] | null, epoch: number,
): Generator<Batch, void, undefined> {
  const lut = normalizationTable(NORMALIZATION[name]);
  const images = set.images;
  const C = set.channels, H = set.height, W = set.width;
  const size = C * H * W, plane = H * W;
  for (let step = start; step < steps; step++) {
    const first = step * batchSize;
    const n = Math.min(batchSize, set.count - first);
    const indices = new Uint32Array(n);
    for (let k = 0; k < n; k++) indices[k] = order ? order[first + k] : first + k;
    const x = new Float32Array(n * size);
    const y = new Int32Array(n);
    for (let k = 0; k < n; k++) {
      const i = indices[k];
      y[k] = set.labels[i];
      if (augmentKey) {
        augmentImage(set, lut, i, augmentation(augmentKey[0], augmentKey[1], epoch, i), x, k * size);
        continue;
      }
      const src = i * size, dst = k * size;
      for (let c = 0; c < C; c++) {
        const t = c * 256;
        for (let p = c * plane, e = (c + 1) * plane; p < e; p++) x[dst + p] = lut[t + images[src + p]];
      }
    }
    yield { x, y, n, shape: [n, C, H, W], step, indices };
  }
}
