/**
 * Downloading dataset files into a cache directory. Every file is written to
 * a temporary name beside its final one, checked against its published
 * SHA-256 and only then renamed into place (rename is atomic within a
 * directory), so the cache never holds a file under its final name that was
 * not verified, and an interrupted or corrupt download leaves nothing behind.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { DataError } from './errors.js';
import type { DatasetFile, DatasetName } from './files.js';

/** Called as a download proceeds: the file (or archive) name, bytes so far, and the total when the server says it. */
export type ProgressCallback = (file: string, bytes: number, total: number | undefined) => void;

/** Where a dataset is published: base URLs tried in order, and the archive holding the files if they come packed. */
export interface DatasetSource {
  readonly baseUrls: readonly string[];
  /** A .tar.gz under the base URL that holds the files (CIFAR-10); without it each file is fetched by its name. */
  readonly archive?: string;
}

/** The canonical download locations (the MNIST mirror torchvision uses first, then the original site). */
export const DATASET_SOURCES: Record<DatasetName, DatasetSource> = {
  mnist: { baseUrls: ['https://ossci-datasets.s3.amazonaws.com/mnist/', 'http://yann.lecun.com/exdb/mnist/'] },
  'fashion-mnist': { baseUrls: ['http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/'] },
  cifar10: { baseUrls: ['https://www.cs.toronto.edu/~kriz/'], archive: 'cifar-10-binary.tar.gz' },
};

/** The cache directory: PRECIS_CACHE_DIR, else $XDG_CACHE_HOME/precis, else ~/.cache/precis. */
export function defaultCacheDir(): string {
  const env = process.env.PRECIS_CACHE_DIR;
  if (env) return env;
  const xdg = process.env.XDG_CACHE_HOME;
  return join(xdg ? xdg : join(homedir(), '.cache'), 'precis');
}

export interface FetchOptions {
  readonly onProgress?: ProgressCallback;
}

const BY_HAND = 'fetch the files yourself and pass --data-dir DIR (or set PRECIS_DATA_DIR)';
const DOWNLOAD_HINT = `check the network connection, or ${BY_HAND}`;

/** A file being written under a temporary name, hashed as it is written; verified and renamed by finish(). */
class PendingFile {
  private readonly hash = createHash('sha256');
  private readonly tmp: string;
  private handle: FileHandle | null = null;

  constructor(
    private readonly final: string,
    private readonly expected: string,
    private readonly source: string,
  ) {
    // a unique temporary name beside the final one, so concurrent downloads never share it
    this.tmp = `${final}.${process.pid}.${randomBytes(4).toString('hex')}.part`;
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (!this.handle) this.handle = await open(this.tmp, 'wx');
    this.hash.update(chunk);
    await this.handle.write(chunk);
  }

  /** Verifies the checksum and moves the file into place; a mismatch deletes it and throws. */
  async finish(): Promise<void> {
    if (!this.handle) this.handle = await open(this.tmp, 'wx');
    await this.handle.close();
    this.handle = null;
    const got = this.hash.digest('hex');
    if (got !== this.expected) {
      await this.discard();
      throw new DataError(
        this.final,
        `checksum mismatch in the download from ${this.source}: SHA-256 ${got}, expected ${this.expected}; the file was not kept`,
        `the server sent something other than the published file; try again later, or ${BY_HAND}`,
      );
    }
    renameSync(this.tmp, this.final);
  }

  /** Removes the temporary file (after an error). */
  async discard(): Promise<void> {
    const h = this.handle;
    this.handle = null;
    await h?.close().catch(() => undefined);
    rmSync(this.tmp, { force: true });
  }
}

