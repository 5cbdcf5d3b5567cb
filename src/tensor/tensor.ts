/**
 * The Tensor: a dense row-major array with a shape, and the autograd node
 * that made it. float32 is the carrier every training run uses; float64
 * exists so that gradients can be checked against finite differences
 * without float32's noise drowning the comparison.
 */
import { OptionError } from '../errors.js';

export type DType = 'float32' | 'float64';
export type FloatArray = Float32Array | Float64Array;
export type Shape = readonly number[];

/** How a tensor's gradient flows into the tensors it was computed from. */
export interface GradFn {
  /** The op's name, for error messages and debugging. */
  readonly op: string;
  readonly inputs: readonly Tensor[];
  /** Adds the gradients of `inputs` (those that need one) given the output's gradient. */
  backward(grad: FloatArray): void;
}

export class Tensor {
  readonly shape: Shape;
  readonly size: number;
  data: FloatArray;
  /** The gradient, once backward has reached this tensor (leaves keep it; intermediates release it). */
  grad: FloatArray | null = null;
  /** A leaf that wants a gradient (a parameter), or a result computed from one. */
  readonly requiresGrad: boolean;
  /** Null for leaves and for results computed without gradient tracking. */
  gradFn: GradFn | null;

  constructor(data: FloatArray, shape: Shape, requiresGrad = false, gradFn: GradFn | null = null) {
    const size = shapeSize(shape);
    if (data.length !== size) {
      throw new OptionError(`tensor data has ${data.length} elements but shape [${shape.join(', ')}] needs ${size}`, 'pass data whose length is the product of the shape');
    }
    this.data = data;
    this.shape = Object.freeze([...shape]);
    this.size = size;
    this.requiresGrad = requiresGrad;
    this.gradFn = gradFn;
  }

  get dtype(): DType {
    return this.data instanceof Float64Array ? 'float64' : 'float32';
  }

  get ndim(): number {
    return this.shape.length;
  }

  /** The gradient, allocated (zeroed) on first use. */
  gradOrZeros(): FloatArray {
    return (this.grad ??= alloc(this.dtype, this.size));
  }

  /** A copy of the values as a plain array (for tests and small outputs). */
  toArray(): number[] {
    return Array.from(this.data);
  }

  /** The value of a one-element tensor. */
  item(): number {
    if (this.size !== 1) throw new OptionError(`item() needs a one-element tensor, got shape [${this.shape.join(', ')}]`, 'reduce it first, e.g. with sum() or mean()');
    return this.data[0];
  }
}

export function shapeSize(shape: Shape): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new OptionError(`bad tensor shape [${shape.join(', ')}]`, 'dimensions are non-negative integers');
    n *= d;
  }
  return n;
}

export function alloc(dtype: DType, n: number): FloatArray {
  return dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function shapeString(s: Shape): string {
  return `[${s.join(', ')}]`;
}

/** A tensor from values; float32 unless float64 data or dtype is given. */
export function tensor(values: ArrayLike<number> | FloatArray, shape?: Shape, options: { dtype?: DType; requiresGrad?: boolean } = {}): Tensor {
  const dtype = options.dtype ?? (values instanceof Float64Array ? 'float64' : 'float32');
  const data = alloc(dtype, values.length);
  data.set(values);
  return new Tensor(data, shape ?? [values.length], options.requiresGrad ?? false);
}

export function zeros(shape: Shape, dtype: DType = 'float32', requiresGrad = false): Tensor {
  return new Tensor(alloc(dtype, shapeSize(shape)), shape, requiresGrad);
}

export function full(shape: Shape, value: number, dtype: DType = 'float32'): Tensor {
  const t = zeros(shape, dtype);
  t.data.fill(value);
  return t;
}
