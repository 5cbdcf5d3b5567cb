/** Point-wise nonlinearities. Each backward uses whichever of input or output gives the cheaper exact derivative. */
import { getBackend } from '../../backend/index.js';
import { referenceRelu, referenceReluBackward } from '../../backend/activation.js';
import { accumulateGrad, opResult } from '../autograd.js';
import { alloc, Tensor, type FloatArray } from '../tensor.js';

function unary(op: string, a: Tensor, f: (x: number) => number, grad: (x: number, y: number) => number): Tensor {
  const x = a.data;
  const y = alloc(a.dtype, a.size);
  for (let i = 0; i < y.length; i++) y[i] = f(x[i]);
  return opResult(op, y, a.shape, [a], (g: FloatArray) => {
    const d = alloc(a.dtype, a.size);
    for (let i = 0; i < d.length; i++) d[i] = g[i] * grad(x[i], y[i]);
    accumulateGrad(a, d);
  });
}

/**
 * max(x, 0), with NaN kept and the gradient at 0 taken as 0, as in PyTorch
 * (src/backend/activation.ts defines both exactly): float32 on the
 * backend's kernels, float64 (gradient checks) on the reference loops.
 */
export function relu(a: Tensor): Tensor {
  const x = a.data;
  const y = alloc(a.dtype, x.length);
  if (x instanceof Float32Array && y instanceof Float32Array) getBackend().relu(x, y);
  else referenceRelu(x, y);
  return opResult('relu', y, a.shape, [a], (g) => {
    const d = alloc(a.dtype, x.length);
    if (x instanceof Float32Array && g instanceof Float32Array && d instanceof Float32Array) getBackend().reluBackward(x, g, d);
    else referenceReluBackward(x, g, d);
    accumulateGrad(a, d);
  });
}

export function sigmoid(a: Tensor): Tensor {
  return unary('sigmoid', a, (x) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))), (_x, y) => y * (1 - y));
}

export function tanh(a: Tensor): Tensor {
  return unary('tanh', a, Math.tanh, (_x, y) => 1 - y * y);
}

const INV_SQRT2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/** x·Φ(x) with the exact normal CDF (PyTorch's default, approximate='none'). */
export function gelu(a: Tensor): Tensor {
  return unary(
    'gelu',
    a,
    (x) => 0.5 * x * (1 + erf(x * INV_SQRT2)),
    (x) => 0.5 * (1 + erf(x * INV_SQRT2)) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x),
  );
}

/**
 * The error function to about 1e-15: its Maclaurin series where it converges
 * quickly, a continued fraction for erfc in the tails. JavaScript has no erf.
 */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax < 2.5) {
    // erf(x) = 2/√π Σ (-1)^n x^(2n+1) / (n! (2n+1))
    const x2 = x * x;
    let term = x;
    let sum = x;
    for (let n = 1; n < 60; n++) {
      term *= -x2 / n;
      const t = term / (2 * n + 1);
      sum += t;
      if (Math.abs(t) < 1e-17 * Math.abs(sum)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  if (ax > 6) return Math.sign(x);
  // erfc(x) = exp(-x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))), evaluated from the tail.
  let f = ax;
  for (let k = 60; k >= 1; k--) f = ax + k / 2 / f;
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return Math.sign(x) * (1 - erfc);
}
