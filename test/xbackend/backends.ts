/**
 * Shared helper for the cross-backend (and backend) tests: every backend that loads, and
 * for the native one every instruction set the CPU supports at 1 and 2
 * threads. With CI=true a backend that does not load is a test failure (CI
 * must build all three); locally the comparisons involving it are skipped
 * with the reason.
 */
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { BACKEND_NAMES, isNative, loadBackend, type BackendName, type Kernels } from '../../src/backend/index.js';
import type { NativeKernels } from '../../src/backend/native.js';
import { PrecisError } from '../../src/errors.js';

export const ON_CI = process.env.CI === 'true';

/** One way of running the kernels: a backend, and for native an ISA and a thread count. */
export interface BackendConfig {
  /** e.g. 'js', 'wasm', 'native/avx2/2t'. */
  readonly label: string;
  readonly backend: BackendName;
  readonly kernels: Kernels;
  readonly isa?: string;
  readonly threads?: number;
}

export interface BackendLoad {
  readonly name: BackendName;
  readonly kernels?: Kernels;
  readonly reason?: string;
}

let loads: BackendLoad[] | null = null;

/** Tries to load every backend once; never throws. */
export function backendLoads(): readonly BackendLoad[] {
  if (loads) return loads;
  loads = BACKEND_NAMES.map((name): BackendLoad => {
    try {
      return { name, kernels: loadBackend(name) };
    } catch (e) {
      const reason = e instanceof PrecisError ? e.message : String(e);
      return { name, reason };
    }
  });
  return loads;
}

/** The backends that did not load, with their reasons. */
export function missingBackends(): readonly BackendLoad[] {
  return backendLoads().filter((b) => !b.kernels);
}

/** The instruction sets the native addon may be forced to on this CPU. */
export function nativeIsas(k: NativeKernels): string[] {
  const features = k.cpuFeatures().split(/\s+/).filter((s) => s !== '');
  return ['sse2', 'avx2', 'avx512'].filter((isa) => features.includes(isa));
}

export const THREAD_COUNTS = [1, 2] as const;

/** Every configuration that can run here: js, wasm, and native × ISA × {1, 2} threads. */
export function backendConfigs(options: { includeJs?: boolean } = {}): BackendConfig[] {
  const out: BackendConfig[] = [];
  for (const b of backendLoads()) {
    const k = b.kernels;
    if (!k) continue;
    if (k.name === 'js' && options.includeJs === false) continue;
    if (isNative(k)) {
      for (const isa of nativeIsas(k)) {
        for (const threads of THREAD_COUNTS) out.push({ label: `native/${isa}/${threads}t`, backend: 'native', kernels: k, isa, threads });
      }
    } else {
      out.push({ label: k.name, backend: k.name, kernels: k });
    }
  }
  return out;
}

/**
 * Yields every configuration (see backendConfigs), each already applied
 * while the loop body runs; the native addon is restored afterwards, also
 * when the loop is left early or throws.
 */
export function* forEachBackend(options: { includeJs?: boolean } = {}): Generator<BackendConfig> {
  for (const cfg of backendConfigs(options)) {
    const k = cfg.kernels;
    if (!isNative(k)) {
      yield cfg;
      continue;
    }
    const before = k.threads();
    try {
      if (cfg.isa !== undefined) {
        assert.equal(k.setIsa(cfg.isa), true, `the CPU reports ${cfg.isa} but setIsa('${cfg.isa}') refused it`);
        assert.equal(k.isa(), cfg.isa);
      }
      if (cfg.threads !== undefined) assert.equal(k.setThreads(cfg.threads), cfg.threads);
      yield cfg;
    } finally {
      k.setIsa('best');
      k.setThreads(before);
    }
  }
}

/**
 * Whether the named backends (default: all three) loaded. When one did not,
 * the test fails on CI (CI must build every backend) and is skipped locally
 * with the reason, so a machine without a compiler can still run the rest.
 */
export function requireBackends(t: TestContext, names: readonly BackendName[] = BACKEND_NAMES): boolean {
  const missing = missingBackends().filter((b) => names.includes(b.name));
  if (missing.length === 0) return true;
  const why = missing.map((b) => `${b.name}: ${b.reason ?? 'unknown reason'}`).join('; ');
  if (ON_CI) assert.fail(`CI must build every backend, but these did not load: ${why}`);
  t.skip(`not loaded here: ${why}`);
  return false;
}
