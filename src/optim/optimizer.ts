/**
 * The optimizer base: a list of named parameters, a learning rate the
 * scheduler sets, a step that updates `param.data` in place from
 * `param.grad`, and named state for checkpoints.
 *
 * Per-parameter state is created lazily, on the first step in which the
 * parameter has a gradient (as PyTorch does): a parameter whose grad is null
 * is skipped and its state does not advance. State is exposed as
 * `'<param>.<slot>'` arrays (`conv1.weight.momentum`, `fc1.bias.exp_avg`, …)
 * in the parameter's dtype; the number of `step()` calls is `stepCount`.
 */
import { OptionError } from '../errors.js';
import { alloc, type FloatArray, type Tensor } from '../tensor/tensor.js';

/** Parameters with stable names ('conv1.weight'), the names used in checkpoints. */
export type NamedParameters = readonly (readonly [string, Tensor])[];
export type OptimizerName = 'sgd' | 'adam' | 'adamw';
/** State read from or written to a checkpoint: name → array. */
export type StateTensors = ReadonlyMap<string, FloatArray> | Readonly<Record<string, FloatArray>>;

/** A named per-parameter state array: its slot name and whether it is a one-element float64 counter. */
export interface Slot {
  readonly name: string;
  /** A counter (Adam's per-parameter step): one element, always float64. */
  readonly counter?: boolean;
}

export abstract class Optimizer {
  abstract readonly name: OptimizerName;
  readonly params: NamedParameters;
  #lr: number;
  #steps = 0;
  /** '<param>.<slot>' → array, present once the parameter has been updated. */
  protected readonly slots = new Map<string, FloatArray>();

  constructor(params: NamedParameters, lr: number) {
    if (!Array.isArray(params) || params.length === 0) throw new OptionError('an optimizer needs at least one parameter', 'pass the model\'s named parameters, e.g. [[\'fc1.weight\', w], …]');
    const names = new Set<string>();
    const tensors = new Set<Tensor>();
    for (const entry of params) {
      const [name, t] = entry ?? [];
      if (typeof name !== 'string' || name === '') throw new OptionError(`parameter name ${JSON.stringify(name)} is not a non-empty string`, 'name parameters like \'conv1.weight\'');
      if (names.has(name)) throw new OptionError(`parameter name '${name}' appears twice`, 'parameter names are unique');
      if (!t || !(t.data instanceof Float32Array || t.data instanceof Float64Array)) throw new OptionError(`parameter '${name}' is not a tensor`, 'pass [name, Tensor] pairs');
      if (tensors.has(t)) throw new OptionError(`parameter '${name}' is a tensor already listed under another name`, 'list each parameter tensor once');
      names.add(name);
      tensors.add(t);
    }
    checkLr(lr, true);
    this.params = Object.freeze(params.map(([n, t]) => Object.freeze([n, t] as const)));
    this.#lr = lr;
  }

  /** The learning rate of the next step (the scheduler sets it; 0 is allowed, e.g. at the start of a warm-up). */
  get lr(): number {
    return this.#lr;
  }

  set lr(value: number) {
    checkLr(value, false);
    this.#lr = value;
  }

  /** The number of `step()` calls so far (restored by `loadState`). */
  get stepCount(): number {
    return this.#steps;
  }

  /** The per-parameter state slots this optimizer keeps, in order. */
  protected abstract slotList(): readonly Slot[];

  /** Updates one parameter from its gradient. */
  protected abstract update(name: string, param: Tensor, grad: FloatArray): void;

  /** One update of every parameter that has a gradient. */
  step(): void {
    for (const [name, p] of this.params) {
      if (p.grad && p.grad.length !== p.size) throw new OptionError(`parameter '${name}' has ${p.size} elements but its gradient has ${p.grad.length}`, 'the gradient has the parameter\'s shape');
    }
    this.#steps++;
    for (const [name, p] of this.params) if (p.grad) this.update(name, p, p.grad);
  }

  /**
   * The live state arrays of one parameter, slot by slot ([] before its first
   * update; counters excluded). Precision policies round them in place.
   */
  liveState(name: string): [slot: string, data: FloatArray][] {
    const out: [string, FloatArray][] = [];
    for (const s of this.slotList()) {
      const a = this.slots.get(`${name}.${s.name}`);
      if (a && !s.counter) out.push([s.name, a]);
    }
    return out;
  }

