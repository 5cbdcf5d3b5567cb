/** The native backend: the C kernels as a Node addon, with AVX-512/AVX2/SSE2 dispatch and a thread pool. */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { UnsupportedError } from '../errors.js';
import { checkGemm } from './gemm.js';
import type { Kernels, QuantizeCounts } from './kernels.js';
import type { KernelKind } from './params.js';
import { packageRoot } from './paths.js';

interface Addon {
  quantize(kind: number, src: Float32Array, dst: Float32Array, params: Float64Array): [number, number, number];
  setThreads(n: number): number;
  setIsa(name: string): boolean;
  isa(): string;
  cpuFeatures(): string;
  copy(src: Float32Array, dst: Float32Array): void;
  gemm(transA: boolean, transB: boolean, m: number, n: number, k: number, a: Float32Array, b: Float32Array, c: Float32Array, accumulate: boolean): void;
}

export interface NativeKernels extends Kernels {
  /** Forces an instruction set ('sse2', 'avx2', 'avx512' or 'best'); false if the CPU lacks it. */
  setIsa(name: string): boolean;
  cpuFeatures(): string;
  /** A plain parallel copy: the memory-bandwidth ceiling benchmarks compare against. */
  copy(src: Float32Array, dst: Float32Array): void;
}

export function loadNativeKernels(): NativeKernels {
  const path = join(packageRoot(), 'build', 'Release', 'precis.node');
  if (!existsSync(path)) {
    throw new UnsupportedError(`native addon not built (${path} is missing)`, 'install a C compiler and python3, then run `npm rebuild precis` or `node scripts/build-kernels.mjs native`');
  }
  let addon: Addon;
  try {
    addon = createRequire(import.meta.url)(path) as Addon;
  } catch (e) {
    throw new UnsupportedError(`native addon failed to load: ${(e as Error).message}`, 'rebuild it with `node scripts/build-kernels.mjs native`');
  }
  if (typeof addon.gemm !== 'function') {
    throw new UnsupportedError('native addon is stale (it has no gemm)', 'rebuild it with `node scripts/build-kernels.mjs native`');
  }
  let threads = 1;
  const isaOverride = process.env.PRECIS_ISA;
  if (isaOverride && !addon.setIsa(isaOverride)) {
    throw new UnsupportedError(`PRECIS_ISA=${isaOverride} is not supported by this CPU or build`, 'use sse2, avx2, avx512 or best');
  }
  return {
    name: 'native',
    isa: () => addon.isa(),
    threads: () => threads,
    setThreads: (n: number) => (threads = addon.setThreads(n)),
    setIsa: (name: string) => addon.setIsa(name),
    cpuFeatures: () => addon.cpuFeatures(),
    copy: (src: Float32Array, dst: Float32Array) => addon.copy(src, dst),
    quantize(kind: KernelKind, src: Float32Array, dst: Float32Array, params: Float64Array): QuantizeCounts {
      const [overflow, flushed, nan] = addon.quantize(kind, src, dst, params);
      return { overflow, flushed, nan };
    },
    gemm(transA, transB, m, n, k, a, b, c, accumulate) {
      checkGemm(m, n, k, a, b, c);
      addon.gemm(transA, transB, m, n, k, a, b, c, accumulate);
    },
  };
}
