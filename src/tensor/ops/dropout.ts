/** Inverted dropout, with its randomness supplied by the caller. */
import { OptionError } from '../../errors.js';
import { accumulateGrad, opResult } from '../autograd.js';
import { alloc, Tensor, type FloatArray } from '../tensor.js';

/**
 * In training, zeroes each element with probability p and scales the kept
 * ones by 1/(1 - p), as PyTorch's Dropout. Element i is kept when
 * u[i] ≥ p, where u = uniforms(x.size) are uniforms in [0, 1) drawn from the
 * caller's counter-based generator (so a run is reproducible and resumable).
 * In eval, or with p = 0, x itself is returned and no uniforms are drawn.
 */
export function dropout(x: Tensor, p: number, uniforms: (n: number) => FloatArray, training: boolean): Tensor {
  if (typeof p !== 'number' || !(p >= 0 && p < 1)) {
    throw new OptionError(`dropout probability ${p} is outside [0, 1)`, 'use a probability p with 0 ≤ p < 1');
  }
  if (!training || p === 0) return x;
  const n = x.size;
  const u = uniforms(n);
  if (u.length !== n) {
    throw new OptionError(`dropout's uniforms gave ${u.length} values for ${n} elements`, 'the generator must return exactly n uniforms in [0, 1)');
  }
  const scale = 1 / (1 - p);
  const keep = new Uint8Array(n);
  const X = x.data;
  const out = alloc(x.dtype, n);
  for (let i = 0; i < n; i++) {
    if (u[i] >= p) {
      keep[i] = 1;
      out[i] = X[i] * scale;
    }
  }
  return opResult('dropout', out, x.shape, [x], (g) => {
    const dx = alloc(x.dtype, n);
    for (let i = 0; i < n; i++) if (keep[i]) dx[i] = g[i] * scale;
    accumulateGrad(x, dx);
  });
}
