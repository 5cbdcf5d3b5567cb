/**
 * From pixel bytes to network inputs: normalisation exactly as PyTorch's
 * ToTensor + Normalize computes it in float32, and the CIFAR-10 training
 * augmentation (random crop with 4 pixels of padding, horizontal flip).
 */
import { philox4x32 } from '../rng/philox.js';
import type { DatasetName } from './files.js';
import type { ImageSet } from './parse.js';

/** Per-channel mean and standard deviation of a dataset's training pixels (scaled to [0, 1]). */
export interface Normalization {
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

/** The customary values (as in the PyTorch examples and torchvision references). */
export const NORMALIZATION: Record<DatasetName, Normalization> = {
  mnist: { mean: [0.1307], std: [0.3081] },
  'fashion-mnist': { mean: [0.286], std: [0.353] },
  cifar10: { mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.2435, 0.2616] },
};

/**
 * The normalised value of every byte value, per channel: lut[c * 256 + u].
 * Each step is rounded to float32 as PyTorch does it: ToTensor divides the
 * float32 byte by 255 (float32 division), Normalize subtracts the float32 mean
 * and divides by the float32 std. Computing a step in double and rounding once
 * to float32 gives the same result as the float32 operation, since double has
 * more than 2 × 24 + 2 bits (double rounding is innocuous for + − × ÷).
 */
export function normalizationTable(norm: Normalization): Float32Array {
  const channels = norm.mean.length;
  const lut = new Float32Array(channels * 256);
  for (let c = 0; c < channels; c++) {
    const mean = Math.fround(norm.mean[c]);
    const std = Math.fround(norm.std[c]);
    for (let u = 0; u < 256; u++) lut[c * 256 + u] = Math.fround(Math.fround(Math.fround(u / 255) - mean) / std);
  }
  return lut;
}

/**
 * Images `indices` of a set (all of them, in order, by default), normalised
 * into a new Float32Array in NCHW order.
 */
export function normalizeImages(set: ImageSet, norm: Normalization, indices?: ArrayLike<number>): Float32Array {
  const lut = normalizationTable(norm);
  const size = set.channels * set.height * set.width;
  const plane = set.height * set.width;
  const n = indices ? indices.length : set.count;
  const out = new Float32Array(n * size);
  for (let k = 0; k < n; k++) {
    const src = (indices ? indices[k] : k) * size;
    const dst = k * size;
    for (let c = 0; c < set.channels; c++) {
      const base = c * 256;
      for (let p = c * plane; p < (c + 1) * plane; p++) out[dst + p] = lut[base + set.images[src + p]];
    }
  }
  return out;
}

/** Pixels of zero padding around an image before the random crop (torchvision RandomCrop(32, padding=4)). */
export const CROP_PADDING = 4;

/**
 * Philox counter word c3 of the data-order and augmentation draws. Streams
 * that quantize() and the training code use are below 2^53, so their c3 is
 * below 2^21; these tags have the top bit set and never meet them.
 */
export const TAG_SHUFFLE = 0x80000001;
export const TAG_AUGMENT = 0x80000002;

/**
 * Consecutive 32-bit words of one Philox sequence: block b has counter
 * (b, c1, c2, c3) under the key (seed low, seed high).
 */
export class WordSequence {
  private readonly out = new Uint32Array(4);
  private next = 0;
  constructor(
    private readonly k0: number,
    private readonly k1: number,
    private readonly c1: number,
    private readonly c2: number,
    private readonly c3: number,
  ) {}

  word(): number {
    const i = this.next++;
    if ((i & 3) === 0) philox4x32(i / 4, this.c1, this.c2, this.c3, this.k0, this.k1, this.out);
    return this.out[i & 3];
  }

  /**
   * A uniform integer in [0, n) for 1 ≤ n ≤ 2^21, exactly unbiased (Lemire's
   * multiply-and-reject: a word whose low product falls in the short zone is
   * skipped and the next one drawn; that happens with probability < n / 2^32).
   * n ≤ 2^21 keeps the product below 2^53, so it is exact in a double.
   */
  below(n: number): number {
    const threshold = 4294967296 % n;
    for (;;) {
      const m = this.word() * n;
      const low = m % 4294967296;
      if (low >= threshold) return Math.floor(m / 4294967296);
    }
  }
}

/** The crop offsets and flip of one training image in one epoch (see augmentImage). */
export interface Augmentation {
  /** Top row of the crop in the padded image, 0..2·CROP_PADDING. */
  readonly dy: number;
  /** Left column of the crop in the padded image, 0..2·CROP_PADDING. */
  readonly dx: number;
  readonly flip: boolean;
}

/**
 * The augmentation of image `index` in `epoch`: Philox keyed by the seed,
 * counter (block, index, epoch, TAG_AUGMENT); draws in torchvision's order:
 * crop top, crop left (each uniform over 0..8), then flip when the next word's
 * top bit is set (p = 1/2 exactly). Depends on nothing but (seed, epoch, index),
 * so neither batch size nor order nor resuming changes it.
 */
export function augmentation(k0: number, k1: number, epoch: number, index: number): Augmentation {
  const w = new WordSequence(k0, k1, index, epoch, TAG_AUGMENT);
  const dy = w.below(2 * CROP_PADDING + 1);
  const dx = w.below(2 * CROP_PADDING + 1);
  const flip = w.word() >= 0x80000000;
  return { dy, dx, flip };
}

/**
 * Writes image `src` of the set, normalised, cropped from the zero-padded
 * image and maybe flipped, at out[dst...]. The padding is a black pixel (byte
 * 0) normalised like any other, i.e. −mean/std: torchvision pads the PIL image
 * before ToTensor and Normalize.
 */
export function augmentImage(set: ImageSet, lut: Float32Array, src: number, a: Augmentation, out: Float32Array, dst: number): void {
  const { channels: C, height: H, width: W } = set;
  const base = src * C * H * W;
  for (let c = 0; c < C; c++) {
    const t = c * 256;
    const pad = lut[t];
    for (let y = 0; y < H; y++) {
      const sy = y + a.dy - CROP_PADDING;
      const row = dst + (c * H + y) * W;
      for (let x = 0; x < W; x++) {
        const cx = a.flip ? W - 1 - x : x; // the flip mirrors the cropped image
        const sx = cx + a.dx - CROP_PADDING;
        out[row + x] = sy >= 0 && sy < H && sx >= 0 && sx < W ? lut[t + set.images[base + (c * H + sy) * W + sx]] : pad;
      }
    }
  }
}