/** The response body as a Node stream, reporting progress; HTTP errors become DataErrors. */
async function get(url: string, label: string, onProgress: ProgressCallback | undefined): Promise<Readable> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    const cause = (e as Error & { cause?: unknown }).cause;
    throw new DataError(url, `download failed: ${(e as Error).message}${cause instanceof Error ? ` (${cause.message})` : ''}`, DOWNLOAD_HINT);
  }
  if (!res.ok || !res.body) {
    throw new DataError(url, `download failed: HTTP ${res.status} ${res.statusText}`, DOWNLOAD_HINT);
  }
  const length = Number(res.headers.get('content-length'));
  const total = Number.isFinite(length) && length > 0 ? length : undefined;
  const reader = res.body.getReader();
  async function* chunks(): AsyncGenerator<Uint8Array> {
    let bytes = 0;
    let finished = false;
    try {
      for (;;) {
        let r: { done: boolean; value?: Uint8Array };
        try {
          r = await reader.read();
        } catch (e) {
          const cause = (e as Error & { cause?: unknown }).cause;
          throw new DataError(url, `download interrupted after ${bytes} bytes: ${(e as Error).message}${cause instanceof Error ? ` (${cause.message})` : ''}`, DOWNLOAD_HINT);
        }
        if (r.done || !r.value) {
          finished = true;
          return;
        }
        bytes += r.value.length;
        onProgress?.(label, bytes, total);
        yield r.value;
      }
    } finally {
      // abandoned early (a bad file, an error downstream): cancel, so the connection is not left open
      if (!finished) await reader.cancel().catch(() => undefined);
    }
  }
  return Readable.from(chunks(), { objectMode: false });
}

/**
 * Tries each base URL in turn; a network or HTTP error moves on to the next,
 * but a checksum mismatch does not (a mirror serving a wrong file is worth
 * knowing about, not hiding).
 */
async function fromMirrors(source: DatasetSource, name: string, fetchOne: (url: string) => Promise<void>): Promise<void> {
  const failures: DataError[] = [];
  for (const base of source.baseUrls) {
    const url = new URL(name, base.endsWith('/') ? base : `${base}/`).href;
    try {
      await fetchOne(url);
      return;
    } catch (e) {
      if (!(e instanceof DataError) || e.file !== url) throw e;
      failures.push(e);
    }
  }
  if (failures.length === 1) throw failures[0];
  throw new DataError(name, `download failed from every mirror: ${failures.map((f) => f.message.split('\n')[0]).join('; ')}`, DOWNLOAD_HINT);
}

/** Downloads one file by its name and verifies the whole file's SHA-256 (IDX .gz files). */
async function fetchFile(dir: string, f: DatasetFile, source: DatasetSource, options: FetchOptions): Promise<void> {
  await fromMirrors(source, f.name, async (url) => {
    const body = await get(url, f.name, options.onProgress);
    const out = new PendingFile(join(dir, f.name), f.sha256, url);
    try {
      // each write is awaited before the next read, so a failure never races a write or an open
      for await (const c of body) await out.write(c as Buffer);
      await out.finish();
    } catch (e) {
      await out.discard();
      throw e;
    }
  });
}

const BLOCK = 512;

/** A tar header field: NUL-terminated ASCII. */
function field(h: Uint8Array, off: number, len: number): string {
  const end = h.subarray(off, off + len).indexOf(0);
  return Buffer.from(h.subarray(off, end < 0 ? off + len : off + end)).toString('latin1');
}

/** A numeric tar header field: octal text, or base-256 when the high bit of the first byte is set (GNU). */
function numeric(h: Uint8Array, off: number, len: number): number {
  if (h[off] & 0x80) {
    let v = h[off] & 0x7f;
    for (let i = 1; i < len; i++) v = v * 256 + h[off + i];
    return v;
  }
  const s = field(h, off, len).trim();
  return s === '' ? 0 : parseInt(s, 8);
}

/** Whether a header block's checksum (the sum of its bytes, the checksum field counted as spaces) is right. */
function headerOk(h: Uint8Array): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i];
  return sum === numeric(h, 148, 8);
}

/**
 * Reads a tar stream (ustar/GNU: 512-byte headers, data padded to 512 bytes,
 * ended by zero blocks) and hands the regular file members to `member`, which
 * returns a PendingFile to receive the member's bytes or null to skip it.
 * Returns the base names of the members written.
 */
