/**
 * npm run bench -- accumulator [--reps R] [--shape m,n,k] [--models 'SPEC;SPEC;...']
 *
 * The TypeScript reference accumulator models (src/precision/accumulator.ts)
 * on one product (default 64×64×256): nanoseconds per multiply-add, best of
 * R after a warm-up, one JSON line per model. `fp32` runs the active
 * backend's GEMM (named in the line); every other model is the reference
 * loop. A baseline for the C port.
 */
import { getBackend } from '../src/backend/index.js';
import { accumulatedGemm } from '../src/precision/accumulator.js';
import { arg, bestOf, fill } from './support.js';

const DEFAULT_MODELS = [
  'fp32',
  'exact',
  'float<8,23>',
  'fp16',
  'bf16 rounding=stochastic',
  'float<4,7,bias=10> product=float<4,7,bias=12> rounding=down order=chunk:16 underflow=flush overflow=saturate',
  'posit<16,1>',
  'posit<8,0> product=posit<8,0>',
  'fixed<16,8>',
  'int<32,wrap>',
].join(';');

const reps = Number(arg('reps', '5'));
const [m, n, k] = arg('shape', '64,64,256').split(',').map(Number);
const models = arg('models', DEFAULT_MODELS).split(';');

const a = fill(m * k, 1), b = fill(k * n, 2), c = new Float32Array(m * n);
const backend = getBackend();
for (const model of models) {
  const seconds = bestOf(() => accumulatedGemm(model, false, false, m, n, k, a, b, c, false, { seed: 1 }), reps, 0.2);
  console.log(JSON.stringify({
    bench: 'accumulator', model, backend: model === 'fp32' ? backend.name : 'js', isa: model === 'fp32' ? backend.isa() : 'js',
    threads: model === 'fp32' ? backend.threads() : 1, m, n, k,
    nsPerMac: Number(((seconds * 1e9) / (m * n * k)).toPrecision(4)), seconds: Number(seconds.toPrecision(4)),
  }));
}
