/** The native backend: the C kernels as a Node addon, with AVX-512/AVX2/SSE2 dispatch and a thread pool. */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { UnsupportedError } from '../errors.js';
import { checkAccumulate } from './accumulate.js';
import { checkRelu } from './activation.js';
import { checkSumRows } from './reduce.js';
import { checkConv, checkSwap01, convParams } from './conv.js';
import { checkGemm } from './gemm.js';
import type { Kernels, QuantizeCounts } from './kernels.js';
import { adamParams, checkOptimArrays, sgdParams } from './optim.js';
import type { KernelKind } from './params.js';
import { packageRoot } from './paths.js';
import { checkArgmax, checkPool, poolParams } from './pool.js';

interface Addon {
  quantize(kind: number, src: Float32Array, dst: Float32Array, params: Float64Array): [number, number, number];
  setThreads(n: number): number;
  setIsa(name: string): boolean;
  isa(): string;
  cpuFeatures(): string;
  copy(src: Float32Array, dst: Float32Array): void;
  gemm(transA: boolean, transB: boolean, m: number, n: number, k: number, a: Float32Array, b: Float32Array, c: Float32Array, accumulate: boolean): void;
  sgd(p: Float32Array, grad: Float32Array, buf: Float32Array | null, params: Float64Array): void;
  adam(p: Float32Array, grad: Float32Array, m: Float32Array, v: Float32Array, params: Float64Array): void;
  im2col(x: Float32Array, col: Float32Array, geo: Float64Array): void;
  col2im(col: Float32Array, dx: Float32Array, geo: Float64Array): void;
  swap01(src: Float32Array, dst: Float32Array, sizes: Float64Array): void;
  relu(x: Float32Array, grad: Float32Array | null, out: Float32Array): void;
  sumRows(g: Float32Array, out: Float32Array, rows: number, n: number): void;
  maxPool(x: Float32Array, out: Float32Array, arg: Int32Array, geo: Float64Array): void;
  maxPoolBackward(grad: Float32Array, arg: Int32Array, dx: Float32Array, geo: Float64Array): void;
  avgPool(x: Float32Array, out: Float32Array, geo: Float64Array): void;
  avgPoolBackward(grad: Float32Array, dx: Float32Array, geo: Float64Array): void;
  accumulate(params: Float64Array, transA: boolean, transB: boolean, m: number, n: number, k: number,
    a: Float32Array, b: Float32Array, c: Float32Array, accumulate: boolean, overflowed: Uint8Array): [number, number, number];
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
  if (typeof addon.gemm !== 'function' || typeof addon.avgPoolBackward !== 'function' || typeof addon.relu !== 'function' || typeof addon.sumRows !== 'function' ||
    typeof addon.accumulate !== 'function') {
    throw new UnsupportedError('native addon is stale (it lacks gemm, the layer kernels or the accumulator kernel)', 'rebuild it with `node scripts/build-kernels.mjs native`');
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
    sgd(p, grad, buf, s) {
      checkOptimArrays('sgd', [p, grad, buf]);
      addon.sgd(p, grad, buf, sgdParams(s));
    },
    adam(p, grad, m, v, s) {
      checkOptimArrays('adam', [p, grad, m, v]);
      addon.adam(p, grad, m, v, adamParams(s));
    },
    im2col(x, col, g) {
      checkConv('im2col', g, x, col);
      addon.im2col(x, col, convParams(g));
    },
    col2im(col, dx, g) {
      checkConv('col2im', g, col, dx);
      addon.col2im(col, dx, convParams(g));
    },
    swap01(src, dst, a, b, inner) {
      checkSwap01(src, dst, a, b, inner);
      addon.swap01(src, dst, Float64Array.of(a, b, inner));
    },
    sumRows(g, out, rows, n) {
      checkSumRows(g, out, rows, n);
      addon.sumRows(g, out, rows, n);
    },
    relu(x, y) {
      checkRelu('relu', [x], y);
      addon.relu(x, null, y);
    },
    reluBackward(x, grad, dx) {
      checkRelu('reluBackward', [x, grad], dx);
      addon.relu(x, grad, dx);
    },
    maxPool2d(x, out, arg, g) {
      checkPool('maxPool2d', g, x, out, arg);
      addon.maxPool(x, out, arg, poolParams(g));
    },
    maxPool2dBackward(grad, arg, dx, g) {
      checkPool('maxPool2dBackward', g, dx, grad, arg);
      checkArgmax(arg, g);
      addon.maxPoolBackward(grad, arg, dx, poolParams(g));
    },
    avgPool2d(x, out, g) {
      checkPool('avgPool2d', g, x, out, null);
      addon.avgPool(x, out, poolParams(g));
    },
    avgPool2dBackward(grad, dx, g) {
      checkPool('avgPool2dBackward', g, dx, grad, null);
      addon.avgPoolBackward(grad, dx, poolParams(g));
    },
    accumulatedGemm(plan, transA, transB, m, n, k, a, b, c, accumulate, overflowed) {
      checkAccumulate(m, n, k, a, b, c, overflowed);
      const [swamped, overflow, underflow] = addon.accumulate(plan.params, transA, transB, m, n, k, a, b, c, accumulate, overflowed);
      return { swamped, overflow, underflow };
    },
  };
}
