/** The layers of the model zoo, initialised as PyTorch initialises them by default. */
import { OptionError, UnsupportedError } from '../errors.js';
import { streamOf, StreamTag, uniforms } from '../rng/uniform.js';
import { relu } from '../tensor/ops/activation.js';
import { conv2d } from '../tensor/ops/conv.js';
import { dropout } from '../tensor/ops/dropout.js';
import { linear } from '../tensor/ops/matmul.js';
import { batchNorm } from '../tensor/ops/norm.js';
import { avgPool2d, globalAvgPool2d, maxPool2d } from '../tensor/ops/pool.js';
import { flatten } from '../tensor/ops/shape.js';
import type { ApproxLayer } from '../approx/layer.js';
import type { LayerPrecision } from '../precision/site.js';
import type { Product } from '../tensor/gemm.js';
import { Tensor } from '../tensor/tensor.js';
import { Module, type RandomContext } from './module.js';

/**
 * Draws initial values: each parameter gets its own Philox stream, numbered
 * in construction order, so a model's initial weights depend only on the seed.
 */
export class Initializer {
  private next = 0;
  constructor(readonly seed: number) {}

  /** A parameter of the given shape, uniform in [-bound, bound). */
  uniform(shape: readonly number[], bound: number): Tensor {
    const n = shape.reduce((p, d) => p * d, 1);
    const u = uniforms(this.seed, streamOf(StreamTag.Init, 0, this.next++), n);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = (2 * u[i] - 1) * bound;
    return new Tensor(data, shape, true);
  }

  constant(shape: readonly number[], value: number): Tensor {
    const n = shape.reduce((p, d) => p * d, 1);
    return new Tensor(new Float32Array(n).fill(value), shape, true);
  }
}

/**
 * A layer built around one matrix product (Linear, Conv2d): where precision
 * policies and sampled products attach. Forward rounds the input, the
 * parameters and the output through the precision site, if any, around the
 * exact product or, in training, the sampled one.
 */
abstract class ProductLayer extends Module {
  abstract readonly weight: Tensor;
  abstract readonly bias: Tensor | null;
  /** The precision site a policy attaches (src/precision); null computes in fp32. */
  precision: LayerPrecision | null = null;
  /** Sampled products in training (src/approx); null: exact. Evaluation is always exact. */
  approx: ApproxLayer | null = null;

  /** The product itself, through an emulated accumulator when `product` is given. */
  protected abstract exact(x: Tensor, w: Tensor, b: Tensor | null, product: Product | null): Tensor;
  protected abstract sampled(approx: ApproxLayer, x: Tensor, w: Tensor, b: Tensor | null, product: Product | null): Tensor;

  forward(x: Tensor): Tensor {
    const q = this.precision;
    const input = q ? q.input(x) : x;
    const w = q ? q.param(this.weight, 0) : this.weight;
    const b = q && this.bias ? q.param(this.bias, 1) : this.bias;
    const product = q?.product() ?? null;
    const sample = this.approx && this.training ? this.approx : null;
    if (sample && product && q?.masksOverflow && sample.settings.pass !== 'forward') {
      // Backward and black-box sampling compute their own gradients, which do not apply the overflow mask: say so rather than drop it.
      throw new UnsupportedError(`layer ${q.layer}: accumulatorGradient 'mask-overflow' works with forward sampling only, not '${sample.settings.pass}'`, 'use "accumulatorGradient": "ste" or "pass": "forward" for this layer');
    }
    const y = sample ? this.sampled(sample, input, w, b, product) : this.exact(input, w, b, product);
    return q ? q.output(y) : y;
  }
}

/** Fully connected: y = x·Wᵀ + b. PyTorch's default init: W and b uniform in ±1/√in. */
export class Linear extends ProductLayer {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  constructor(init: Initializer, readonly inFeatures: number, readonly outFeatures: number, bias = true) {
    super();
    const bound = 1 / Math.sqrt(inFeatures);
    this.weight = this.addParameter('weight', init.uniform([outFeatures, inFeatures], bound));
    this.bias = bias ? this.addParameter('bias', init.uniform([outFeatures], bound)) : null;
  }
  protected exact(x: Tensor, w: Tensor, b: Tensor | null, product: Product | null): Tensor {
    return linear(x, w, b, { product });
  }
  protected sampled(approx: ApproxLayer, x: Tensor, w: Tensor, b: Tensor | null, product: Product | null): Tensor {
    return approx.linear(x, w, b, product);
  }
}

