/** Dataset files: verified against the published checksums, parsed, and every corruption named. */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DataError, loadDataset, OptionError } from '../../src/index.js';
import { packageRoot } from '../../src/backend/paths.js';
import { imageSetFromCifar, parseIdx } from '../../src/data/parse.js';

const shared = join(packageRoot(), '..', 'shared', 'data');
const haveShared = existsSync(join(shared, 'mnist'));
const skip = haveShared ? false : 'the full datasets (../shared/data) are not beside this checkout';

test('MNIST, Fashion-MNIST and CIFAR-10 load from the shared data and match the published files', { skip }, async () => {
  const mnist = await loadDataset('mnist', { dataDir: shared });
  assert.equal(mnist.train.count, 60000);
  assert.equal(mnist.test.count, 10000);
  assert.equal(mnist.train.images.length, 60000 * 28 * 28);
  assert.deepEqual([...mnist.train.labels.subarray(0, 5)], [5, 0, 4, 1, 9]);
  assert.deepEqual([...mnist.test.labels.subarray(0, 3)], [7, 2, 1]);
  const fashion = await loadDataset('fashion-mnist', { dataDir: shared });
  assert.equal(fashion.train.count, 60000);
  assert.deepEqual([...fashion.test.labels.subarray(0, 3)], [9, 2, 1]);
  const cifar = await loadDataset('cifar10', { dataDir: shared });
  assert.equal(cifar.train.count, 50000);
  assert.equal(cifar.test.count, 10000);
  assert.equal(cifar.test.channels, 3);
  assert.deepEqual([...cifar.test.labels.subarray(0, 4)], [3, 8, 8, 0]);
  // every class ten per cent of the CIFAR-10 test set
  const perClass = new Array<number>(10).fill(0);
  for (const l of cifar.test.labels) perClass[l]++;
  assert.deepEqual(perClass, new Array<number>(10).fill(1000));
});

function copyOf(dataset: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'precis-data-'));
  mkdirSync(join(dir, dataset));
  for (const f of ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz']) {
    copyFileSync(join(shared, dataset, f), join(dir, dataset, f));
  }
  return dir;
}

test('a file that is not the published one is refused, naming it and both checksums', { skip }, async () => {
  const dir = copyOf('mnist');
  try {
    const f = join(dir, 'mnist', 't10k-labels-idx1-ubyte.gz');
    const bytes = readFileSync(f);
    bytes[bytes.length - 9] ^= 1;
    writeFileSync(f, bytes);
    await assert.rejects(loadDataset('mnist', { dataDir: dir }), (e: unknown) => {
      assert.ok(e instanceof DataError);
      assert.equal(e.file, f);
      assert.match(e.message, /checksum mismatch: SHA-256 [0-9a-f]{64}, expected f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6/);
      return true;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a missing file is named', { skip }, async () => {
  const dir = copyOf('fashion-mnist');
  try {
    rmSync(join(dir, 'fashion-mnist', 'train-images-idx3-ubyte.gz'));
    await assert.rejects(loadDataset('fashion-mnist', { dataDir: dir }), (e: unknown) => {
      assert.ok(e instanceof DataError);
      assert.equal(e.file, join(dir, 'fashion-mnist'));
      assert.match(e.message, /fashion-mnist is incomplete: missing train-images-idx3-ubyte\.gz \(3 of 4 files are here\)/);
      return true;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a truncated gzip is named as such', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'precis-data-'));
  try {
    mkdirSync(join(dir, 'cifar-10'));
    const gz = gzipSync(new Uint8Array(3073 * 4));
    writeFileSync(join(dir, 'cifar-10', 'data_batch_1.bin.gz'), gz.subarray(0, gz.length - 10));
    // the other files only need to be present: the first one read is the broken one
    for (const f of ['data_batch_2', 'data_batch_3', 'data_batch_4', 'data_batch_5', 'test_batch']) writeFileSync(join(dir, 'cifar-10', `${f}.bin`), '');
    await assert.rejects(loadDataset('cifar10', { dataDir: dir }), (e: unknown) => {
      assert.ok(e instanceof DataError);
      assert.match(e.message, /data_batch_1\.bin\.gz: not a readable gzip file/);
      return true;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('IDX and CIFAR parsers: bad magic, wrong length, bad labels', () => {
  const labels = (n: number, extra = 0): Uint8Array => {
    const b = new Uint8Array(8 + n + extra);
    new DataView(b.buffer).setUint32(0, 0x801);
    new DataView(b.buffer).setUint32(4, n);
    return b;
  };
  assert.equal(parseIdx(labels(3), 'l', 1).dims[0], 3);
  assert.throws(() => parseIdx(labels(3, 1), 'l', 1), /wrong length: 12 bytes, the header promises 11/);
  assert.throws(() => parseIdx(labels(3), 'l', 3), /bad magic 0x00000801/);
  assert.throws(() => parseIdx(new Uint8Array(2), 'l', 1), /too short/);
  assert.throws(() => imageSetFromCifar([{ bytes: new Uint8Array(3072), file: 'b' }]), /b: wrong length/);
  const bad = new Uint8Array(3073);
  bad[0] = 10;
  assert.throws(() => imageSetFromCifar([{ bytes: bad, file: 'b' }]), /label 10 is out of range/);
});

/** Runs fn with no PRECIS_DATA_DIR and an empty cache, so the machine's own cache never changes the outcome. */
async function withoutDataDir(fn: (cacheDir: string) => Promise<void>): Promise<void> {
  const saved = process.env.PRECIS_DATA_DIR;
  delete process.env.PRECIS_DATA_DIR;
  const cacheDir = mkdtempSync(join(tmpdir(), 'precis-cache-'));
  try {
    await fn(cacheDir);
  } finally {
    if (saved !== undefined) process.env.PRECIS_DATA_DIR = saved;
    rmSync(cacheDir, { recursive: true, force: true });
  }
}

test('unknown datasets and a missing data directory are OptionErrors with a hint', async () => {
  await assert.rejects(loadDataset('imagenet', { dataDir: '/tmp' }), OptionError);
  await withoutDataDir(async (cacheDir) => {
    await assert.rejects(loadDataset('cifar10', { cacheDir }), (e: unknown) => {
      assert.ok(e instanceof OptionError);
      assert.match(e.message, /no data directory given for cifar10, and it is not in the cache/);
      assert.match(e.message, /--data-dir[\s\S]*--download/);
      return true;
    });
  });
});

test('without a data directory MNIST comes from the bundled sample, marked as such', async () => {
  await withoutDataDir(async (cacheDir) => {
    const d = await loadDataset('mnist', { cacheDir });
    assert.equal(d.sample, true);
    assert.equal(d.train.count, 4000);
    assert.equal(d.test.count, 1000);
    assert.deepEqual([...d.train.labels.subarray(0, 5)], [5, 0, 4, 1, 9]);
    assert.deepEqual([...d.test.labels.subarray(0, 3)], [7, 2, 1]);
  });
});

test('the sample is the first images of the full MNIST files', { skip }, async () => {
  const full = await loadDataset('mnist', { dataDir: shared });
  assert.equal(full.sample, false);
  await withoutDataDir(async (cacheDir) => {
    const s = await loadDataset('mnist', { cacheDir });
    assert.deepEqual(s.train.images, full.train.images.subarray(0, 4000 * 784));
    assert.deepEqual(s.test.labels, full.test.labels.subarray(0, 1000));
  });
});
