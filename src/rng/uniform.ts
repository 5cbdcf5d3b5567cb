/**
 * Uniform draws from Philox for the training loop (initialisation, dropout):
 * u = word · 2^-32 in [0, 1). Each use names its own stream, so draws never
 * depend on what else consumed random numbers before.
 */
import { PhiloxStream } from './philox.js';

/** What a stream is for; part of the stream number, so purposes never share draws. */
export const enum StreamTag {
  Init = 1,
  Dropout = 2,
  /** Stochastic rounding of precision policies (src/precision). */
  Quantize = 3,
  /** Sampled products (src/approx): index = the approximated layer, step = the training step. */
  Approx = 4,
  /** Stochastic rounding inside emulated accumulators: index = the layer, step = 4 · training step + pass. */
  Accumulate = 5,
}

/** Stream number for (tag, index, step): 5 bits of tag, 8 of index (layer), 40 of step. */
export function streamOf(tag: StreamTag, index: number, step = 0): number {
  return tag * 2 ** 48 + (index % 256) * 2 ** 40 + step;
}

/** n uniforms in [0, 1) for (seed, stream), elements start .. start+n-1. */
export function uniforms(seed: number, stream: number, n: number, start = 0): Float64Array {
  const s = new PhiloxStream(seed, stream);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = s.word(start + i) * 2 ** -32;
  return out;
}
