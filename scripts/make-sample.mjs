#!/usr/bin/env node
// Builds the MNIST sample bundled with precis (data/sample/mnist/): the first
// 4000 training and 1000 test images of the official files, as IDX, gzipped.
// Usage: node scripts/make-sample.mjs [MNIST_DIR]   (default ../shared/data/mnist)
// Prints the SHA-256 of each uncompressed file for src/data/files.ts.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';

const src = process.argv[2] ?? '../shared/data/mnist';
const out = 'data/sample/mnist';
mkdirSync(out, { recursive: true });

function firstRecords(file, count) {
  const bytes = gunzipSync(readFileSync(join(src, file)));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const rank = view.getUint32(0) & 0xff;
  const header = 4 + 4 * rank;
  let record = 1;
  for (let i = 1; i < rank; i++) record *= view.getUint32(4 + 4 * i);
  const sample = new Uint8Array(header + count * record);
  sample.set(bytes.subarray(0, header + count * record));
  new DataView(sample.buffer).setUint32(4, count);
  return sample;
}

for (const [file, count] of [
  ['train-images-idx3-ubyte', 4000], ['train-labels-idx1-ubyte', 4000],
  ['t10k-images-idx3-ubyte', 1000], ['t10k-labels-idx1-ubyte', 1000],
]) {
  const bytes = firstRecords(`${file}.gz`, count);
  writeFileSync(join(out, `${file}.gz`), gzipSync(bytes, { level: 9 }));
  console.log(`${file} ${createHash('sha256').update(bytes).digest('hex')}`);
}
