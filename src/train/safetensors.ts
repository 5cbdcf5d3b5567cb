/**
 * The safetensors format (https://huggingface.co/docs/safetensors): an 8-byte
 * little-endian header length, a JSON header naming each tensor's dtype,
 * shape and byte range, string metadata under "__metadata__", then the raw
 * little-endian data. Files are written atomically: a temporary file in the
 * same directory, fsync, rename, fsync of the directory, so a crash at any
 * moment leaves either the old file or the new one, never a torn one.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { PrecisError } from '../errors.js';

export type StoredArray = Float32Array | Float64Array;

export interface SafetensorsEntry {
  readonly data: StoredArray;
  readonly shape: readonly number[];
}

export interface SafetensorsFile {
  readonly tensors: Map<string, SafetensorsEntry>;
  readonly metadata: Record<string, string>;
}

export class CheckpointError extends PrecisError {
  constructor(readonly file: string, problem: string, hint: string) {
    super('E_CHECKPOINT', `${file}: ${problem}`, hint);
    this.name = 'CheckpointError';
  }
}

const DTYPES = { F32: Float32Array, F64: Float64Array } as const;

export function encodeSafetensors(file: SafetensorsFile): Buffer {
  const header: Record<string, unknown> = { __metadata__: file.metadata };
  let offset = 0;
  const entries = [...file.tensors];
  for (const [name, t] of entries) {
    const bytes = t.data.byteLength;
    header[name] = { dtype: t.data instanceof Float64Array ? 'F64' : 'F32', shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  // The data starts 8-byte aligned, as the format recommends, by padding the header with spaces.
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const head = Buffer.from(json, 'utf8');
  const out = Buffer.alloc(8 + head.length + offset);
  out.writeBigUInt64LE(BigInt(head.length), 0);
  head.copy(out, 8);
  let at = 8 + head.length;
  for (const [, t] of entries) {
    Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).copy(out, at);
    at += t.data.byteLength;
  }
  return out;
}

export function decodeSafetensors(bytes: Buffer, file: string): SafetensorsFile {
  const bad = (problem: string) => new CheckpointError(file, problem, 'the file is damaged or not a precis checkpoint; use another checkpoint');
  if (bytes.length < 8) throw bad('too short to be a safetensors file');
  const n = Number(bytes.readBigUInt64LE(0));
  if (8 + n > bytes.length) throw bad(`header of ${n} bytes runs past the end of the file (${bytes.length} bytes)`);
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] } | Record<string, string>>;
  try {
    header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
  } catch {
    throw bad('header is not valid JSON');
  }
  const base = 8 + n;
  const tensors = new Map<string, SafetensorsEntry>();
  let metadata: Record<string, string> = {};
  for (const [name, v] of Object.entries(header)) {
    if (name === '__metadata__') { metadata = v as Record<string, string>; continue; }
    const e = v as { dtype: string; shape: number[]; data_offsets: [number, number] };
    const Ctor = DTYPES[e.dtype as keyof typeof DTYPES];
    if (!Ctor) throw bad(`tensor '${name}' has dtype ${e.dtype}; precis reads F32 and F64`);
    const [b, end] = e.data_offsets;
    const count = e.shape.reduce((p, d) => p * d, 1);
    if (!(b >= 0 && end >= b && base + end <= bytes.length && end - b === count * Ctor.BYTES_PER_ELEMENT)) {
      throw bad(`tensor '${name}' has a byte range [${b}, ${end}) that does not fit its shape or the file`);
    }
    const data = new Ctor(count);
    Buffer.from(data.buffer).set(bytes.subarray(base + b, base + end));
    tensors.set(name, { data, shape: e.shape });
  }
  return { tensors, metadata };
}

/** Writes `bytes` to `path` so that readers see either the old file or the whole new one. */
export function writeFileAtomic(path: string, bytes: Buffer | string): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, typeof bytes === 'string' ? Buffer.from(bytes) : bytes);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    unlinkSync(tmp);
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, path);
  // Make the rename itself durable.
  const dfd = openSync(dirname(path), 'r');
  try { fsyncSync(dfd); } finally { closeSync(dfd); }
}

export function readSafetensors(path: string): SafetensorsFile {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new CheckpointError(path, `cannot read: ${(e as Error).message}`, 'check the path (a run directory keeps checkpoint.safetensors)');
  }
  return decodeSafetensors(bytes, path);
}