  /** Sets every gradient to null (the next backward allocates fresh ones). */
  zeroGrad(): void {
    for (const [, p] of this.params) p.grad = null;
  }

  /** The state slot `slot` of parameter `name`, created (zeroed) if absent. */
  protected slot(name: string, param: Tensor, slot: string, counter = false): FloatArray {
    const key = `${name}.${slot}`;
    let a = this.slots.get(key);
    if (!a) {
      a = counter ? new Float64Array(1) : alloc(param.dtype, param.size);
      this.slots.set(key, a);
    }
    return a;
  }

  /**
   * Copies of every state array, named '<param>.<slot>', in parameter order.
   * Parameters never updated yet have no entries.
   */
  state(): Map<string, FloatArray> {
    const out = new Map<string, FloatArray>();
    for (const [name] of this.params) {
      for (const s of this.slotList()) {
        const a = this.slots.get(`${name}.${s.name}`);
        if (a) out.set(`${name}.${s.name}`, a.slice());
      }
    }
    return out;
  }

  /**
   * Restores state saved by `state()` and the step count. Every entry is
   * checked before anything changes: unknown names, a parameter with only
   * some of its slots, a wrong length or dtype are errors naming the entry.
   * A parameter with none of its slots starts fresh (it was never updated).
   */
  loadState(tensors: StateTensors, stepCount: number): void {
    if (!Number.isSafeInteger(stepCount) || stepCount < 0) throw new OptionError(`optimizer step count ${stepCount} is not a non-negative integer`, 'pass the stepCount saved with the state');
    const given = tensors instanceof Map ? new Map(tensors) : new Map(Object.entries(tensors ?? {}));
    const slots = this.slotList();
    const next = new Map<string, FloatArray>();
    const hint = `${this.name} keeps ${slots.length ? slots.map((s) => `'<param>.${s.name}'`).join(', ') : 'no state'} for each parameter: ${this.params.map(([n]) => n).join(', ')}`;
    for (const [name, p] of this.params) {
      const keys = slots.map((s) => `${name}.${s.name}`);
      const present = keys.filter((k) => given.has(k));
      if (present.length === 0) continue;
      if (present.length < keys.length) {
        const missing = keys.filter((k) => !given.has(k));
        throw new OptionError(`optimizer state for '${name}' is missing ${missing.map((k) => `'${k}'`).join(', ')}`, hint);
      }
      slots.forEach((s, i) => {
        const key = keys[i];
        const a = given.get(key)!;
        given.delete(key);
        const wantType = s.counter ? 'float64' : p.dtype;
        const wantLen = s.counter ? 1 : p.size;
        const type = a instanceof Float64Array ? 'float64' : a instanceof Float32Array ? 'float32' : null;
        if (type === null) throw new OptionError(`optimizer state '${key}' is not a Float32Array or Float64Array`, hint);
        if (a.length !== wantLen) throw new OptionError(`optimizer state '${key}' has ${a.length} elements, expected ${wantLen}`, hint);
        if (type !== wantType) throw new OptionError(`optimizer state '${key}' is ${type}, expected ${wantType}`, s.counter ? 'counters are stored as float64' : 'state is stored in the parameter\'s dtype');
        if (s.counter && (!Number.isSafeInteger(a[0]) || a[0] < 0 || a[0] > stepCount)) throw new OptionError(`optimizer state '${key}' is ${a[0]}, not a count between 0 and the step count ${stepCount}`, hint);
        next.set(key, a.slice());
      });
    }
    if (given.size > 0) throw new OptionError(`unknown optimizer state ${[...given.keys()].map((k) => `'${k}'`).join(', ')}`, hint);
    this.slots.clear();
    for (const [k, a] of next) this.slots.set(k, a);
    this.#steps = stepCount;
  }
}

function checkLr(lr: number, initial: boolean): void {
  const ok = typeof lr === 'number' && Number.isFinite(lr) && (initial ? lr > 0 : lr >= 0);
  if (!ok) throw new OptionError(`learning rate ${lr} is not ${initial ? 'positive' : 'non-negative'} and finite`, initial ? 'lr is a positive number, e.g. 0.01' : 'a schedule gives lr ≥ 0');
}
