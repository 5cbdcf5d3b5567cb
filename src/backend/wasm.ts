/**
 * The WebAssembly backend: the C kernels compiled by @yowasp/clang. The
 * relaxed-SIMD build is used where this engine validates it and its relaxed
 * multiply-add really fuses (gemm must give the fused result on every
 * backend); otherwise the SIMD128 build, whose gemm emulates the fused
 * multiply-add exactly. Quantize streams arrays through fixed buffers in
 * linear memory a chunk at a time, so the working set stays in cache, and so
 * do the optimizer updates; gemm and the convolution and pooling kernels copy
 * their operands into a region past the heap base, grown as needed and kept
 * between calls, and copy their results back. Runs on one thread.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { UnsupportedError } from '../errors.js';
import { AP, checkAccumulate } from './accumulate.js';
import { checkRelu } from './activation.js';
import { checkSumRows } from './reduce.js';
import { checkConv, checkSwap01, convParams } from './conv.js';
import { checkGemm } from './gemm.js';
import type { ConvGeometry, Kernels, PoolGeometry, QuantizeCounts } from './kernels.js';
import { adamParams, checkOptimArrays, sgdParams } from './optim.js';
import { KernelKind, P } from './params.js';
import { packageRoot } from './paths.js';
import { checkArgmax, checkPool, poolParams } from './pool.js';

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
  layer_params_ptr(): number;
  sgd(p: number, g: number, buf: number, n: number): void;
  adam(p: number, g: number, m: number, v: number, n: number): void;
  im2col(x: number, col: number): void;
  col2im(col: number, dx: number): void;
  swap01(src: number, dst: number, a: number, b: number, inner: number): void;
  relu(x: number, grad: number, out: number, n: number): void;
  sum_rows(g: number, out: number, rows: number, n: number): void;
  max_pool(x: number, out: number, arg: number): void;
  max_pool_backward(grad: number, arg: number, dx: number): void;
  avg_pool(x: number, out: number): void;
  avg_pool_backward(grad: number, dx: number): void;
  accum_params_ptr(): number;
  accum_param_count(): number;
  accum_counts_ptr(): number;
  accumulate_workspace(m: number, n: number, k: number): number;
  accumulate(transA: number, transB: number, m: number, n: number, k: number, a: number, b: number, c: number, accumulate: number, overflowed: number, work: number): void;
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
  if (w.param_count() !== P.COUNT || typeof w.gemm !== 'function' || typeof w.avg_pool_backward !== 'function' || typeof w.relu !== 'function' || typeof w.sum_rows !== 'function' ||
      typeof w.accumulate !== 'function' || typeof w.accumulate_workspace !== 'function' || w.accum_param_count() !== AP.COUNT) {
    throw new UnsupportedError('wasm kernels are stale (parameter counts, gemm, layer or accumulator kernel exports)', 'rebuild them with `node scripts/build-kernels.mjs wasm`');
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

  /** Byte offsets of regions of the given byte sizes laid out past the heap base, each 64-byte aligned (memory grown as needed). */
  function place(op: string, bytes: readonly number[]): number[] {
    const at: number[] = [];
    let end = heapBase;
    for (const b of bytes) {
      at.push(end);
      end = align(end + b);
    }
    if (end > 0xffffffff) throw new RangeError(`${op}: needs ${end} bytes, beyond wasm32's 4 GiB`);
    const have = w.memory.buffer.byteLength;
    if (end > have) w.memory.grow(Math.ceil((end - have) / PAGE));
    views();
    return at;
  }

  function gemm(transA: boolean, transB: boolean, m: number, n: number, k: number, a: Float32Array, b: Float32Array, c: Float32Array, accumulate: boolean): void {
    checkGemm(m, n, k, a, b, c);
    if (m === 0 || n === 0) return;
    const [work, pa, pb, pc] = place(`gemm m=${m}, n=${n}, k=${k}`, [4 * w.gemm_workspace(m, n, k), 4 * m * k, 4 * k * n, 4 * m * n]);
    heap.set(a.subarray(0, m * k), pa / 4);
    heap.set(b.subarray(0, k * n), pb / 4);
    if (accumulate) heap.set(c.subarray(0, m * n), pc / 4);
    w.gemm(transA ? 1 : 0, transB ? 1 : 0, m, n, k, pa, pb, pc, accumulate ? 1 : 0, work);
    c.set(heap.subarray(pc / 4, pc / 4 + m * n));
  }

  /** Copies a region of linear memory (a float32 view) out to dst. */
  function out(dst: Float32Array, at: number, n: number): void {
    dst.set(heap.subarray(at / 4, at / 4 + n));
  }

  function setLayerParams(v: Float64Array): void {
    new Float64Array(w.memory.buffer, w.layer_params_ptr(), v.length).set(v);
  }

  // The optimizers stream their arrays through linear memory a chunk at a time, so the copies stay in cache.
  const OPT_CHUNK = 16384;

  /** Runs an optimizer kernel over arrays[0..) chunk by chunk, copying back the arrays whose indices are in `written`. */
  function streamed(arrays: readonly Float32Array[], written: readonly number[], run: (at: readonly number[], len: number) => void): void {
    const at = place('optimizer', arrays.map(() => 4 * OPT_CHUNK));
    const n = arrays[0].length;
    for (let start = 0; start < n; start += OPT_CHUNK) {
      const len = Math.min(OPT_CHUNK, n - start);
      arrays.forEach((a, i) => heap.set(a.subarray(start, start + len), at[i] / 4));
      run(at, len);
      for (const i of written) arrays[i].set(heap.subarray(at[i] / 4, at[i] / 4 + len), start);
    }
  }

  function convCall(op: 'im2col' | 'col2im', src: Float32Array, dst: Float32Array, g: ConvGeometry): void {
    checkConv(op, g, src, dst);
    const xs = g.N * g.C * g.H * g.W;
    const cs = g.C * g.KH * g.KW * g.N * g.OH * g.OW;
    const [inLen, outLen] = op === 'im2col' ? [xs, cs] : [cs, xs];
    const [pi, po] = place(op, [4 * inLen, 4 * outLen]);
    heap.set(src.subarray(0, inLen), pi / 4);
    setLayerParams(convParams(g));
    if (op === 'im2col') w.im2col(pi, po);
    else w.col2im(pi, po);
    out(dst, po, outLen);
  }

  function poolSizes(g: PoolGeometry): [number, number] {
    return [g.planes * g.H * g.W, g.planes * g.OH * g.OW];
  }

  return {
    name: 'wasm', isa: () => isa, threads: () => 1, setThreads: () => 1, quantize, gemm,
    sgd(p, grad, buf, s) {
      checkOptimArrays('sgd', [p, grad, buf]);
      setLayerParams(sgdParams(s));
      if (buf === null) streamed([p, grad], [0], (at, len) => w.sgd(at[0], at[1], 0, len));
      else streamed([p, grad, buf], [0, 2], (at, len) => w.sgd(at[0], at[1], at[2], len));
    },
    adam(p, grad, m, v, s) {
      checkOptimArrays('adam', [p, grad, m, v]);
      setLayerParams(adamParams(s));
      streamed([p, grad, m, v], [0, 2, 3], (at, len) => w.adam(at[0], at[1], at[2], at[3], len));
    },
    im2col: (x, col, g) => convCall('im2col', x, col, g),
    col2im: (col, dx, g) => convCall('col2im', col, dx, g),
    swap01(src, dst, a, b, inner) {
      checkSwap01(src, dst, a, b, inner);
      const n = a * b * inner;
      const [ps, pd] = place('swap01', [4 * n, 4 * n]);
      heap.set(src.subarray(0, n), ps / 4);
      w.swap01(ps, pd, a, b, inner);
      out(dst, pd, n);
    },
    sumRows(g, outSums, rows, n) {
      checkSumRows(g, outSums, rows, n);
      const [pg, po] = place('sumRows', [4 * rows * n, 4 * n]);
      heap.set(g.subarray(0, rows * n), pg / 4);
      w.sum_rows(pg, po, rows, n);
      out(outSums, po, n);
    },
    relu(x, y) {
      checkRelu('relu', [x], y);
      const n = x.length;
      const [px, py] = place('relu', [4 * n, 4 * n]);
      heap.set(x, px / 4);
      w.relu(px, 0, py, n);
      out(y, py, n);
    },
    reluBackward(x, grad, dx) {
      checkRelu('reluBackward', [x, grad], dx);
      const n = x.length;
      const [px, pg, pd] = place('reluBackward', [4 * n, 4 * n, 4 * n]);
      heap.set(x, px / 4);
      heap.set(grad, pg / 4);
      w.relu(px, pg, pd, n);
      out(dx, pd, n);
    },
    maxPool2d(x, o, arg, g) {
      checkPool('maxPool2d', g, x, o, arg);
      const [xs, os] = poolSizes(g);
      const [px, po, pa] = place('maxPool2d', [4 * xs, 4 * os, 4 * os]);
      heap.set(x.subarray(0, xs), px / 4);
      setLayerParams(poolParams(g));
      w.max_pool(px, po, pa);
      out(o, po, os);
      arg.set(new Int32Array(w.memory.buffer, pa, os));
    },
    maxPool2dBackward(grad, arg, dx, g) {
      checkPool('maxPool2dBackward', g, dx, grad, arg);
      checkArgmax(arg, g);
      const [xs, os] = poolSizes(g);
      const [pg, pa, pd] = place('maxPool2dBackward', [4 * os, 4 * os, 4 * xs]);
      heap.set(grad.subarray(0, os), pg / 4);
      new Int32Array(w.memory.buffer, pa, os).set(arg.subarray(0, os));
      setLayerParams(poolParams(g));
      w.max_pool_backward(pg, pa, pd);
      out(dx, pd, xs);
    },
    avgPool2d(x, o, g) {
      checkPool('avgPool2d', g, x, o, null);
      const [xs, os] = poolSizes(g);
      const [px, po] = place('avgPool2d', [4 * xs, 4 * os]);
      heap.set(x.subarray(0, xs), px / 4);
      setLayerParams(poolParams(g));
      w.avg_pool(px, po);
      out(o, po, os);
    },
    avgPool2dBackward(grad, dx, g) {
      checkPool('avgPool2dBackward', g, dx, grad, null);
      const [xs, os] = poolSizes(g);
      const [pg, pd] = place('avgPool2dBackward', [4 * os, 4 * xs]);
      heap.set(grad.subarray(0, os), pg / 4);
      setLayerParams(poolParams(g));
      w.avg_pool_backward(pg, pd);
      out(dx, pd, xs);
    },
    accumulatedGemm(plan, transA, transB, m, n, k, a, b, c, accumulate, overflowed) {
      checkAccumulate(m, n, k, a, b, c, overflowed);
      const mn = m * n;
      if (mn === 0) return { swamped: 0, overflow: 0, underflow: 0 };
      new Float64Array(w.memory.buffer, w.accum_params_ptr(), AP.COUNT).set(plan.params);
      const work = 8 * w.accumulate_workspace(m, n, k);
      const [pa, pb, pc, po, pw] = place(`accumulatedGemm m=${m}, n=${n}, k=${k}`, [4 * m * k, 4 * k * n, 4 * mn, mn, work]);
      heap.set(a.subarray(0, m * k), pa / 4);
      heap.set(b.subarray(0, k * n), pb / 4);
      if (accumulate) heap.set(c.subarray(0, mn), pc / 4);
      w.accumulate(transA ? 1 : 0, transB ? 1 : 0, m, n, k, pa, pb, pc, accumulate ? 1 : 0, po, pw);
      out(c, pc, mn);
      overflowed.set(new Uint8Array(w.memory.buffer, po, mn));
      const counts = new Float64Array(w.memory.buffer, w.accum_counts_ptr(), 3);
      return { swamped: counts[0], overflow: counts[1], underflow: counts[2] };
    },
  };
}
