/**
 * Downloading into the cache, against a local HTTP server: good files,
 * corrupt and truncated ones, 404s, dropped connections, the CIFAR-10 tarball,
 * and the rules about where files may come from.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DataError, loadDataset } from '../../src/index.js';
import { packageRoot } from '../../src/backend/paths.js';
import { defaultCacheDir, downloadFiles } from '../../src/data/download.js';
import type { DatasetFile } from '../../src/data/files.js';

const shared = join(packageRoot(), '..', 'shared', 'data');
const skip = existsSync(join(shared, 'mnist')) ? false : 'the full datasets (../shared/data) are not beside this checkout';
// a data directory set in the environment would take precedence over the cache these tests exercise
delete process.env.PRECIS_DATA_DIR;

const MNIST_FILES = ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'];

interface Route {
  readonly status?: number;
  readonly body?: Uint8Array;
  /** Announce the whole body's length but send only this many bytes, then drop the connection. */
  readonly cutAt?: number;
}

interface TestServer {
  readonly base: string;
  /** Paths requested, in order. */
  readonly hits: string[];
  close(): Promise<void>;
}

async function serve(routes: Record<string, Route>): Promise<TestServer> {
  const hits: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = req.url ?? '';
    hits.push(path);
    const r = routes[path];
    if (!r || r.status === 404 || !r.body) {
      res.writeHead(r?.status ?? 404, { 'content-type': 'text/plain' });
      res.end('not here');
      return;
    }
    res.writeHead(r.status ?? 200, { 'content-length': String(r.body.length), 'content-type': 'application/octet-stream' });
    if (r.cutAt !== undefined) {
      res.write(r.body.subarray(0, r.cutAt), () => res.destroy());
      return;
    }
    res.end(r.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    hits,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'precis-dl-'));
}

