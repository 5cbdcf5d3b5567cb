/**
 * The reference backend: every kernel written plainly over the exact scalar
 * definitions in src/formats. It is the specification the C kernels are
 * tested against, and it also serves float64 arrays on every backend.
 */
import { blockScaleOf, scaleGrid } from '../formats/block.js';
import { EVENT_FLUSH, EVENT_NAN, EVENT_OVERFLOW, Mode, lastEvent, roundToGrid } from '../formats/grid.js';
import { PositFormat } from '../formats/posit.js';
import { PhiloxStream } from '../rng/philox.js';
import { referenceAccumulate } from '../precision/accumulator-reference.js';
import { checkAccumulate } from './accumulate.js';
import { checkRelu, referenceRelu, referenceReluBackward } from './activation.js';
import { checkSumRows, referenceSumRows } from './reduce.js';
import { checkConv, checkSwap01, referenceCol2im, referenceIm2col, referenceSwap01 } from './conv.js';
import { checkGemm, referenceGemm } from './gemm.js';
import type { Kernels, QuantizeCounts } from './kernels.js';
import { checkOptimArrays, referenceAdam, referenceSgd } from './optim.js';
import { KernelKind, P, unpackBlocks, unpackGrid, unpackRandom, unpackRounding } from './params.js';
import { checkArgmax, checkPool, referenceAvgPool, referenceAvgPoolBackward, referenceMaxPool, referenceMaxPoolBackward } from './pool.js';

type FloatArray = Float32Array | Float64Array;

const posits = new Map<string, PositFormat>();
function positOf(width: number, es: number): PositFormat {
  const key = `${width},${es}`;
  let f = posits.get(key);
  if (!f) posits.set(key, (f = new PositFormat({ family: 'posit', width, es })));
  return f;
}

function count(c: QuantizeCounts, ev: number): void {
  if (ev === EVENT_OVERFLOW) c.overflow++;
  else if (ev === EVENT_FLUSH) c.flushed++;
  else if (ev === EVENT_NAN) c.nan++;
}

/** Quantizes src[begin, end) into dst, drawing random words for element i at index offset + i. */
export function referenceQuantize(kind: KernelKind, src: FloatArray, dst: FloatArray, params: Float64Array): QuantizeCounts {
  const r = unpackRounding(params);
  const rs = unpackRandom(params);
  const rng = r.mode === Mode.Stochastic ? new PhiloxStream(rs.seed, rs.stream) : null;
  const c: QuantizeCounts = { overflow: 0, flushed: 0, nan: 0 };
  const n = src.length;
  if (kind === KernelKind.Grid) {
    const g = unpackGrid(params);
    for (let i = 0; i < n; i++) {
      dst[i] = roundToGrid(src[i], g, r, rng ? rng.word(rs.offset + i) : 0);
      count(c, lastEvent);
    }
  } else if (kind === KernelKind.Posit) {
    const f = positOf(params[P.POSIT_WIDTH], params[P.POSIT_ES]);
    for (let i = 0; i < n; i++) {
      const x = src[i];
      if (Number.isNaN(x) || !Number.isFinite(x)) c.nan++;
      else if (Math.abs(x) > f.maxFinite) c.overflow++;
      dst[i] = f.decode(f.encodeWith(x, r, rng ? rng.word(rs.offset + i) : 0));
    }
  } else {
    const b = unpackBlocks(params);
    const sat = { ...r, saturate: true };
    for (let start = 0; start < n; start += b.blockSize) {
      const end = Math.min(n, start + b.blockSize);
      const k = blockScaleOf(src, start, end, b);
      if (Number.isNaN(k)) {
        for (let i = start; i < end; i++) dst[i] = NaN;
        c.nan += end - start;
        continue;
      }
      const g = scaleGrid(b.element, k);
      for (let i = start; i < end; i++) {
        dst[i] = roundToGrid(src[i], g, sat, rng ? rng.word(rs.offset + i) : 0);
        count(c, lastEvent);
      }
    }
  }
  return c;
}

export const jsKernels: Kernels = {
  name: 'js',
  isa: () => 'js',
  threads: () => 1,
  setThreads: () => 1,
  quantize: referenceQuantize,
  gemm(transA, transB, m, n, k, a, b, c, accumulate) {
    checkGemm(m, n, k, a, b, c);
    referenceGemm(transA, transB, m, n, k, a, b, c, accumulate);
  },
  sgd(p, grad, buf, s) {
    checkOptimArrays('sgd', [p, grad, buf]);
    referenceSgd(p, grad, buf, s);
  },
  adam(p, grad, m, v, s) {
    checkOptimArrays('adam', [p, grad, m, v]);
    referenceAdam(p, grad, m, v, s);
  },
  im2col(x, col, g) {
    checkConv('im2col', g, x, col);
    referenceIm2col(x, col, g);
  },
  col2im(col, dx, g) {
    checkConv('col2im', g, col, dx);
    referenceCol2im(col, dx, g);
  },
  swap01(src, dst, a, b, inner) {
    checkSwap01(src, dst, a, b, inner);
    referenceSwap01(src, dst, a, b, inner);
  },
  sumRows(g, out, rows, n) {
    checkSumRows(g, out, rows, n);
    referenceSumRows(g, out, rows, n);
  },
  relu(x, y) {
    checkRelu('relu', [x], y);
    referenceRelu(x, y);
  },
  reluBackward(x, grad, dx) {
    checkRelu('reluBackward', [x, grad], dx);
    referenceReluBackward(x, grad, dx);
  },
  maxPool2d(x, out, arg, g) {
    checkPool('maxPool2d', g, x, out, arg);
    referenceMaxPool(x, out, arg, g);
  },
  maxPool2dBackward(grad, arg, dx, g) {
    checkPool('maxPool2dBackward', g, dx, grad, arg);
    checkArgmax(arg, g);
    referenceMaxPoolBackward(grad, arg, dx, g);
  },
  avgPool2d(x, out, g) {
    checkPool('avgPool2d', g, x, out, null);
    referenceAvgPool(x, out, g);
  },
  avgPool2dBackward(grad, dx, g) {
    checkPool('avgPool2dBackward', g, dx, grad, null);
    referenceAvgPoolBackward(grad, dx, g);
  },
  accumulatedGemm(plan, transA, transB, m, n, k, a, b, c, accumulate, overflowed) {
    checkAccumulate(m, n, k, a, b, c, overflowed);
    return referenceAccumulate(plan.model, plan.output, plan.seed, plan.stream, transA, transB, m, n, k, a, b, c, accumulate, overflowed);
  },
};
