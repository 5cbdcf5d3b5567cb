/**
 * Normalisation (bit-exact against float32 ToTensor + Normalize), seeded
 * shuffling, batching and resuming, and the CIFAR-10 augmentation.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { batchCount, batches, epochOrder, loadDataset, NORMALIZATION, normalizeImages, OptionError, philox4x32, type Batch, type Dataset } from '../../src/index.js';
import { packageRoot } from '../../src/backend/paths.js';
import { augmentation, augmentImage, CROP_PADDING, normalizationTable, TAG_SHUFFLE, type Augmentation } from '../../src/data/transform.js';
import type { ImageSet } from '../../src/data/parse.js';

const shared = join(packageRoot(), '..', 'shared', 'data');
const skip = existsSync(join(shared, 'mnist')) ? false : 'the full datasets (../shared/data) are not beside this checkout';

const bits = (x: number): string => `0x${new Uint32Array(new Float32Array([x]).buffer)[0].toString(16).padStart(8, '0')}`;

test('normalisation is bit-exact float32 ToTensor + Normalize', () => {
  // reference values from numpy float32: (float32(u) / float32(255) - float32(mean)) / float32(std)
  const expected: Record<string, string[]> = {
    mnist: ['0xbed93271', '0xbed2ae20', '0x3f9a3d7a', '0x4033c2b3', '0x4034933d'],
    'fashion-mnist': ['0xbf4f6929', '0xbf4c911b', '0x3f1c9e13', '0x4000bd4c', '0x4001734f'],
    cifar10: [
      '0xbffea713', '0xbffc9ed3', '0x3d2f2140', '0x4002c452', '0x4003c873',
      '0xbffd7a10', '0xbffb6a55', '0x3da633ae', '0x40071088', '0x40081864',
      '0xbfda7891', '0xbfd88d5a', '0x3e591825', '0x40067415', '0x400769b1',
    ],
  };
  for (const [name, want] of Object.entries(expected)) {
    const lut = normalizationTable(NORMALIZATION[name as keyof typeof NORMALIZATION]);
    const got = want.map((_, k) => bits(lut[Math.floor(k / 5) * 256 + [0, 1, 128, 254, 255][k % 5]]));
    assert.deepEqual(got, want, name);
  }
  // the whole tables, hashed, against the same numpy computation
  const hash = (name: 'mnist' | 'cifar10'): string => createHash('sha256').update(new Uint8Array(normalizationTable(NORMALIZATION[name]).buffer)).digest('hex');
  assert.equal(hash('mnist'), '0103dbab6b16bfcaea0aa75d7377b4b22bb6792081600921bee4a17ff9c4d33e');
  assert.equal(hash('cifar10'), '9e58fd8280aea6af5045cfdd44d0f3d8fe5f24a3eff94131f585cde21b6c2508');
  // rounding once at the end (in double) differs, e.g. for byte 0 of MNIST: the steps matter
  assert.notEqual(Math.fround((0 / 255 - 0.1307) / 0.3081), normalizationTable(NORMALIZATION.mnist)[0]);
});

/** The shuffle written a second way: BigInt arithmetic for the unbiased draws. */
function referenceOrder(count: number, seed: number, epoch: number): number[] {
  const out = new Uint32Array(4);
  const k0 = seed >>> 0, k1 = Math.floor(seed / 2 ** 32) >>> 0;
  let next = 0;
  const word = (): bigint => {
    if (next % 4 === 0) philox4x32(next / 4, 0, epoch, TAG_SHUFFLE, k0, k1, out);
    return BigInt(out[next++ % 4]);
  };
  const order = Array.from({ length: count }, (_, i) => i);
  for (let i = count - 1; i > 0; i--) {
    const n = BigInt(i + 1);
    let j: bigint;
    for (;;) {
      const m = word() * n;
      if ((m & 0xffffffffn) >= (1n << 32n) % n) { j = m >> 32n; break; }
    }
    [order[i], order[Number(j)]] = [order[Number(j)], order[i]];
  }
  return order;
}

