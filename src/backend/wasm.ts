/**
 * The WebAssembly backend: the C kernels compiled by @yowasp/clang. The
 * relaxed-SIMD build is used where this engine validates it and its relaxed
 * multiply-add really fuses (gemm must give the fused result on every
 * backend); otherwise the SIMD128 build, whose gemm emulates the fused
 * multiply-add exactly. Quantize streams arrays through fixed buffers in
 * linear memory a chunk at a time, so the working set stays in cache; gemm
 * copies its operands into a region past the heap base, grown as needed and
 * kept between calls. Runs on one thread.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { UnsupportedError } from '../errors.js';
import { checkGemm } from './gemm.js';
import type { Kernels, QuantizeCounts } from './kernels.js';
import { KernelKind, P } from './params.js';
import { packageRoot } from './paths.js';

interface WasmExports {
  memory: WebAssembly.Memory;
  in_ptr(): number;
  out_ptr(): number;
  params_ptr(): number;
  counts_ptr(): number;
  chunk_size(): number;
  param_count(): number;
  quantize(kind: number, n: number): void;
  heap_base(): number;
  gemm_workspace(m: number, n: number, k: number): number;
  gemm_fma1(a: number, b: number, c: number): number;
  gemm(transA: number, transB: number, m: number, n: number, k: number, a: number, b: number, c: number, accumulate: number, work: number): void;
}

/** Which build: 'relaxed' and 'simd128' force one (an error if it cannot be used); 'auto' picks as above. */
export type WasmVariant = 'auto' | 'relaxed' | 'simd128';

const PAGE = 65536;

function instantiate(path: string): WasmExports | null {
  const bytes = new Uint8Array(readFileSync(path));
  if (!WebAssembly.validate(bytes)) {
    // Node 20's V8 implements relaxed SIMD behind a flag (on by default from
    // Node 22). Turning it on changes nothing else, and the fusion probe below
    // still decides whether the build is used.
    setFlagsFromString('--experimental-wasm-relaxed-simd');
    if (!WebAssembly.validate(bytes)) return null;
  }
  return new WebAssembly.Instance(new WebAssembly.Module(bytes), {}).exports as unknown as WasmExports;
}

/** Whether relaxed madd fuses: 1 + 2^-23 times 1 - 2^-23 is 1 - 2^-46, which rounds to 1 when not fused. */
function relaxedFuses(x: WasmExports): boolean {
  const a = 1 + 2 ** -23, b = 1 - 2 ** -23;
  return x.gemm_fma1(a, b, -1) === -(2 ** -46);
}

export function loadWasmKernels(variant: WasmVariant = 'auto'): Kernels {
  const dir = join(packageRoot(), 'build-wasm');
  const relaxedPath = join(dir, 'precis-relaxed.wasm');
  const simdPath = join(dir, 'precis-simd128.wasm');
  if (!existsSync(simdPath)) {
    throw new UnsupportedError(`wasm kernels not found at ${simdPath}`, 'run `npm install` (or `node scripts/build-kernels.mjs wasm`) to build them');
  }
  let x: WasmExports | null = null;
  let isa = 'wasm_simd128';
  if (variant !== 'simd128' && existsSync(relaxedPath)) {
    const relaxed = instantiate(relaxedPath);
    if (relaxed && typeof relaxed.gemm_fma1 === 'function' && relaxedFuses(relaxed)) {
      x = relaxed;
      isa = 'wasm_relaxed';
    } else if (variant === 'relaxed') {
      throw new UnsupportedError('the relaxed-SIMD wasm kernels cannot be used here (not validated, or relaxed madd does not fuse)', 'use the SIMD128 build (the default picks it)');
    }
  } else if (variant === 'relaxed') {
    throw new UnsupportedError(`relaxed-SIMD wasm kernels not found at ${relaxedPath}`, 'rebuild them with `node scripts/build-kernels.mjs wasm`');
  }
  x ??= instantiate(simdPath);
  if (!x) {
    throw new UnsupportedError('this JavaScript engine cannot run the SIMD128 wasm kernels', 'use PRECIS_BACKEND=js or a newer Node.js');
  }
  const w = x;
  if (w.param_count() !== P.COUNT || typeof w.gemm !== 'function') {
    throw new UnsupportedError('wasm kernels are stale (parameter count or gemm export)', 'rebuild them with `node scripts/build-kernels.mjs wasm`');
  }
  const chunk = w.chunk_size();
  // Growing memory detaches the old buffer, so views are remade whenever it changed.
  let buf: ArrayBuffer | null = null;
  let heap = new Float32Array(0);
  let inView = heap, outView = heap;
  let paramView = new Float64Array(0), countView = paramView;
  function views(): void {
    if (buf === w.memory.buffer) return;
    buf = w.memory.buffer;
    heap = new Float32Array(buf);
    inView = new Float32Array(buf, w.in_ptr(), chunk);
    outView = new Float32Array(buf, w.out_ptr(), chunk);
    paramView = new Float64Array(buf, w.params_ptr(), P.COUNT);
    countView = new Float64Array(buf, w.counts_ptr(), 3);
  }

  function quantize(kind: KernelKind, src: Float32Array, dst: Float32Array, params: Float64Array): QuantizeCounts {
    views();
    const step = kind === KernelKind.Blocks ? Math.floor(chunk / params[P.BLOCK_SIZE]) * params[P.BLOCK_SIZE] : chunk;
    paramView.set(params.subarray(0, P.COUNT));
    countView.fill(0);
    const base = params[P.OFFSET];
    for (let start = 0; start < src.length; start += step) {
      const len = Math.min(step, src.length - start);
      inView.set(src.subarray(start, start + len));
      paramView[P.OFFSET] = base + start;
      w.quantize(kind, len);
      dst.set(len === chunk ? outView : outView.subarray(0, len), start);
    }
    return { overflow: countView[0], flushed: countView[1], nan: countView[2] };
  }

  const align = (bytes: number): number => Math.ceil(bytes / 64) * 64;
  const heapBase = align(w.heap_base());

  function gemm(transA: boolean, transB: boolean, m: number, n: number, k: number, a: Float32Array, b: Float32Array, c: Float32Array, accumulate: boolean): void {
    checkGemm(m, n, k, a, b, c);
    if (m === 0 || n === 0) return;
    // Layout past the heap base: work | A | B | C, each 64-byte aligned.
    const work = heapBase;
    const pa = work + align(4 * w.gemm_workspace(m, n, k));
    const pb = pa + align(4 * m * k);
    const pc = pb + align(4 * k * n);
    const end = pc + 4 * m * n;
    if (end > 0xffffffff) throw new RangeError(`gemm: m=${m}, n=${n}, k=${k} need ${end} bytes, beyond wasm32's 4 GiB`);
    const have = w.memory.buffer.byteLength;
    if (end > have) w.memory.grow(Math.ceil((end - have) / PAGE));
    views();
    heap.set(a.subarray(0, m * k), pa / 4);
    heap.set(b.subarray(0, k * n), pb / 4);
    if (accumulate) heap.set(c.subarray(0, m * n), pc / 4);
    w.gemm(transA ? 1 : 0, transB ? 1 : 0, m, n, k, pa, pb, pc, accumulate ? 1 : 0, work);
    c.set(heap.subarray(pc / 4, pc / 4 + m * n));
  }

  return { name: 'wasm', isa: () => isa, threads: () => 1, setThreads: () => 1, quantize, gemm };
}
