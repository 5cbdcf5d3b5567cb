/**
 * Adam and AdamW exactly as torch.optim.Adam / AdamW (amsgrad = false,
 * maximize = false, the single-tensor path). Per parameter, with t its own
 * step count (a parameter skipped for lack of a gradient does not advance):
 *
 *   AdamW:  p = p·(1 − lr·weightDecay)           (decoupled decay)
 *   Adam:   g = grad + weightDecay·p             (L2 on the gradient)
 *   m = lerp(m, g, 1 − β1)                        (= β1·m + (1 − β1)·g, PyTorch's lerp_)
 *   v = β2·v + (1 − β2)·g²
 *   stepSize = lr / (1 − β1^t)
 *   denom = √v / √(1 − β2^t) + eps
 *   p = p − stepSize·m / denom
 *
 * Each element is computed in float64; m and v are stored in the
 * parameter's dtype and the stored values are what the update reads (as in
 * PyTorch, where they only exist in that dtype); p is rounded once, at the
 * end. For float64 parameters this is PyTorch's arithmetic; for float32 it
 * can differ from PyTorch's float32 arithmetic in the last bit. The loop
 * is the backend's adam kernel (src/backend/optim.ts is its reference, also
 * used for float64).
 *
 * State: '<param>.exp_avg', '<param>.exp_avg_sq' (parameter dtype) and
 * '<param>.step' (the per-parameter count t, one float64 element).
 */
import { getBackend } from '../backend/index.js';
import type { AdamStep } from '../backend/kernels.js';
import { referenceAdam } from '../backend/optim.js';
import { OptionError } from '../errors.js';
import type { FloatArray, Tensor } from '../tensor/tensor.js';
import { checkKnown, numberOption } from './options.js';
import { Optimizer, type NamedParameters, type Slot } from './optimizer.js';

export interface AdamOptions {
  lr: number;
  /** Default [0.9, 0.999]; each in [0, 1). */
  betas?: readonly [number, number];
  /** Default 1e-8; ≥ 0. */
  eps?: number;
  /** Adam: L2 added to the gradient, default 0. AdamW: decoupled decay, default 0.01. */
  weightDecay?: number;
}

export const ADAM_OPTIONS = ['lr', 'betas', 'eps', 'weightDecay'] as const;

const SLOTS: readonly Slot[] = [{ name: 'exp_avg' }, { name: 'exp_avg_sq' }, { name: 'step', counter: true }];

abstract class AdamBase extends Optimizer {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  protected abstract readonly decoupled: boolean;

  constructor(name: 'adam' | 'adamw', params: NamedParameters, options: AdamOptions) {
    checkKnown(name, options, ADAM_OPTIONS);
    super(params, options.lr);
    const betas = options.betas ?? [0.9, 0.999];
    if (!Array.isArray(betas) || betas.length !== 2) throw new OptionError(`${name} option betas = ${JSON.stringify(betas)} is not a pair of numbers`, 'betas is [beta1, beta2], each in [0, 1), e.g. [0.9, 0.999]');
    this.beta1 = numberOption(name, 'betas[0]', betas[0], 0, 1, { max: true });
    this.beta2 = numberOption(name, 'betas[1]', betas[1], 0, 1, { max: true });
    this.eps = numberOption(name, 'eps', options.eps ?? 1e-8, 0, Infinity);
    this.weightDecay = numberOption(name, 'weightDecay', options.weightDecay ?? (name === 'adamw' ? 0.01 : 0), 0, Infinity);
  }

  protected slotList(): readonly Slot[] {
    return SLOTS;
  }

  protected update(name: string, param: Tensor, grad: FloatArray): void {
    const m = this.slot(name, param, 'exp_avg');
    const v = this.slot(name, param, 'exp_avg_sq');
    const count = this.slot(name, param, 'step', true);
    const t = ++count[0];
    const lr = this.lr;
    const step: AdamStep = {
      stepSize: lr / (1 - this.beta1 ** t),
      bc2Sqrt: Math.sqrt(1 - this.beta2 ** t),
      w: 1 - this.beta1,
      beta2: this.beta2,
      eps: this.eps,
      decay: this.decoupled ? 1 - lr * this.weightDecay : 1,
      l2: this.decoupled ? 0 : this.weightDecay,
    };
    const p = param.data;
    // float32 runs on the backend's kernel; float64 (gradient checks) on the reference loop
    if (p instanceof Float32Array && grad instanceof Float32Array && m instanceof Float32Array && v instanceof Float32Array) getBackend().adam(p, grad, m, v, step);
    else referenceAdam(p, grad, m, v, step);
  }
}

export class Adam extends AdamBase {
  readonly name = 'adam';
  protected readonly decoupled = false;
  constructor(params: NamedParameters, options: AdamOptions) {
    super('adam', params, options);
  }
}

export class AdamW extends AdamBase {
  readonly name = 'adamw';
  protected readonly decoupled = true;
  constructor(params: NamedParameters, options: AdamOptions) {
    super('adamw', params, options);
  }
}