test('the epoch order: a Fisher–Yates permutation from (seed, epoch) only', () => {
  assert.deepEqual([...epochOrder(10, 42, 0)], [1, 9, 7, 6, 5, 0, 4, 2, 3, 8]);
  for (const [n, s, e] of [[10, 42, 0], [1000, 7, 3], [60000, 2 ** 40 + 5, 11]]) {
    const o = epochOrder(n, s, e);
    assert.deepEqual([...o], referenceOrder(n, s, e));
    assert.deepEqual([...o].sort((a, b) => a - b), Array.from({ length: n }, (_, i) => i));
  }
  assert.notDeepEqual([...epochOrder(100, 42, 1)], [...epochOrder(100, 42, 0)]);
  assert.notDeepEqual([...epochOrder(100, 43, 0)], [...epochOrder(100, 42, 0)]);
  // all 6 orders of 3 items, about equally often over 6000 seeds
  const counts = new Map<string, number>();
  for (let s = 0; s < 6000; s++) {
    const k = epochOrder(3, s, 0).join('');
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  assert.equal(counts.size, 6);
  for (const c of counts.values()) assert.ok(c > 850 && c < 1150, `${[...counts]}`);
});

/** A small labelled set of random-looking bytes. */
function fakeSet(count: number, channels: number, size: number): ImageSet {
  const images = new Uint8Array(count * channels * size * size);
  for (let i = 0; i < images.length; i++) images[i] = (Math.imul(i, 2654435761) >>> 24) & 0xff;
  const labels = new Uint8Array(count).map((_, i) => (i * 7) % 10);
  return { images, labels, count, channels, height: size, width: size };
}

function fakeDataset(name: Dataset['name'], train: ImageSet, test: ImageSet): Dataset {
  return { name, train, test, dir: '(memory)', sample: false };
}

const all = (it: Iterable<Batch>): Batch[] => [...it];

test('batches cover the set once, hold normalised images and their labels, and keep or drop the last one', () => {
  const train = fakeSet(103, 1, 6);
  const d = fakeDataset('mnist', train, fakeSet(25, 1, 6));
  const bs = all(batches(d, 'train', { batchSize: 10, seed: 5, epoch: 2 }));
  assert.equal(bs.length, 11);
  assert.equal(bs.length, batchCount(103, 10));
  assert.deepEqual(bs.map((b) => b.n), [10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 3]);
  assert.deepEqual(bs[10].shape, [3, 1, 6, 6]);
  const seen = bs.flatMap((b) => [...b.indices]);
  assert.deepEqual(seen, [...epochOrder(103, 5, 2)]);
  for (const b of bs) {
    assert.deepEqual(b.x, normalizeImages(train, NORMALIZATION.mnist, b.indices));
    assert.deepEqual([...b.y], [...b.indices].map((i) => train.labels[i]));
  }
  const dropped = all(batches(d, 'train', { batchSize: 10, seed: 5, epoch: 2, dropLast: true }));
  assert.equal(dropped.length, 10);
  assert.equal(batchCount(103, 10, true), 10);
  // the test set comes in file order; shuffle can be asked for on either split
  const t = all(batches(d, 'test', { batchSize: 8 }));
  assert.deepEqual(t.flatMap((b) => [...b.indices]), Array.from({ length: 25 }, (_, i) => i));
  assert.deepEqual(all(batches(d, 'train', { batchSize: 200, shuffle: false }))[0].indices, Uint32Array.from({ length: 103 }, (_, i) => i));
});

test('resuming at (epoch, step) gives exactly the batches of an uninterrupted run', () => {
  const d = fakeDataset('cifar10', fakeSet(50, 3, 32), fakeSet(4, 3, 32));
  for (const augment of [false, true]) {
    const whole = all(batches(d, 'train', { batchSize: 7, seed: 99, epoch: 4, augment }));
    const resumed = all(batches(d, 'train', { batchSize: 7, seed: 99, epoch: 4, augment, startStep: 3 }));
    assert.deepEqual(resumed, whole.slice(3));
    assert.equal(resumed[0].step, 3);
    assert.deepEqual(all(batches(d, 'train', { batchSize: 7, seed: 99, epoch: 4, augment, startStep: 8 })), []);
  }
});

/** Crop and flip written the plain way: pad the bytes with zeros, crop, mirror, then normalise. */
function referenceAugment(set: ImageSet, index: number, a: Augmentation): Float32Array {
  const { channels: C, height: H, width: W } = set;
  const P = CROP_PADDING, PH = H + 2 * P, PW = W + 2 * P;
  const padded = new Uint8Array(C * PH * PW);
  for (let c = 0; c < C; c++) for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    padded[(c * PH + y + P) * PW + x + P] = set.images[((index * C + c) * H + y) * W + x];
  }
  const cropped = new Uint8Array(C * H * W);
  for (let c = 0; c < C; c++) for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    const v = padded[(c * PH + y + a.dy) * PW + x + a.dx];
    cropped[(c * H + y) * W + (a.flip ? W - 1 - x : x)] = v;
  }
  const one: ImageSet = { images: cropped, labels: new Uint8Array(1), count: 1, channels: C, height: H, width: W };
  return normalizeImages(one, NORMALIZATION.cifar10);
}

