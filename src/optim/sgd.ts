/**
 * Stochastic gradient descent exactly as torch.optim.SGD (single-tensor,
 * maximize = false):
 *
 *   g = grad + weightDecay·p
 *   if momentum ≠ 0:
 *     buf = g on the parameter's first update, else momentum·buf + (1 − dampening)·g
 *     g = nesterov ? g + momentum·buf : buf
 *   p = p − lr·g
 *
 * Each element is computed in float64 and stored (buf, then p) in the
 * parameter's dtype; for float64 parameters this is PyTorch's arithmetic.
 * The loop is the backend's sgd kernel (src/backend/optim.ts is its
 * reference, also used for float64).
 */
import { getBackend } from '../backend/index.js';
import type { SgdStep } from '../backend/kernels.js';
import { referenceSgd } from '../backend/optim.js';
import { OptionError } from '../errors.js';
import type { FloatArray, Tensor } from '../tensor/tensor.js';
import { checkKnown, numberOption } from './options.js';
import { Optimizer, type NamedParameters, type Slot } from './optimizer.js';

export interface SGDOptions {
  lr: number;
  /** Default 0 (no momentum, no state). In [0, 1). */
  momentum?: number;
  /** Default 0. In [0, 1]. */
  dampening?: number;
  /** L2 penalty added to the gradient. Default 0. */
  weightDecay?: number;
  /** Default false; needs momentum > 0 and dampening 0. */
  nesterov?: boolean;
}

export const SGD_OPTIONS = ['lr', 'momentum', 'dampening', 'weightDecay', 'nesterov'] as const;

const MOMENTUM: readonly Slot[] = [{ name: 'momentum' }];

export class SGD extends Optimizer {
  readonly name = 'sgd';
  readonly momentum: number;
  readonly dampening: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;

  constructor(params: NamedParameters, options: SGDOptions) {
    checkKnown('sgd', options, SGD_OPTIONS);
    super(params, options.lr);
    this.momentum = numberOption('sgd', 'momentum', options.momentum ?? 0, 0, 1, { max: true });
    this.dampening = numberOption('sgd', 'dampening', options.dampening ?? 0, 0, 1);
    this.weightDecay = numberOption('sgd', 'weightDecay', options.weightDecay ?? 0, 0, Infinity);
    const nesterov = options.nesterov ?? false;
    if (typeof nesterov !== 'boolean') throw new OptionError(`sgd option nesterov = ${String(nesterov)} is not a boolean`, 'nesterov is true or false');
    if (nesterov && (this.momentum <= 0 || this.dampening !== 0)) {
      throw new OptionError(`sgd option nesterov needs momentum > 0 and dampening 0 (got momentum ${this.momentum}, dampening ${this.dampening})`, 'set momentum, e.g. 0.9, and leave dampening at 0');
    }
    this.nesterov = nesterov;
  }

  protected slotList(): readonly Slot[] {
    return this.momentum !== 0 ? MOMENTUM : [];
  }

  protected update(name: string, param: Tensor, grad: FloatArray): void {
    const first = this.momentum !== 0 && !this.slots.has(`${name}.momentum`);
    const buf = this.momentum !== 0 ? this.slot(name, param, 'momentum') : null;
    const step: SgdStep = { lr: this.lr, weightDecay: this.weightDecay, momentum: this.momentum, dampening: this.dampening, nesterov: this.nesterov, first };
    const p = param.data;
    // float32 runs on the backend's kernel; float64 (gradient checks) on the reference loop
    if (p instanceof Float32Array && grad instanceof Float32Array && (buf === null || buf instanceof Float32Array)) getBackend().sgd(p, grad, buf, step);
    else referenceSgd(p, grad, buf, step);
  }
}
