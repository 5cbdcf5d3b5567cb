/** What the end-to-end tests of training share: running `precis`, reading checkpoints, killing a run mid-way. */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../src/backend/paths.js';
import { readSafetensors } from '../../src/train/safetensors.js';

export const bin = join(packageRoot(), 'bin', 'precis.js');
/** No data directory: the bundled sample is used. */
export const env = { ...process.env, PRECIS_DATA_DIR: '' };

export function precis(args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

/** Every tensor of a run's checkpoint: weights, buffers, optimizer and precision state. */
export function checkpointTensors(run: string): Map<string, Float32Array | Float64Array> {
  return new Map([...readSafetensors(join(run, 'checkpoint.safetensors')).tensors].map(([k, v]) => [k, v.data]));
}

export function assertSameTensors(a: Map<string, Float32Array | Float64Array>, b: Map<string, Float32Array | Float64Array>): void {
  assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort());
  const bytes = (v: Float32Array | Float64Array) => Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  for (const [k, v] of a) assert.ok(bytes(v).equals(bytes(b.get(k)!)), `tensor ${k} differs`);
}

/** Starts `precis train ARGS --out OUT` and kills it with SIGKILL as soon as its first checkpoint exists. */
export async function killAfterFirstCheckpoint(args: string[], out: string): Promise<void> {
  const child = spawn(process.execPath, [bin, 'train', ...args, '--out', out], { env, stdio: 'ignore' });
  const ckpt = join(out, 'checkpoint.safetensors');
  await new Promise<void>((resolve, reject) => {
    const t = setInterval(() => {
      if (existsSync(ckpt)) { clearInterval(t); child.kill('SIGKILL'); resolve(); }
    }, 5);
    child.on('exit', () => { clearInterval(t); reject(new Error('the run finished before it could be killed')); });
  });
  await new Promise((r) => child.once('exit', r));
}