test('CIFAR augmentation: crop from the padded image and flip, exactly as written the plain way', () => {
  const set = fakeSet(6, 3, 32);
  const lut = normalizationTable(NORMALIZATION.cifar10);
  const cases: Augmentation[] = [
    { dy: 4, dx: 4, flip: false }, { dy: 0, dx: 0, flip: false }, { dy: 8, dx: 8, flip: true },
    { dy: 0, dx: 8, flip: true }, { dy: 3, dx: 6, flip: false }, { dy: 7, dx: 1, flip: true },
  ];
  for (const [i, a] of cases.entries()) {
    const out = new Float32Array(3 * 32 * 32);
    augmentImage(set, lut, i, a, out, 0);
    assert.deepEqual(out, referenceAugment(set, i, a), JSON.stringify(a));
  }
  // no shift and no flip is the plain normalised image; the padding is a black pixel normalised (−mean/std)
  const plain = new Float32Array(3072);
  augmentImage(set, lut, 2, cases[0], plain, 0);
  assert.deepEqual(plain, normalizeImages(set, NORMALIZATION.cifar10, [2]));
  const corner = new Float32Array(3072);
  augmentImage(set, lut, 2, cases[1], corner, 0);
  assert.equal(corner[0], lut[0]);
  assert.equal(corner[1024], lut[256]);
  assert.equal(corner[2048 + 3 * 32 + 3], lut[512]);
  assert.equal(corner[2048 + 4 * 32 + 4], lut[512 + set.images[2 * 3072 + 2048]]);
});

