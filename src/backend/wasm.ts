/**
 * The WebAssembly backend: the C kernels compiled by @yowasp/clang, with the
 * relaxed-SIMD build where this engine validates it and SIMD128 otherwise.
 * Arrays stream through fixed buffers in linear memory a chunk at a time, so
 * the working set stays in cache. Runs on one thread.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UnsupportedError } from '../errors.js';
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
}

export function loadWasmKernels(): Kernels {
  const dir = join(packageRoot(), 'build-wasm');
  const relaxedPath = join(dir, 'precis-relaxed.wasm');
  const simdPath = join(dir, 'precis-simd128.wasm');
  if (!existsSync(simdPath)) {
    throw new UnsupportedError(`wasm kernels not found at ${simdPath}`, 'run `npm install` (or `node scripts/build-kernels.mjs wasm`) to build them');
  }
  let bytes: Uint8Array<ArrayBuffer> = new Uint8Array(readFileSync(simdPath));
  let isa = 'wasm_simd128';
  if (existsSync(relaxedPath)) {
    const relaxed = new Uint8Array(readFileSync(relaxedPath));
    if (WebAssembly.validate(relaxed)) { bytes = relaxed; isa = 'wasm_relaxed'; }
  }
  if (!WebAssembly.validate(bytes)) {
    throw new UnsupportedError('this JavaScript engine cannot run the SIMD128 wasm kernels', 'use PRECIS_BACKEND=js or a newer Node.js');
  }
  const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
  const x = inst.exports as unknown as WasmExports;
  if (x.param_count() !== P.COUNT) {
    throw new UnsupportedError(`wasm kernels are stale (${x.param_count()} parameters, expected ${P.COUNT})`, 'rebuild them with `node scripts/build-kernels.mjs wasm`');
  }
  const chunk = x.chunk_size();
  const buf = x.memory.buffer;
  const inView = new Float32Array(buf, x.in_ptr(), chunk);
  const outView = new Float32Array(buf, x.out_ptr(), chunk);
  const paramView = new Float64Array(buf, x.params_ptr(), P.COUNT);
  const countView = new Float64Array(buf, x.counts_ptr(), 3);

  function quantize(kind: KernelKind, src: Float32Array, dst: Float32Array, params: Float64Array): QuantizeCounts {
    const step = kind === KernelKind.Blocks ? Math.floor(chunk / params[P.BLOCK_SIZE]) * params[P.BLOCK_SIZE] : chunk;
    paramView.set(params.subarray(0, P.COUNT));
    countView.fill(0);
    const base = params[P.OFFSET];
    for (let start = 0; start < src.length; start += step) {
      const len = Math.min(step, src.length - start);
      inView.set(src.subarray(start, start + len));
      paramView[P.OFFSET] = base + start;
      x.quantize(kind, len);
      dst.set(len === chunk ? outView : outView.subarray(0, len), start);
    }
    return { overflow: countView[0], flushed: countView[1], nan: countView[2] };
  }

  return { name: 'wasm', isa: () => isa, threads: () => 1, setThreads: () => 1, quantize };
}
