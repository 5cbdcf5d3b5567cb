/**
 * npm run bench -- quantize [--n N] [--reps R] [--backends native,wasm,js] [--formats a;b] [--roundings nearest,stochastic]
 *
 * Quantizes N (default 16M) float32 values, out of cache, with each backend
 * at 1 and 2 threads (js and wasm run on one), and prints one JSON line per
 * configuration with elementsPerSecond and, measured in the same run on the
 * same arrays, copyElementsPerSecond: a plain copy at the same thread count,
 * the memory-bandwidth ceiling. Best of R repetitions for both.
 */
import { isNative, type BackendName } from '../src/backend/index.js';
import { kernelParams } from '../src/formats/quantize.js';
import { parseFormat } from '../src/formats/format.js';
import type { Rounding } from '../src/formats/grid.js';
import { arg, bestOf, loadableBackends } from './support.js';

const n = Number(arg('n', String(16 * 1024 * 1024)));
const reps = Number(arg('reps', '5'));
const backends = arg('backends', 'native,wasm,js').split(',') as BackendName[];
const formats = arg('formats', 'e5m2;e4m3;bf16;fixed<16,14>;posit<8,0>;posit<16,1>;mxfp8_e4m3').split(';');
const roundings = arg('roundings', 'nearest,stochastic').split(',') as Rounding[];

// Normal-ish data over a few binades, like activations: every value distinct.
const src = new Float32Array(n);
let s = 0x9e3779b9;
for (let i = 0; i < n; i++) {
  s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
  const u = s / 4294967296;
  src[i] = (u - 0.5) * 8 * Math.exp(((i * 2654435761) % 1000) / 250 - 2);
}
const dst = new Float32Array(n);

for (const k of loadableBackends(backends)) {
  const name = k.name;
  const threadCounts = isNative(k) ? [1, 2] : [1];
  for (const threads of threadCounts) {
    k.setThreads(threads);
    const copy = isNative(k) ? () => k.copy(src, dst) : () => dst.set(src);
    const r = name === 'js' ? 1 : reps;
    const copyRate = n / bestOf(copy, reps);
    for (const spec of formats) {
      for (const rounding of roundings) {
        const { kind, params } = kernelParams(parseFormat(spec), 'f32', { rounding, seed: 1 });
        const rate = n / bestOf(() => k.quantize(kind, src, dst, params), r);
        console.log(JSON.stringify({
          bench: 'quantize', format: spec, rounding, backend: name, threads, isa: k.isa(), n,
          elementsPerSecond: Math.round(rate), copyElementsPerSecond: Math.round(copyRate),
          fractionOfCopy: Number((rate / copyRate).toFixed(3)),
        }));
      }
    }
  }
}
