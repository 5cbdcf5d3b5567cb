/**
 * Loading datasets from a data directory: each file found by its canonical
 * name, checked against the published SHA-256 before anything is parsed, so
 * a corrupt or substituted file is never used.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { OptionError } from '../errors.js';
import { DataError } from './errors.js';
import { packageRoot } from '../backend/paths.js';
import { DATASETS, DATASET_NAMES, MNIST_SAMPLE, type DatasetFile, type DatasetName } from './files.js';
import { imageSetFromCifar, imageSetFromIdx, type ImageSet } from './parse.js';

export interface Dataset {
  readonly name: DatasetName;
  readonly train: ImageSet;
  readonly test: ImageSet;
  /** The directory the files were read from. */
  readonly dir: string;
  /** True when this is the small bundled MNIST sample, not the full dataset. */
  readonly sample: boolean;
}

export interface LoadOptions {
  /**
   * A directory holding `mnist/`, `fashion-mnist/` and `cifar-10/` (or the dataset's files directly).
   * Default: PRECIS_DATA_DIR; without either, MNIST comes from the bundled sample.
   */
  readonly dataDir?: string;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function gunzip(bytes: Uint8Array, path: string): Uint8Array {
  try {
    return gunzipSync(bytes);
  } catch (e) {
    throw new DataError(path, `not a readable gzip file (${(e as Error).message}); it may be truncated`);
  }
}

function checked(path: string, bytes: Uint8Array, f: DatasetFile): void {
  const got = sha256(bytes);
  if (got !== f.sha256) {
    throw new DataError(path, `checksum mismatch: SHA-256 ${got}${f.hashOf === 'contents' ? ' (of the uncompressed contents)' : ''}, expected ${f.sha256}`);
  }
}

/** The file's verified bytes, uncompressed. */
function readFile(dir: string, f: DatasetFile): Uint8Array {
  const plain = join(dir, f.name);
  if (f.hashOf === 'file') {
    if (!existsSync(plain)) throw new DataError(plain, 'missing');
    const bytes = readFileSync(plain);
    checked(plain, bytes, f);
    return gunzip(bytes, plain);
  }
  // checked by its contents (a CIFAR-10 batch, the sample), stored plain or gzipped
  const path = existsSync(plain) ? plain : `${plain}.gz`;
  if (!existsSync(path)) throw new DataError(plain, 'missing (looked for it and for a .gz of it)');
  const raw = readFileSync(path);
  const bytes = path.endsWith('.gz') ? gunzip(raw, path) : raw;
  checked(path, bytes, f);
  return bytes;
}

/** The directory holding a dataset's files under dataDir. */
function datasetDir(dataDir: string, name: DatasetName): string {
  const info = DATASETS[name];
  const nested = join(dataDir, info.dir);
  return existsSync(nested) ? nested : dataDir;
}

function imageSet(name: DatasetName, dir: string, files: readonly DatasetFile[]): ImageSet {
  if (name === 'cifar10') return imageSetFromCifar(files.map((f) => ({ bytes: readFile(dir, f), file: join(dir, f.name) })));
  const [images, labels] = files;
  return imageSetFromIdx(readFile(dir, images), readFile(dir, labels), join(dir, images.name), join(dir, labels.name));
}

/** Reads and verifies a dataset's train and test sets. */
export function loadDataset(name: DatasetName | string, options: LoadOptions = {}): Dataset {
  if (!(DATASET_NAMES as readonly string[]).includes(name)) {
    throw new OptionError(`unknown dataset '${name}'`, `use one of: ${DATASET_NAMES.join(', ')}`);
  }
  const n = name as DatasetName;
  const dataDir = options.dataDir ?? process.env.PRECIS_DATA_DIR;
  if (!dataDir) {
    if (n !== 'mnist') throw new OptionError(`no data directory given for ${n}`, 'pass --data-dir DIR or set PRECIS_DATA_DIR (only an MNIST sample is bundled)');
    const dir = join(packageRoot(), MNIST_SAMPLE.dir);
    return { name: n, train: imageSet(n, dir, MNIST_SAMPLE.train), test: imageSet(n, dir, MNIST_SAMPLE.test), dir, sample: true };
  }
  const dir = datasetDir(dataDir, n);
  const info = DATASETS[n];
  return { name: n, train: imageSet(n, dir, info.train), test: imageSet(n, dir, info.test), dir, sample: false };
}