test('augmentation draws depend on (seed, epoch, image) only: uniform crops, fair flips, any batch size', () => {
  const counts = { dy: new Array<number>(9).fill(0), dx: new Array<number>(9).fill(0), flips: 0 };
  const n = 18000;
  for (let i = 0; i < n; i++) {
    const a = augmentation(3, 0, 1, i);
    counts.dy[a.dy]++;
    counts.dx[a.dx]++;
    if (a.flip) counts.flips++;
  }
  for (const c of [...counts.dy, ...counts.dx]) assert.ok(c > 1800 && c < 2200, `${counts.dy} ${counts.dx}`);
  assert.ok(Math.abs(counts.flips - n / 2) < 300, String(counts.flips));
  assert.notDeepEqual(augmentation(3, 0, 1, 5), augmentation(3, 0, 2, 5)); // (a fixed case where they differ)

  const d = fakeDataset('cifar10', fakeSet(30, 3, 32), fakeSet(2, 3, 32));
  const byImage = (bs: Batch[]): Map<number, Float32Array> => {
    const m = new Map<number, Float32Array>();
    for (const b of bs) for (let k = 0; k < b.n; k++) m.set(b.indices[k], b.x.subarray(k * 3072, (k + 1) * 3072));
    return m;
  };
  const small = byImage(all(batches(d, 'train', { batchSize: 4, seed: 8, epoch: 1, augment: true })));
  const large = byImage(all(batches(d, 'train', { batchSize: 30, seed: 8, epoch: 1, augment: true, shuffle: false })));
  for (let i = 0; i < 30; i++) assert.deepEqual(small.get(i), large.get(i));
  const other = byImage(all(batches(d, 'train', { batchSize: 30, seed: 8, epoch: 2, augment: true })));
  assert.ok([...Array(30).keys()].some((i) => !other.get(i)!.every((v, k) => v === small.get(i)![k])));
});

test('bad batch options are OptionErrors with a hint', () => {
  const cifar = fakeDataset('cifar10', fakeSet(10, 3, 32), fakeSet(2, 3, 32));
  const mnist = fakeDataset('mnist', fakeSet(10, 1, 28), fakeSet(2, 1, 28));
  const bad: [Dataset, 'train' | 'test', Parameters<typeof batches>[2], RegExp][] = [
    [cifar, 'train', { batchSize: 0 }, /batch size must be a positive integer/],
    [cifar, 'train', { batchSize: 2.5 }, /batch size/],
    [cifar, 'train', { batchSize: 4, epoch: -1 }, /epoch must be an integer/],
    [cifar, 'train', { batchSize: 4, seed: 0.5 }, /seed must be an integer/],
    [cifar, 'train', { batchSize: 4, startStep: 4 }, /start step must be an integer in \[0, 3\][\s\S]*has 3 steps/],
    [cifar, 'test', { batchSize: 4, augment: true }, /augmentation is for the training set only/],
    [mnist, 'train', { batchSize: 4, augment: true }, /defined for cifar10, not mnist/],
  ];
  for (const [d, split, o, re] of bad) {
    assert.throws(() => batches(d, split, o), (e: unknown) => e instanceof OptionError && re.test(e.message) && e.hint !== '');
  }
});

/** Mean and standard deviation of a set's normalised pixels, per channel, through a byte histogram. */
function stats(set: ImageSet, lut: Float32Array): { mean: number; std: number }[] {
  const plane = set.height * set.width;
  const hist = Array.from({ length: set.channels }, () => new Float64Array(256));
  for (let i = 0; i < set.count; i++) {
    for (let c = 0; c < set.channels; c++) {
      const h = hist[c], base = (i * set.channels + c) * plane;
      for (let p = 0; p < plane; p++) h[set.images[base + p]]++;
    }
  }
  return hist.map((h, c) => {
    let n = 0, s = 0, s2 = 0;
    for (let u = 0; u < 256; u++) {
      const v = lut[c * 256 + u];
      n += h[u];
      s += h[u] * v;
      s2 += h[u] * v * v;
    }
    const mean = s / n;
    return { mean, std: Math.sqrt(s2 / n - mean * mean) };
  });
}

test('the normalisation constants are the training sets\' own: normalised pixels have mean 0 and std 1', { skip }, async () => {
  for (const name of ['mnist', 'fashion-mnist', 'cifar10'] as const) {
    const d = await loadDataset(name, { dataDir: shared });
    for (const [c, s] of stats(d.train, normalizationTable(NORMALIZATION[name])).entries()) {
      assert.ok(Math.abs(s.mean) < 2e-3 && Math.abs(s.std - 1) < 2e-3, `${name} channel ${c}: mean ${s.mean}, std ${s.std}`);
    }
  }
});
