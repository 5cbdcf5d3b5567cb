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
import { DATASETS, DATASET_NAMES, MNIST_SAMPLE, type DatasetFile, type DatasetInfo, type DatasetName } from './files.js';
import { DATASET_SOURCES, defaultCacheDir, downloadFiles, type ProgressCallback } from './download.js';
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
   * Default: PRECIS_DATA_DIR. Files are only read from it, never downloaded into it.
   */
  readonly dataDir?: string;
  /**
   * Where downloaded datasets are kept (in `mnist/`, `fashion-mnist/`, `cifar-10/`) when no data
   * directory is given. Default: PRECIS_CACHE_DIR, else $XDG_CACHE_HOME/precis, else ~/.cache/precis.
   */
  readonly cacheDir?: string;
  /**
   * Fetch the files the cache lacks from the dataset's published URLs. Default false: without it
   * only files already in the cache are used, and MNIST falls back to the bundled sample.
   */
  readonly download?: boolean;
  /** Base URLs to download from instead of the published ones (a mirror, or a test server), tried in order. */
  readonly baseUrls?: readonly string[];
  /** Called as bytes arrive: the file (or archive) name, bytes so far, and the total when known. */
  readonly onProgress?: ProgressCallback;
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

/** Whether a file is present in dir (a contents-checked file may be stored gzipped). */
function present(dir: string, f: DatasetFile): boolean {
  return existsSync(join(dir, f.name)) || (f.hashOf === 'contents' && existsSync(join(dir, `${f.name}.gz`)));
}

function allFiles(info: DatasetInfo): readonly DatasetFile[] {
  return [...info.train, ...info.test];
}

/**
 * Refuses a directory that holds only some of a dataset's files, naming the
 * missing ones: training on part of a dataset must never happen silently.
 */
function requireComplete(dir: string, info: DatasetInfo, hint: string): void {
  const files = allFiles(info);
  const missing = files.filter((f) => !present(dir, f)).map((f) => f.name);
  if (missing.length === 0) return;
  const found = files.length - missing.length;
  const what = found === 0
    ? `no ${info.name} files here: missing ${missing.join(', ')}`
    : `${info.name} is incomplete: missing ${missing.join(', ')} (${found} of ${files.length} files are here); precis never trains on part of a dataset`;
  throw new DataError(dir, what, hint);
}

function imageSet(name: DatasetName, dir: string, files: readonly DatasetFile[]): ImageSet {
  if (name === 'cifar10') return imageSetFromCifar(files.map((f) => ({ bytes: readFile(dir, f), file: join(dir, f.name) })));
  const [images, labels] = files;
  return imageSetFromIdx(readFile(dir, images), readFile(dir, labels), join(dir, images.name), join(dir, labels.name));
}

function read(info: DatasetInfo, dir: string, sample: boolean): Dataset {
  return { name: info.name, train: imageSet(info.name, dir, info.train), test: imageSet(info.name, dir, info.test), dir, sample };
}

/**
 * Reads and verifies a dataset's train and test sets, from the first of:
 * 1. the data directory (options.dataDir, else PRECIS_DATA_DIR), which must
 *    hold the whole dataset — nothing is ever downloaded into it;
 * 2. the cache directory, when it holds the whole dataset, or after fetching
 *    what it lacks when options.download is true;
 * 3. for MNIST only, the bundled sample (Dataset.sample is then true).
 * Every file is checked against its published SHA-256 before it is parsed.
 */
export async function loadDataset(name: DatasetName | string, options: LoadOptions = {}): Promise<Dataset> {
  if (!(DATASET_NAMES as readonly string[]).includes(name)) {
    throw new OptionError(`unknown dataset '${name}'`, `use one of: ${DATASET_NAMES.join(', ')}`);
  }
  const n = name as DatasetName;
  const info = DATASETS[n];
  const dataDir = options.dataDir ?? process.env.PRECIS_DATA_DIR;
  if (dataDir) {
    const dir = datasetDir(dataDir, n);
    requireComplete(dir, info, `copy the missing files into ${dir}, or leave out --data-dir / PRECIS_DATA_DIR to use the download cache`);
    return read(info, dir, false);
  }

  const cache = join(options.cacheDir ?? defaultCacheDir(), info.dir);
  const missing = existsSync(cache) ? allFiles(info).filter((f) => !present(cache, f)) : allFiles(info);
  if (missing.length > 0 && options.download) {
    const source = options.baseUrls ? { ...DATASET_SOURCES[n], baseUrls: options.baseUrls } : DATASET_SOURCES[n];
    await downloadFiles(cache, missing, source, options.onProgress ? { onProgress: options.onProgress } : {});
    return read(info, cache, false);
  }
  if (missing.length === 0) return read(info, cache, false);
  if (missing.length < allFiles(info).length) {
    // a cache left incomplete (an interrupted download): say so rather than quietly use the sample
    requireComplete(cache, info, `allow downloading (--download) to fetch the rest, or delete ${cache}`);
  }
  if (n !== 'mnist') {
    throw new OptionError(
      `no data directory given for ${n}, and it is not in the cache (${cache})`,
      'pass --data-dir DIR or set PRECIS_DATA_DIR, or allow downloading (--download); only an MNIST sample is bundled',
    );
  }
  return read(MNIST_SAMPLE, join(packageRoot(), MNIST_SAMPLE.dir), true);
}
