/**
 * npm run bench -- layers [--reps R] [--backends native,wasm,js]
 *
 * Milliseconds per call (best of R after a warm-up) of the training loop's
 * kernels besides GEMM, at the sizes the MNIST benchmarks run: an SGD
 * momentum step and an Adam step over the MLP's 1.8 M parameters, LeNet-5's
 * im2col / col2im (batch 64, both convolutions), its 2×2 max-pool forward
 * and backward, and the [OC, N, ·] → [N, OC, ·] swap. Native runs at 1 and 2
 * threads, wasm and js on one. One JSON line per kernel and configuration.
 */
import { isNative, type BackendName, type Kernels } from '../src/backend/index.js';
import type { ConvGeometry, PoolGeometry } from '../src/backend/kernels.js';
import { arg, bestOf, fill, loadableBackends } from './support.js';

const reps = Number(arg('reps', '10'));
const backends = arg('backends', 'native,wasm,js').split(',') as BackendName[];

const MLP_PARAMS = 784 * 1000 + 1000 + 1000 * 1000 + 1000 + 1000 * 10 + 10;
const CONV1: ConvGeometry = { N: 64, C: 1, H: 28, W: 28, KH: 5, KW: 5, OH: 28, OW: 28, stride: 1, padding: 2 };
const CONV2: ConvGeometry = { N: 64, C: 6, H: 14, W: 14, KH: 5, KW: 5, OH: 10, OW: 10, stride: 1, padding: 0 };
const POOL1: PoolGeometry = { planes: 64 * 6, H: 28, W: 28, K: 2, stride: 2, padding: 0, OH: 14, OW: 14 };

/** name → a call to time, its arrays made once. */
function cases(k: Kernels): [string, () => void][] {
  const p = fill(MLP_PARAMS, 1), g = fill(MLP_PARAMS, 2), buf = fill(MLP_PARAMS, 3), v = fill(MLP_PARAMS, 4).map(Math.abs);
  const sgd = { lr: 0.01, weightDecay: 0, momentum: 0.9, dampening: 0, nesterov: false, first: false };
  const adam = { stepSize: 0.001 / (1 - 0.9 ** 10), bc2Sqrt: Math.sqrt(1 - 0.999 ** 10), w: 0.1, beta2: 0.999, eps: 1e-8, decay: 1, l2: 0 };
  const out: [string, () => void][] = [
    [`sgd momentum, ${MLP_PARAMS} params`, () => k.sgd(p, g, buf, sgd)],
    [`adam, ${MLP_PARAMS} params`, () => k.adam(p, g, buf, v, adam)],
  ];
  for (const [name, c] of [['conv1', CONV1], ['conv2', CONV2]] as const) {
    const x = fill(c.N * c.C * c.H * c.W, 5);
    const col = new Float32Array(c.C * c.KH * c.KW * c.N * c.OH * c.OW);
    out.push([`im2col ${name}`, () => k.im2col(x, col, c)], [`col2im ${name}`, () => k.col2im(col, x, c)]);
  }
  const px = fill(POOL1.planes * POOL1.H * POOL1.W, 6);
  const po = new Float32Array(POOL1.planes * POOL1.OH * POOL1.OW);
  const pa = new Int32Array(po.length);
  k.maxPool2d(px, po, pa, POOL1);
  out.push([`maxPool2d pool1`, () => k.maxPool2d(px, po, pa, POOL1)], [`maxPool2dBackward pool1`, () => k.maxPool2dBackward(po, pa, px, POOL1)]);
  const s = fill(6 * 64 * 784, 7), d = new Float32Array(s.length);
  out.push(['swap01 [6, 64, 784]', () => k.swap01(s, d, 6, 64, 784)]);
  return out;
}

for (const k of loadableBackends(backends)) {
  const list = cases(k);
  for (const threads of isNative(k) ? [1, 2] : [1]) {
    k.setThreads(threads);
    for (const [name, fn] of list) {
      const seconds = bestOf(fn, k.name === 'js' ? Math.min(reps, 3) : reps, 0.1);
      console.log(JSON.stringify({ bench: 'layers', kernel: name, backend: k.name, isa: k.isa(), threads, ms: Number((seconds * 1e3).toPrecision(4)) }));
    }
  }
}
