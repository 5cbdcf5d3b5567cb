/**
 * A training run's emulated arithmetic: the policy attached to a model's
 * layers, loss scaling, the rounding of master weights and optimizer state
 * after each step, telemetry, and the state a checkpoint must keep.
 *
 * The trainer drives it step by step:
 *   beginStep → forward (layers round through their sites) → loss() →
 *   backward(loss, lossSeed()) → applyGradients() → optimizer.step() →
 *   afterUpdate() → maybe report().
 */
import type { Module } from '../nn/module.js';
import type { Optimizer } from '../optim/optimizer.js';
import { softmaxCrossEntropy, type Labels } from '../tensor/ops/loss.js';
import type { FloatArray, Tensor } from '../tensor/tensor.js';
import { LossScaler } from './loss-scale.js';
import { roundedCrossEntropy } from './loss.js';
import { Policy, type QuantizedRole } from './policy.js';
import { AmaxHistory, emptyStats, PolicyError, type QuantizeStats } from './quantizer.js';
import { lastAxis, LayerPrecision, randomKey, type PrecisionContext, type Rounder } from './site.js';
import { roleReport, type AccumulatorReport, type LayerReport, type TelemetryReport } from './telemetry.js';

/** A layer that can be rounded: it computes through its `precision` site when one is attached. */
export interface PrecisionLayer {
  precision: LayerPrecision | null;
}

export function isPrecisionLayer(m: unknown): m is PrecisionLayer & Module {
  return typeof m === 'object' && m !== null && 'precision' in m;
}

/** The random-stream index of the loss role (layers take 0, 1, 2, … in model order). */
const LOSS_SITE = 255;

/** Parameter slots within a role: a layer's weight is slot 0, its bias slot 1. */
const paramSlot = (local: string): number => (local === 'bias' ? 1 : 0);

export interface EmulationOptions {
  policy: Policy | null;
  lossScaling: LossScaler | null;
  seed: number;
}

export class Emulation {
  readonly ctx: PrecisionContext;
  readonly sites: LayerPrecision[] = [];
  private readonly byLayer = new Map<string, LayerPrecision>();
  /** Parameter name ('fc1.bias') → the site that owns it and its slot there (weight 0, bias 1). */
  private readonly owners = new Map<string, { site: LayerPrecision; slot: number }>();
  private phase = -1;
  private readonly lossStats: QuantizeStats = emptyStats();

  constructor(readonly model: Module, readonly options: EmulationOptions) {
    this.ctx = { seed: options.seed, step: 0, measure: false };
    const policy = options.policy;
    if (!policy) return;
    const layers = model.namedModules().filter(([, m]) => isPrecisionLayer(m));
    policy.checkLayers('precision', layers.map(([n]) => n));
    if (layers.length >= LOSS_SITE) throw new PolicyError('precision', `the model has ${layers.length} layers; precision policies address at most ${LOSS_SITE - 1}`, 'use a smaller model');
    layers.forEach(([name, m], i) => {
      const site = new LayerPrecision(name, i, this.ctx, policy.activationAt, policy.accumulatorGradient);
      (m as unknown as PrecisionLayer).precision = site;
      this.sites.push(site);
      this.byLayer.set(name, site);
      for (const [local] of (m as Module).namedParameters()) this.owners.set(name ? `${name}.${local}` : local, { site, slot: paramSlot(local) });
    });
    this.setEpoch(0);
  }

  get policy(): Policy | null {
    return this.options.policy;
  }

  get lossScaler(): LossScaler | null {
    return this.options.lossScaling;
  }

  /** Takes the policy phase of an epoch (precision switching). */
  setEpoch(epoch: number): void {
    const policy = this.options.policy;
    if (!policy) return;
    const phase = policy.phaseIndex(epoch);
    if (phase === this.phase) return;
    this.phase = phase;
    for (const s of this.sites) s.setPhase(policy, phase);
  }

  beginStep(globalStep: number, epoch: number, measure: boolean): void {
    this.setEpoch(epoch);
    this.ctx.step = globalStep;
    this.ctx.measure = measure;
    this.options.lossScaling?.beginStep(epoch);
  }

  /** The training loss: rounded by the loss role when the policy has one. */
  loss(logits: Tensor, labels: Labels): Tensor {
    const q = this.phase >= 0 ? this.options.policy!.lossQuantizer(this.phase) : null;
    if (!q) return softmaxCrossEntropy(logits, labels);
    const ctx = this.ctx;
    const step = ctx.step;
    const round: Rounder = (src, dst, shape) => q.apply(src, dst, randomKey(ctx.seed, step, LOSS_SITE, 'loss', 0), lastAxis(shape), this.lossStats, ctx.measure);
    return roundedCrossEntropy(logits, labels, round);
  }

