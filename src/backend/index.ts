/**
 * Backend choice: PRECIS_BACKEND=js|wasm|native picks one (and fails loudly
 * if it cannot load); otherwise the fastest that loads, native > wasm > js.
 * A backend is never swapped for another behind the caller's back.
 */
import { availableParallelism } from 'node:os';
import { OptionError, UnsupportedError } from '../errors.js';
import { jsKernels } from './js.js';
import { BACKEND_NAMES, type BackendName, type Kernels } from './kernels.js';
import { loadNativeKernels, type NativeKernels } from './native.js';
import { loadWasmKernels } from './wasm.js';

export type { BackendName, Kernels, QuantizeCounts } from './kernels.js';
export { BACKEND_NAMES } from './kernels.js';

const loaded = new Map<BackendName, Kernels | UnsupportedError>();
let current: Kernels | null = null;

function tryLoad(name: BackendName): Kernels | UnsupportedError {
  let k = loaded.get(name);
  if (k) return k;
  const threads = defaultThreads(); // a bad PRECIS_THREADS is the user's error (OptionError), not the backend's
  try {
    k = name === 'js' ? jsKernels : name === 'wasm' ? loadWasmKernels() : loadNativeKernels();
    k.setThreads(threads);
  } catch (e) {
    k = e instanceof UnsupportedError ? e : new UnsupportedError(`${name} backend failed to load: ${(e as Error).message}`, 'see `precis doctor`');
  }
  loaded.set(name, k);
  return k;
}

/** PRECIS_THREADS, or the number of cores. */
export function defaultThreads(): number {
  const env = process.env.PRECIS_THREADS;
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (!Number.isInteger(n) || n < 1) throw new OptionError(`PRECIS_THREADS must be a positive integer, got '${env}'`, 'unset it to use every core');
    return n;
  }
  return availableParallelism();
}

function checkName(name: string): BackendName {
  if (!(BACKEND_NAMES as readonly string[]).includes(name)) {
    throw new OptionError(`unknown backend '${name}'`, `use one of: ${BACKEND_NAMES.join(', ')}`);
  }
  return name as BackendName;
}

/** Loads a backend by name, throwing UnsupportedError (with the reason) if it cannot load. */
export function loadBackend(name: BackendName | string): Kernels {
  const k = tryLoad(checkName(name));
  if (k instanceof UnsupportedError) throw k;
  return k;
}

/** Every backend with whether it loads and, if not, why. */
export function probeBackends(): { name: BackendName; ok: boolean; reason?: string; isa?: string }[] {
  return BACKEND_NAMES.map((name) => {
    const k = tryLoad(name);
    return k instanceof UnsupportedError ? { name, ok: false, reason: k.message } : { name, ok: true, isa: k.isa() };
  });
}

/** The backend in use: set by setBackend, else PRECIS_BACKEND, else the fastest that loads. */
export function getBackend(): Kernels {
  if (current) return current;
  const env = process.env.PRECIS_BACKEND;
  if (env) return (current = loadBackend(env));
  for (const name of BACKEND_NAMES) {
    const k = tryLoad(name);
    if (!(k instanceof UnsupportedError)) return (current = k);
  }
  return (current = jsKernels);
}

export function setBackend(name: BackendName | string): Kernels {
  return (current = loadBackend(name));
}

export function isNative(k: Kernels): k is NativeKernels {
  return k.name === 'native';
}
