/**
 * Modules: named trees of layers with parameters, in PyTorch's style. Names
 * are the path of attribute names ('layer1.0.conv1.weight'), fixed by the
 * model definition, so checkpoints and per-layer precision policies can
 * address them.
 */
import { Tensor, type FloatArray } from '../tensor/tensor.js';

/** The run-wide random state layers draw from: the seed and the training step. */
export interface RandomContext {
  seed: number;
  step: number;
}

export abstract class Module {
  /** Training mode (dropout active, batch-norm uses batch statistics). */
  training = true;
  private readonly children = new Map<string, Module>();
  private readonly params = new Map<string, Tensor>();
  private readonly buffers = new Map<string, FloatArray>();

  abstract forward(x: Tensor): Tensor;

  protected addModule<M extends Module>(name: string, m: M): M {
    this.children.set(name, m);
    return m;
  }

  protected addParameter(name: string, t: Tensor): Tensor {
    this.params.set(name, t);
    return t;
  }

  /** State saved with the weights but not trained (batch-norm running statistics). */
  protected addBuffer(name: string, b: FloatArray): FloatArray {
    this.buffers.set(name, b);
    return b;
  }

  /** This module and every descendant with its dotted path ('' for this one), depth first in definition order. */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [name, m] of this.children) out.push(...m.namedModules(prefix ? `${prefix}.${name}` : name));
    return out;
  }

  namedParameters(): [string, Tensor][] {
    return this.namedModules().flatMap(([path, m]) => [...m.params].map(([n, t]): [string, Tensor] => [path ? `${path}.${n}` : n, t]));
  }

  namedBuffers(): [string, FloatArray][] {
    return this.namedModules().flatMap(([path, m]) => [...m.buffers].map(([n, b]): [string, FloatArray] => [path ? `${path}.${n}` : n, b]));
  }

  parameterCount(): number {
    return this.namedParameters().reduce((s, [, t]) => s + t.size, 0);
  }

  /** Sets training mode on this module and all its descendants. */
  train(on = true): this {
    for (const [, m] of this.namedModules()) m.training = on;
    return this;
  }

  eval(): this {
    return this.train(false);
  }
}