async function extractTar(
  chunks: AsyncIterable<Uint8Array>,
  archive: string,
  member: (baseName: string) => PendingFile | null,
): Promise<Set<string>> {
  const written = new Set<string>();
  let rest: Uint8Array = new Uint8Array(0);
  let entry: { out: PendingFile | null; name: string; remaining: number; pad: number } | null = null;
  let ended = false;
  try {
    for await (const chunk of chunks) {
      let buf: Uint8Array = chunk;
      if (rest.length) {
        buf = new Uint8Array(rest.length + chunk.length);
        buf.set(rest);
        buf.set(chunk, rest.length);
      }
      let off = 0;
      for (;;) {
        if (entry) {
          const take = Math.min(entry.remaining, buf.length - off);
          if (take > 0 && entry.out) await entry.out.write(buf.subarray(off, off + take));
          entry.remaining -= take;
          off += take;
          if (entry.remaining > 0) break;
          const skip = Math.min(entry.pad, buf.length - off);
          entry.pad -= skip;
          off += skip;
          if (entry.pad > 0) break;
          if (entry.out) {
            const done = entry.out;
            entry.out = null;
            await done.finish();
            written.add(entry.name);
          }
          entry = null;
        }
        if (ended || buf.length - off < BLOCK) break;
        const h = buf.subarray(off, off + BLOCK);
        off += BLOCK;
        if (h.every((b) => b === 0)) {
          ended = true; // the end-of-archive marker; what follows is padding
          break;
        }
        if (!headerOk(h)) throw new DataError(archive, `not a tar archive, or a corrupt one: bad header checksum at byte ${off - BLOCK} of the archive's contents`);
        const size = numeric(h, 124, 12);
        const type = String.fromCharCode(h[156]);
        const prefix = field(h, 345, 155);
        const path = prefix ? `${prefix}/${field(h, 0, 100)}` : field(h, 0, 100);
        const baseName = path.slice(path.lastIndexOf('/') + 1);
        // only regular files are extracted, by base name; links, directories and pax/GNU extension records are skipped
        const out = type === '0' || type === '\0' ? member(baseName) : null;
        entry = { out, name: baseName, remaining: size, pad: (BLOCK - (size % BLOCK)) % BLOCK };
      }
      rest = ended ? new Uint8Array(0) : buf.slice(off);
    }
    if (entry || !ended) throw new DataError(archive, 'the tar archive ends early: it is truncated');
  } catch (e) {
    await entry?.out?.discard();
    throw e;
  }
  return written;
}

/** Downloads a .tar.gz and extracts the wanted files, each verified by the SHA-256 of its contents (CIFAR-10). */
async function fetchArchive(dir: string, files: readonly DatasetFile[], source: DatasetSource & { archive: string }, options: FetchOptions): Promise<void> {
  await fromMirrors(source, source.archive, async (url) => {
    const body = await get(url, source.archive, options.onProgress);
    const wanted = new Map(files.map((f) => [f.name, f]));
    // body → gunzip, consumed by one loop that awaits every write: when either stream fails, the
    // error reaches the loop, which removes the member being written before anything else happens
    const gunzip = createGunzip();
    body.on('error', (e) => gunzip.destroy(e));
    body.pipe(gunzip);
    let written: Set<string>;
    try {
      written = await extractTar(gunzip, url, (base) => {
        const f = wanted.get(base);
        return f ? new PendingFile(join(dir, f.name), f.sha256, url) : null;
      });
    } catch (e) {
      if (e instanceof DataError) throw e;
      // zlib's errors (a truncated or corrupt gzip) are named after the URL, so another mirror is tried
      throw new DataError(url, `not a readable gzip file (${(e as Error).message}); the download may be truncated`, DOWNLOAD_HINT);
    } finally {
      body.destroy();
    }
    const missing = files.filter((f) => !written.has(f.name)).map((f) => f.name);
    if (missing.length) {
      throw new DataError(url, `the archive does not hold ${missing.join(', ')}`, DOWNLOAD_HINT);
    }
  });
}

/**
 * Downloads the given files of a dataset into dir (created if need be): each
 * by its name under the first base URL that answers, or, for a packed
 * dataset, by extracting them from the archive.
 */
export async function downloadFiles(dir: string, files: readonly DatasetFile[], source: DatasetSource, options: FetchOptions = {}): Promise<void> {
  if (files.length === 0) return;
  mkdirSync(dir, { recursive: true });
  if (source.archive !== undefined) {
    await fetchArchive(dir, files, { ...source, archive: source.archive }, options);
    return;
  }
  for (const f of files) await fetchFile(dir, f, source, options);
}
