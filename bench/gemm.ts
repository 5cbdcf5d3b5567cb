/**
 * npm run bench -- gemm [--reps R] [--backends native,wasm,js] [--shapes m,n,k,tA,tB;...]
 *
 * fp32 GEMM throughput (2·m·n·k / seconds, best of R after a warm-up) at
 * 1024³ in all four transpose combinations, 512³, and the shapes the
 * training loop runs (LeNet-style conv and MLP layers, forward and both
 * backward products). Native runs at 1 and 2 threads, wasm on one, js on
 * one small shape only. Prints one JSON line per configuration.
 */
import { isNative, type BackendName } from '../src/backend/index.js';
import { arg, bestOf, fill, loadableBackends } from './support.js';

interface Shape { m: number; n: number; k: number; transA: boolean; transB: boolean }

function parseShapes(s: string): Shape[] {
  return s.split(';').map((t) => {
    const [m, n, k, ta, tb] = t.split(',');
    return { m: Number(m), n: Number(n), k: Number(k), transA: ta === '1', transB: tb === '1' };
  });
}

const DEFAULT_SHAPES = [
  '1024,1024,1024,0,0', '1024,1024,1024,1,0', '1024,1024,1024,0,1', '1024,1024,1024,1,1', '512,512,512,0,0',
  // MLP 784-1000-10, batch 100: forward, grad input (·Wᵀ), grad weight (Xᵀ·)
  '100,1000,784,0,0', '100,784,1000,0,1', '784,1000,100,1,0', '1000,784,100,1,0', '100,10,1000,0,0', '100,1000,10,0,1',
  // conv layers as GEMM (im2col): 6 filters over 224² patches of 25, 16 filters over 6·25 patches, batch rows
  '6,25,50176,0,1', '16,150,6400,0,0', '64,784,150,0,0', '6,50176,25,0,0',
].join(';');

const reps = Number(arg('reps', '5'));
const backends = arg('backends', 'native,wasm,js').split(',') as BackendName[];
const shapes = parseShapes(arg('shapes', DEFAULT_SHAPES));
const JS_SHAPE: Shape = { m: 64, n: 64, k: 64, transA: false, transB: false };

for (const k of loadableBackends(backends)) {
  const name = k.name;
  const threadCounts = isNative(k) ? [1, 2] : [1];
  const list = name === 'js' ? [JS_SHAPE] : shapes;
  for (const threads of threadCounts) {
    k.setThreads(threads);
    for (const s of list) {
      const a = fill(s.m * s.k, 1), b = fill(s.k * s.n, 2), c = new Float32Array(s.m * s.n);
      const seconds = bestOf(() => k.gemm(s.transA, s.transB, s.m, s.n, s.k, a, b, c, false), name === 'js' ? 1 : reps, 0.2);
      const gflops = (2 * s.m * s.n * s.k) / seconds / 1e9;
      console.log(JSON.stringify({
        bench: 'gemm', backend: name, isa: k.isa(), threads, m: s.m, n: s.n, k: s.k, transA: s.transA, transB: s.transB,
        gflops: Number(gflops.toFixed(2)), seconds: Number(seconds.toPrecision(4)),
      }));
    }
  }
}