  /** The gradient backward starts from: the loss scale. */
  lossSeed(): Float32Array {
    return Float32Array.of(this.options.lossScaling?.scale ?? 1);
  }

  /**
   * After backward: with loss scaling, checks the gradients for overflow and
   * either divides the scale out (fp32, exact for power-of-two scales) or
   * reports the step to be skipped. Returns whether to apply the step.
   */
  applyGradients(params: readonly (readonly [string, Tensor])[], epoch: number): boolean {
    const scaler = this.options.lossScaling;
    if (!scaler) return true;
    // One pass: unscale and look for overflow together; a skipped step's gradients are discarded anyway.
    const scale = scaler.scale;
    let finite = true;
    for (const [, p] of params) {
      const g = p.grad;
      if (!g) continue;
      for (let i = 0; i < g.length; i++) {
        const v = g[i] / scale; // one rounding, into the gradient's dtype
        g[i] = v;
        finite = finite && Number.isFinite(v);
      }
    }
    return scaler.endStep(!finite, epoch);
  }

  /** After the optimizer step: master weights and optimizer state rounded as stored. */
  afterUpdate(optimizer: Optimizer): void {
    if (!this.options.policy) return;
    for (const [name, p] of optimizer.params) {
      const owner = this.owners.get(name);
      if (!owner || !(p.data instanceof Float32Array)) continue;
      const { site, slot } = owner;
      site.roundStored('master', slot, p.data, p.shape);
      optimizer.liveState(name).forEach(([, data], i) => {
        if (data instanceof Float32Array) site.roundStored('optimizer', i * 2 + slot, data, p.shape);
      });
    }
  }

  /** Telemetry since the last report, by layer and role, and resets the window. */
  report(): TelemetryReport {
    const layers: Record<string, LayerReport> = {};
    const accumulators: Record<string, AccumulatorReport> = {};
    for (const s of this.sites) {
      const r: LayerReport = {};
      for (const [role, st] of s.stats) {
        const q = s.quantizer(role as QuantizedRole);
        if (q && st.count > 0) r[role] = roleReport(q, st);
        Object.assign(st, emptyStats());
      }
      if (Object.keys(r).length > 0) layers[s.layer] = r;
      const a = s.accumulatorStats;
      if (a.products > 0) {
        accumulators[s.layer] = { model: s.accumulator ?? 'fp32', products: a.products, swamped: a.swamped / a.products, overflow: a.overflow, underflow: a.underflow };
        Object.assign(a, { products: 0, swamped: 0, overflow: 0, underflow: 0 });
      }
    }
    const out: TelemetryReport = { layers };
    if (Object.keys(accumulators).length > 0) out.accumulators = accumulators;
    const lq = this.phase >= 0 ? this.options.policy!.lossQuantizer(this.phase) : null;
    if (lq && this.lossStats.count > 0) out.loss = roleReport(lq, this.lossStats);
    Object.assign(this.lossStats, emptyStats());
    const scaler = this.options.lossScaling;
    if (scaler) {
      out.lossScale = scaler.scale;
      out.skippedSteps = scaler.state.skipped;
    }
    return out;
  }

  /** State a checkpoint keeps: the loss scaler and the delayed-amax histories. */
  state(): Map<string, FloatArray> {
    const out = new Map<string, FloatArray>();
    if (this.options.lossScaling) out.set('lossScale', this.options.lossScaling.save());
    for (const s of this.sites) {
      for (const [key, h] of s.histories) {
        const v = new Float64Array(h.values.length + 1);
        v[0] = h.recorded;
        v.set(h.values, 1);
        out.set(`amax/${s.layer}/${key}`, v);
      }
    }
    return out;
  }

  loadState(state: ReadonlyMap<string, FloatArray>): void {
    const ls = state.get('lossScale');
    if (this.options.lossScaling && ls) this.options.lossScaling.load(ls);
    for (const [name, v] of state) {
      const m = /^amax\/(.+)\/([a-z]+\/\d+)$/.exec(name);
      const site = m ? this.byLayer.get(m[1]) : undefined;
      if (!m || !site) continue;
      const h = new AmaxHistory(v.length - 1);
      h.recorded = v[0];
      h.values.set(v.subarray(1));
      site.histories.set(m[2], h);
    }
  }
}
