/** What every benchmark shares: flags, best-of timing, and the backends that load. */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadBackend, type BackendName, type Kernels } from '../src/backend/index.js';
import { packageRoot } from '../src/backend/paths.js';

/** The value of `--name VALUE`, or the default. */
export function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : def;
}

/** The best wall time in seconds of `reps` runs (and at least `minSeconds` of runs), after one warm-up. */
export function bestOf(fn: () => void, reps: number, minSeconds = 0): number {
  let t = Infinity;
  fn(); // warm-up (and, for wasm, time for V8 to tier the kernel up)
  let spent = 0;
  for (let i = 0; i < reps || spent < minSeconds; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    const dt = Number(process.hrtime.bigint() - t0) / 1e9;
    spent += dt;
    t = Math.min(t, dt);
  }
  return t;
}

/** The named backends that load, in order; the others are reported on stderr and skipped. */
export function loadableBackends(names: readonly BackendName[]): Kernels[] {
  return names.flatMap((name) => {
    try {
      return [loadBackend(name)];
    } catch (e) {
      console.error(`skipping ${name}: ${(e as Error).message.split('\n')[0]}`);
      return [];
    }
  });
}

/** Where benchmarks read datasets: --data-dir, else PRECIS_DATA_DIR, else ../shared/data beside the checkout, else undefined (cache or sample). */
export function benchDataDir(): string | undefined {
  const given = arg('data-dir', '') || process.env.PRECIS_DATA_DIR;
  if (given) return given;
  const shared = resolve(packageRoot(), '..', 'shared', 'data');
  return existsSync(shared) ? shared : undefined;
}

/** len values in [-0.5, 0.5) from a seeded linear congruential generator: the same inputs in every run. */
export function fill(len: number, seed: number): Float32Array {
  const a = new Float32Array(len);
  let s = seed >>> 0;
  for (let i = 0; i < len; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 4294967296 - 0.5;
  }
  return a;
}