/** 2-D convolution, square kernels. PyTorch's default init: uniform in ±1/√(in·k·k). */
export class Conv2d extends ProductLayer {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  constructor(
    init: Initializer,
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernel: number,
    readonly options: { stride?: number; padding?: number; bias?: boolean } = {},
  ) {
    super();
    const bound = 1 / Math.sqrt(inChannels * kernel * kernel);
    this.weight = this.addParameter('weight', init.uniform([outChannels, inChannels, kernel, kernel], bound));
    this.bias = options.bias === false ? null : this.addParameter('bias', init.uniform([outChannels], bound));
  }
  private get geometry(): { stride: number; padding: number } {
    return { stride: this.options.stride ?? 1, padding: this.options.padding ?? 0 };
  }
  protected exact(x: Tensor, w: Tensor, b: Tensor | null, product: Product | null): Tensor {
    return conv2d(x, w, b, { ...this.geometry, product });
  }
  protected sampled(approx: ApproxLayer, x: Tensor, w: Tensor, b: Tensor | null, product: Product | null): Tensor {
    return approx.conv2d(x, w, b, this.geometry, product);
  }
}

export class MaxPool2d extends Module {
  constructor(readonly kernel: number, readonly stride = kernel) {
    super();
  }
  forward(x: Tensor): Tensor {
    return maxPool2d(x, { kernel: this.kernel, stride: this.stride });
  }
}

export class AvgPool2d extends Module {
  constructor(readonly kernel: number, readonly stride = kernel) {
    super();
  }
  forward(x: Tensor): Tensor {
    return avgPool2d(x, { kernel: this.kernel, stride: this.stride });
  }
}

/** Averages each channel over the whole image: [N, C, H, W] → [N, C]. */
export class GlobalAvgPool2d extends Module {
  forward(x: Tensor): Tensor {
    return globalAvgPool2d(x);
  }
}

/** Batch normalisation over [N, C] or [N, C, H, W]; weight 1, bias 0, running mean 0 and variance 1 at the start. */
export class BatchNorm extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;
  readonly runningMean: Float32Array;
  readonly runningVar: Float32Array;
  constructor(init: Initializer, readonly channels: number, readonly momentum = 0.1, readonly eps = 1e-5) {
    super();
    this.weight = this.addParameter('weight', init.constant([channels], 1));
    this.bias = this.addParameter('bias', init.constant([channels], 0));
    this.runningMean = this.addBuffer('running_mean', new Float32Array(channels)) as Float32Array;
    this.runningVar = this.addBuffer('running_var', new Float32Array(channels).fill(1)) as Float32Array;
  }
  /** The precision site a policy attaches (src/precision); null computes in fp32. */
  precision: LayerPrecision | null = null;
  forward(x: Tensor): Tensor {
    const q = this.precision;
    const input = q ? q.input(x) : x;
    const w = q ? q.param(this.weight, 0) : this.weight;
    const b = q ? q.param(this.bias, 1) : this.bias;
    const y = batchNorm(input, w, b, { mean: this.runningMean, var: this.runningVar }, { training: this.training, momentum: this.momentum, eps: this.eps });
    return q ? q.output(y) : y;
  }
}

/**
 * Inverted dropout. The mask for a step comes from Philox with the stream
 * (layer index, training step), so it is the same on every backend and after
 * a resume.
 */
export class Dropout extends Module {
  constructor(readonly p: number, private readonly rng: RandomContext, private readonly index: number) {
    super();
    if (!(p >= 0 && p < 1)) throw new OptionError(`dropout probability ${p} is not in [0, 1)`, 'use e.g. 0.5');
  }
  forward(x: Tensor): Tensor {
    const stream = streamOf(StreamTag.Dropout, this.index, this.rng.step);
    return dropout(x, this.p, (n) => uniforms(this.rng.seed, stream, n), this.training);
  }
}

export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return relu(x);
  }
}

export class Flatten extends Module {
  forward(x: Tensor): Tensor {
    return flatten(x, 1);
  }
}

/** Layers applied in order, each under its own name. */
export class Sequential extends Module {
  private readonly layers: Module[];
  constructor(layers: readonly [string, Module][]) {
    super();
    this.layers = layers.map(([name, m]) => this.addModule(name, m));
  }
  forward(x: Tensor): Tensor {
    let y = x;
    for (const m of this.layers) y = m.forward(y);
    return y;
  }
}