/** Every file under dir (so a leftover temporary file shows up). */
function listing(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** A ustar archive of the given members (a directory entry first, as the official tarball has). */
function tar(members: readonly { name: string; data: Uint8Array }[]): Uint8Array {
  const blocks: Uint8Array[] = [];
  const header = (name: string, size: number, type: string): Uint8Array => {
    const h = new Uint8Array(512);
    const put = (off: number, s: string): void => h.set(Buffer.from(s, 'latin1'), off);
    put(0, name);
    put(100, '0000644\0');
    put(108, '0001750\0');
    put(116, '0001750\0');
    put(124, `${size.toString(8).padStart(11, '0')}\0`);
    put(136, '13000000000\0');
    put(156, type);
    put(257, 'ustar\0');
    put(263, '00');
    put(148, '        ');
    let sum = 0;
    for (const b of h) sum += b;
    put(148, `${sum.toString(8).padStart(6, '0')}\0 `);
    return h;
  };
  blocks.push(header('cifar-10-batches-bin/', 0, '5'));
  for (const m of members) {
    blocks.push(header(`cifar-10-batches-bin/${m.name}`, m.data.length, '0'));
    blocks.push(m.data);
    const pad = (512 - (m.data.length % 512)) % 512;
    if (pad) blocks.push(new Uint8Array(pad));
  }
  blocks.push(new Uint8Array(1024));
  return Buffer.concat(blocks);
}

test('the cache directory: option, then PRECIS_CACHE_DIR, then XDG_CACHE_HOME, then ~/.cache', () => {
  const saved = { p: process.env.PRECIS_CACHE_DIR, x: process.env.XDG_CACHE_HOME };
  try {
    process.env.PRECIS_CACHE_DIR = '/c/precis';
    process.env.XDG_CACHE_HOME = '/x';
    assert.equal(defaultCacheDir(), '/c/precis');
    delete process.env.PRECIS_CACHE_DIR;
    assert.equal(defaultCacheDir(), '/x/precis');
    delete process.env.XDG_CACHE_HOME;
    assert.match(defaultCacheDir(), /\.cache\/precis$/);
  } finally {
    if (saved.p === undefined) delete process.env.PRECIS_CACHE_DIR; else process.env.PRECIS_CACHE_DIR = saved.p;
    if (saved.x === undefined) delete process.env.XDG_CACHE_HOME; else process.env.XDG_CACHE_HOME = saved.x;
  }
});

test('MNIST downloads into the cache (falling back to the second mirror), is verified, and is then read from the cache', { skip }, async () => {
  const routes: Record<string, Route> = {};
  for (const f of MNIST_FILES) routes[`/good/${f}`] = { body: readFileSync(join(shared, 'mnist', f)) };
  const server = await serve(routes);
  const cacheDir = tempDir();
  try {
    const progress = new Map<string, { bytes: number; total: number | undefined }>();
    const d = await loadDataset('mnist', {
      cacheDir, download: true, baseUrls: [`${server.base}/gone/`, `${server.base}/good/`],
      onProgress: (file, bytes, total) => progress.set(file, { bytes, total }),
    });
    assert.equal(d.sample, false);
    assert.equal(d.dir, join(cacheDir, 'mnist'));
    assert.equal(d.train.count, 60000);
    assert.deepEqual([...d.test.labels.subarray(0, 3)], [7, 2, 1]);
    assert.deepEqual(listing(join(cacheDir, 'mnist')), [...MNIST_FILES].sort());
    // each file was asked of the first mirror, which said 404, then of the second
    assert.deepEqual(server.hits, MNIST_FILES.flatMap((f) => [`/gone/${f}`, `/good/${f}`]));
    assert.deepEqual(progress.get('train-images-idx3-ubyte.gz'), { bytes: 9912422, total: 9912422 });
    // now in the cache: no download, even when allowed
    const again = await loadDataset('mnist', { cacheDir, download: true, baseUrls: [`${server.base}/good/`] });
    assert.equal(again.train.count, 60000);
    const offline = await loadDataset('mnist', { cacheDir });
    assert.equal(offline.sample, false);
    assert.equal(server.hits.length, 8);
  } finally {
    await server.close();
    rmSync(cacheDir, { recursive: true, force: true });
  }
});

test('a downloaded file with the wrong checksum is refused and not kept', async () => {
  const server = await serve({ '/m/train-images-idx3-ubyte.gz': { body: gzipSync(Buffer.from('not MNIST')) } });
  const cacheDir = tempDir();
  try {
    const final = join(cacheDir, 'mnist', 'train-images-idx3-ubyte.gz');
    await assert.rejects(loadDataset('mnist', { cacheDir, download: true, baseUrls: [`${server.base}/m/`] }), (e: unknown) => {
      assert.ok(e instanceof DataError);
      assert.equal(e.file, final);
      assert.match(e.message, /checksum mismatch in the download from http:\/\/127\.0\.0\.1:\d+\/m\/train-images-idx3-ubyte\.gz: SHA-256 [0-9a-f]{64}, expected 440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609; the file was not kept/);
      return true;
    });
    assert.deepEqual(listing(join(cacheDir, 'mnist')), []);
  } finally {
    await server.close();
    rmSync(cacheDir, { recursive: true, force: true });
  }
});

test('a truncated download is refused: by checksum (IDX), or as a dropped connection', { skip }, async () => {
  const labels = readFileSync(join(shared, 'mnist', 'train-labels-idx1-ubyte.gz'));
  const images = readFileSync(join(shared, 'mnist', 'train-images-idx3-ubyte.gz'));
  const server = await serve({
    '/short/train-images-idx3-ubyte.gz': { body: images.subarray(0, 100000) },
    '/cut/train-images-idx3-ubyte.gz': { body: images, cutAt: 100000 },
    '/cut/train-labels-idx1-ubyte.gz': { body: labels },
  });
  const cacheDir = tempDir();
  try {
    await assert.rejects(loadDataset('mnist', { cacheDir, download: true, baseUrls: [`${server.base}/short/`] }), /train-images-idx3-ubyte\.gz: checksum mismatch/);
    await assert.rejects(loadDataset('mnist', { cacheDir, download: true, baseUrls: [`${server.base}/cut/`] }), (e: unknown) => {
      assert.ok(e instanceof DataError);
      assert.match(e.file, /\/cut\/train-images-idx3-ubyte\.gz$/);
      assert.match(e.message, /download (interrupted|failed)/);
      assert.match(e.message, /hint: check the network connection, or fetch the files yourself and pass --data-dir/);
      return true;
    });
    assert.deepEqual(listing(join(cacheDir, 'mnist')), []);
  } finally {
    await server.close();
    rmSync(cacheDir, { recursive: true, force: true });
  }
});

test('404s and refused connections are named, with every mirror tried', async () => {
  const server = await serve({});
  const cacheDir = tempDir();
  try {
    await assert.rejects(loadDataset('fashion-mnist', { cacheDir, download: true, baseUrls: [`${server.base}/fm`] }), (e: unknown) => {
      assert.ok(e instanceof DataError);
      assert.equal(e.file, `${server.base}/fm/train-images-idx3-ubyte.gz`);
      assert.match(e.message, /download failed: HTTP 404 Not Found/);
      return true;
    });
    // a port nobody listens on: the server's own, once it is closed
    await server.close();
    await assert.rejects(loadDataset('mnist', { cacheDir, download: true, baseUrls: [`${server.base}/a/`, `${server.base}/b/`] }), (e: unknown) => {
      assert.ok(e instanceof DataError);
      assert.match(e.message, /train-images-idx3-ubyte\.gz: download failed from every mirror: .*\/a\/train-images-idx3-ubyte\.gz: download failed: fetch failed.*; .*\/b\/train-images/);
      return true;
    });
    assert.deepEqual(listing(join(cacheDir, 'mnist')), []);
  } finally {
    await server.close();
    rmSync(cacheDir, { recursive: true, force: true });
  }
});

test('nothing is ever downloaded into a data directory; a partial one names the missing files', async () => {
  const server = await serve({});
  const dataDir = tempDir();
  try {
    await assert.rejects(loadDataset('mnist', { dataDir, download: true, baseUrls: [`${server.base}/`] }), (e: unknown) => {
      assert.ok(e instanceof DataError);
      assert.equal(e.file, dataDir);
      assert.match(e.message, /no mnist files here: missing train-images-idx3-ubyte\.gz, train-labels-idx1-ubyte\.gz, t10k-images-idx3-ubyte\.gz, t10k-labels-idx1-ubyte\.gz/);
      return true;
    });
    assert.deepEqual(server.hits, []);
    // CIFAR-10 with only the first training batch: the five others are named
    mkdirSync(join(dataDir, 'cifar-10'));
    writeFileSync(join(dataDir, 'cifar-10', 'data_batch_1.bin.gz'), '');
    await assert.rejects(loadDataset('cifar10', { dataDir }), (e: unknown) => {
      assert.ok(e instanceof DataError);
      assert.equal(e.file, join(dataDir, 'cifar-10'));
      assert.match(e.message, /cifar10 is incomplete: missing data_batch_2\.bin, data_batch_3\.bin, data_batch_4\.bin, data_batch_5\.bin, test_batch\.bin \(1 of 6 files are here\); precis never trains on part of a dataset/);
      assert.match(e.message, /hint: copy the missing files into/);
      return true;
    });
  } finally {
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('an incomplete cache is an error, not a silent fall-back to the MNIST sample', { skip }, async () => {
  const cacheDir = tempDir();
  try {
    mkdirSync(join(cacheDir, 'mnist'));
    writeFileSync(join(cacheDir, 'mnist', 'train-labels-idx1-ubyte.gz'), readFileSync(join(shared, 'mnist', 'train-labels-idx1-ubyte.gz')));
    await assert.rejects(loadDataset('mnist', { cacheDir }), /mnist is incomplete: missing train-images-idx3-ubyte\.gz, t10k-images-idx3-ubyte\.gz, t10k-labels-idx1-ubyte\.gz[\s\S]*hint: allow downloading/);
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
});

/** Small stand-ins for the CIFAR batches, with their own checksums, to exercise the tarball path quickly. */
function fakeBatches(): { files: DatasetFile[]; data: Map<string, Uint8Array> } {
  const data = new Map<string, Uint8Array>();
  const files: DatasetFile[] = [];
  for (const [i, name] of ['a.bin', 'b.bin', 'c.bin'].entries()) {
    // incompressible, so a cut in the gzip stream falls where the test expects it
    const bytes = new Uint8Array(randomBytes(1000 + 700 * i));
    data.set(name, bytes);
    files.push({ name, sha256: sha(bytes), hashOf: 'contents' });
  }
  return { files, data };
}

test('a tarball is unpacked in-process: each member verified, extras skipped, bad ones not kept', async () => {
  const { files, data } = fakeBatches();
  const members = [...data].map(([name, d]) => ({ name, data: d }));
  const good = gzipSync(tar([{ name: 'readme.html', data: Buffer.from('<html/>') }, ...members]));
  const corrupt = [...members];
  corrupt[1] = { name: 'b.bin', data: members[1].data.map((v, k) => (k === 5 ? v ^ 1 : v)) };
  const routes: Record<string, Route> = {
    '/ok/x.tar.gz': { body: good },
    '/bad/x.tar.gz': { body: gzipSync(tar(corrupt)) },
    '/short/x.tar.gz': { body: good.subarray(0, good.length - 1500) },
    '/lacking/x.tar.gz': { body: gzipSync(tar(members.slice(0, 2))) },
    '/nottar/x.tar.gz': { body: gzipSync(new Uint8Array(2048).fill(7)) },
  };
  const server = await serve(routes);
  const root = tempDir();
  const source = (p: string) => ({ baseUrls: [`${server.base}/${p}/`], archive: 'x.tar.gz' });
  try {
    const dir = join(root, 'ok');
    let last = 0;
    await downloadFiles(dir, files, source('ok'), { onProgress: (file, bytes, total) => { assert.equal(file, 'x.tar.gz'); assert.equal(total, good.length); last = bytes; } });
    assert.equal(last, good.length);
    assert.deepEqual(listing(dir), ['a.bin', 'b.bin', 'c.bin']);
    for (const [name, d] of data) assert.deepEqual(new Uint8Array(readFileSync(join(dir, name))), d);

    const bad = join(root, 'bad');
    await assert.rejects(downloadFiles(bad, files, source('bad')), (e: unknown) => {
      assert.ok(e instanceof DataError);
      assert.equal(e.file, join(bad, 'b.bin'));
      assert.match(e.message, new RegExp(`checksum mismatch .*expected ${files[1].sha256}; the file was not kept`));
      return true;
    });
    // a.bin came before the bad member and was verified; b.bin is gone, and no temporary file is left
    assert.deepEqual(listing(bad), ['a.bin']);

    const short = join(root, 'short');
    await assert.rejects(downloadFiles(short, files, source('short')), /x\.tar\.gz: not a readable gzip file \(unexpected end of file\); the download may be truncated/);
    // cut inside c.bin: the two whole members before it were verified and kept, c.bin was not
    assert.deepEqual(listing(short), ['a.bin', 'b.bin']);

    const lacking = join(root, 'lacking');
    await assert.rejects(downloadFiles(lacking, files, source('lacking')), /x\.tar\.gz: the archive does not hold c\.bin/);

    await assert.rejects(downloadFiles(join(root, 'nottar'), files, source('nottar')), /not a tar archive, or a corrupt one: bad header checksum/);
    assert.deepEqual(listing(join(root, 'nottar')), []);
  } finally {
    await server.close();
    rmSync(root, { recursive: true, force: true });
  }
});

test('CIFAR-10 downloads as the official tarball and unpacks to the six verified batches', { skip }, async () => {
  const names = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin', 'test_batch.bin'];
  const members = names.map((name) => ({ name, data: gunzipSync(readFileSync(join(shared, 'cifar-10', `${name}.gz`))) }));
  members.splice(5, 0, { name: 'batches.meta.txt', data: readFileSync(join(shared, 'cifar-10', 'batches.meta.txt')) });
  // level 0 (stored) keeps the test quick; the contents, not the compression, are what is checked
  const server = await serve({ '/kriz/cifar-10-binary.tar.gz': { body: gzipSync(tar(members), { level: 0 }) } });
  const cacheDir = tempDir();
  try {
    const d = await loadDataset('cifar10', { cacheDir, download: true, baseUrls: [`${server.base}/kriz/`] });
    assert.equal(d.train.count, 50000);
    assert.equal(d.test.count, 10000);
    assert.deepEqual([...d.test.labels.subarray(0, 4)], [3, 8, 8, 0]);
    assert.deepEqual(listing(join(cacheDir, 'cifar-10')), names);
    // a batch lost from the cache: named when downloading is not allowed, fetched again when it is
    rmSync(join(cacheDir, 'cifar-10', 'data_batch_3.bin'));
    await assert.rejects(loadDataset('cifar10', { cacheDir }), /cifar10 is incomplete: missing data_batch_3\.bin \(5 of 6 files are here\)/);
    const again = await loadDataset('cifar10', { cacheDir, download: true, baseUrls: [`${server.base}/kriz/`] });
    assert.equal(again.train.count, 50000);
    assert.equal(server.hits.length, 2);
  } finally {
    await server.close();
    rmSync(cacheDir, { recursive: true, force: true });
  }
});
