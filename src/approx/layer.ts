/**
 * One approximated layer: its settings, its own random stream, and its
 * multiply-add count. Linear and Conv2d call it in training only, so
 * evaluation is always exact.
 */
import { streamOf, StreamTag, uniforms } from '../rng/uniform.js';
import type { Product } from '../tensor/gemm.js';
import type { Conv2dOptions } from '../tensor/ops/conv.js';
import type { Tensor } from '../tensor/tensor.js';
import { sampledConv2d } from './conv.js';
import { sampledLinear, type Pass } from './linear.js';
import { MacCount } from './macs.js';
import { createSampler, PRODUCTS, type Sampler, type SamplerSettings } from './sampler.js';

export interface LayerSettings extends SamplerSettings {
  readonly pass: Pass;
}

/** The run's seed and the current training step (the model's RandomContext). */
export interface StepClock {
  readonly seed: number;
  readonly step: number;
}

export class ApproxLayer {
  readonly macs = new MacCount();

  /**
   * `index` (0..255) numbers the layer's stream: its draws at step t come
   * from Philox stream (Approx, index, t), product p's from element
   * p·2³² on (and a second draw of the product, topk-est's, from p·2³² + 2³¹),
   * so they never depend on what else drew before.
   */
  constructor(readonly name: string, readonly settings: LayerSettings, private readonly clock: StepClock, readonly index: number) {}

  /** The layer's sampled products; `product` is its emulated accumulator (null: fp32). */
  linear(x: Tensor, w: Tensor, bias: Tensor | null, product: Product | null = null): Tensor {
    return sampledLinear(x, w, bias, this.settings.pass, this.sampler(), this.macs, product);
  }

  conv2d(x: Tensor, w: Tensor, bias: Tensor | null, opts: Conv2dOptions, product: Product | null = null): Tensor {
    return sampledConv2d(x, w, bias, opts, this.settings.pass, this.sampler(), this.macs, product);
  }

  /** The sampler of this step; the backward products, run later, still draw from the step their forward ran in. */
  private sampler(): Sampler {
    const seed = this.clock.seed;
    const stream = streamOf(StreamTag.Approx, this.index, this.clock.step);
    return createSampler(this.settings, (product) => (count, part) => uniforms(seed, stream, count, PRODUCTS.indexOf(product) * 2 ** 32 + part * 2 ** 31));
  }
}
