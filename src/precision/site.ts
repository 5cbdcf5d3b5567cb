/**
 * Where a policy meets a layer. A LayerPrecision holds one layer's
 * quantizers for the current phase and gives the layer the three places it
 * rounds: its parameters (weight role forward, gradient role backward), its
 * input or output activation (activation role forward, error role backward),
 * and its accumulator. Rounding itself is straight-through: the gradient of
 * a rounding is taken as 1, and the role on the other side of the pass
 * rounds what flows back.
 */
import { streamOf, StreamTag } from '../rng/uniform.js';
import { accumulateGrad, opResult } from '../tensor/autograd.js';
import type { Product, ProductPass } from '../tensor/gemm.js';
import type { Tensor } from '../tensor/tensor.js';
import { accumulatedGemm } from './accumulator.js';
import { parseAccumulator, type AccumulatorModel } from './accumulator-spec.js';
import { ROLES, type ActivationPlacement, type Policy, type QuantizedRole, type Role } from './policy.js';
import { AmaxHistory, emptyStats, type QuantizeStats, type Quantizer, type RandomKey } from './quantizer.js';

/** What every site of a run shares: the seed, the step (for random streams) and whether this step measures errors. */
export interface PrecisionContext {
  seed: number;
  step: number;
  /** Measure the quantization error (telemetry) in this step, not only count events. */
  measure: boolean;
}

/** Element indices of one (role, slot) start at this multiple: 2^42 elements per tensor, 4 slots per role. */
const SLOT_SPAN = 2 ** 42;

/**
 * The random key of one rounding: the stream is (layer, step); the offset
 * separates roles and the tensors within a role (weight / bias, optimizer
 * slots), so no two roundings of a step share a random word.
 */
export function randomKey(seed: number, step: number, layerIndex: number, role: Role, slot: number): RandomKey {
  return { seed, stream: streamOf(StreamTag.Quantize, layerIndex, step), offset: (ROLES.indexOf(role) * 4 + slot) * SLOT_SPAN };
}

/** The innermost dimension of a shape (blocks of block formats run along it). */
export const lastAxis = (shape: readonly number[]): number => (shape.length ? shape[shape.length - 1] : 1);

/**
 * A parameter seen as [out, fan-in]: blocks of block formats then run along
 * each output's whole fan-in (C·KH·KW for a convolution), the axis its dot
 * products reduce over, as MX hardware blocks weights.
 */
const fanInRows = (shape: readonly number[]): readonly number[] => (shape.length > 1 ? [shape[0], shape.slice(1).reduce((p, d) => p * d, 1)] : shape);

export type Rounder = (src: Float32Array | Float64Array, dst: Float32Array, shape: readonly number[]) => void;

/**
 * Forward: y = fwd(x) (or x); backward: the incoming gradient rounded by
 * `bwd` (or passed as it is). Block formats block along the last axis of
 * `blockShape` (default x's shape). Float32 only: float64 tensors (gradient
 * checks) are never quantized.
 */
export function roundingOp(x: Tensor, fwd: Rounder | null, bwd: Rounder | null, blockShape: readonly number[] = x.shape): Tensor {
  if (!(x.data instanceof Float32Array)) return x;
  let data: Float32Array = x.data;
  if (fwd) {
    data = new Float32Array(x.size);
    fwd(x.data, data, blockShape);
  }
  return opResult('round', data, x.shape, [x], (g) => {
    if (bwd && g instanceof Float32Array) bwd(g, g, blockShape);
    accumulateGrad(x, g);
  });
}

/** What a layer's emulated accumulators did since the last telemetry read. */
export interface AccumulatorStats {
  /** Multiply-adds done through the model. */
  products: number;
  /** Adds of a nonzero term that left the sum unchanged. */
  swamped: number;
  /** Roundings beyond the largest finite value. */
  overflow: number;
  /** Roundings of a nonzero value to zero. */
  underflow: number;
}

/**
 * How gradients pass a low-precision accumulator. 'ste': straight through,
 * as if the sum were exact. 'mask-overflow': no gradient through an output
 * whose forward accumulation overflowed (saturated or became Inf), as a
 * clamp's gradient is zero where it clips.
 */
export type AccumulatorGradient = 'ste' | 'mask-overflow';

const PASS_INDEX: Record<ProductPass, number> = { forward: 0, 'input-gradient': 1, 'weight-gradient': 2 };

export class LayerPrecision {
  /** Quantizers of the current phase, by role (null: fp32). */
  private roles = new Map<QuantizedRole, Quantizer | null>();
  private accumulatorSpec: string | null = null;
  private accumulatorModel: AccumulatorModel | null = null;
  readonly accumulatorStats: AccumulatorStats = { products: 0, swamped: 0, overflow: 0, underflow: 0 };
  /** Events and errors since the last telemetry read, by role. */
  readonly stats = new Map<QuantizedRole, QuantizeStats>();
  /** Delayed-amax histories, by role and slot ('weight/0'). */
  readonly histories = new Map<string, AmaxHistory>();
  /** Whether this forward's product already rounded the output into the activation format (output() then does not). */
  private outputRounded = false;

  constructor(
    readonly layer: string,
    /** The layer's position among the run's sites: its random stream index. */
    readonly index: number,
    readonly ctx: PrecisionContext,
    private readonly placement: ActivationPlacement,
    private readonly accumulatorGradient: AccumulatorGradient = 'ste',
  ) {}

  /** Takes the quantizers of a policy phase. */
  setPhase(policy: Policy, phase: number): void {
    for (const role of ROLES) if (role !== 'accumulator' && role !== 'loss') this.roles.set(role, policy.quantizer(phase, this.layer, role));
    this.accumulatorSpec = policy.accumulator(phase, this.layer);
    const model = this.accumulatorSpec === null ? null : parseAccumulator(this.accumulatorSpec);
    this.accumulatorModel = model && model.kind !== 'fp32' ? model : null;
  }

  quantizer(role: QuantizedRole): Quantizer | null {
    return this.roles.get(role) ?? null;
  }

  /** Whether gradients stop at outputs whose forward accumulation overflowed ('mask-overflow'). */
  get masksOverflow(): boolean {
    return this.accumulatorGradient === 'mask-overflow' && this.accumulatorModel !== null;
  }

  /** The accumulator model spec of this layer (null: fp32). */
  get accumulator(): string | null {
    return this.accumulatorSpec;
  }

  private statsOf(role: QuantizedRole): QuantizeStats {
    let s = this.stats.get(role);
    if (!s) this.stats.set(role, (s = emptyStats()));
    return s;
  }

  /** A rounder for (role, slot) keyed at the step it runs in. */
  rounder(role: QuantizedRole, slot: number): Rounder | null {
    const q = this.quantizer(role);
    if (!q) return null;
    const ctx = this.ctx;
    const step = ctx.step;
    return (src, dst, shape) => {
      let h: AmaxHistory | undefined;
      const sc = q.spec.scaling;
      if (sc?.amax === 'delayed') {
        const key = `${role}/${slot}`;
        h = this.histories.get(key);
        if (!h || h.values.length !== (sc.history ?? 16)) this.histories.set(key, (h = new AmaxHistory(sc.history ?? 16)));
      }
      q.apply(src, dst, randomKey(ctx.seed, step, this.index, role, slot), lastAxis(shape), this.statsOf(role), ctx.measure, h ?? null);
    };
  }

  /**
   * The layer's products through its accumulator model (null: the fp32
   * GEMM). A forward product whose output is rounded by the activation role
   * rounds there directly — for a quire, the exact sum goes straight into
   * the activation format, never through fp32 — unless that quantizer scales
   * tensors or is a block format, which need the whole output first. The
   * activation's telemetry then comes from the logged steps: there the sums
   * are also computed into fp32 and rounded by the activation quantizer
   * (into scratch) for its events and error — the same rounding up to ties
   * at fp32's precision, with other random draws where it is stochastic.
   */
  product(): Product | null {
    const model = this.accumulatorModel;
    if (!model) return null;
    const ctx = this.ctx;
    const step = ctx.step;
    const act = this.placement === 'output' ? this.quantizer('activation') : null;
    const fused = act && !act.spec.scaling && act.format.kind === 'scalar' ? act : null;
    const stats = this.accumulatorStats;
    return (pass, transA, transB, m, n, k, a, b, c, accumulate) => {
      const output = pass === 'forward' && fused ? { format: fused.format, rounding: fused.spec.rounding, overflow: fused.spec.overflow, subnormals: fused.spec.subnormals, randomBits: fused.spec.randomBits } : undefined;
      // Events are counted on the steps that measure (the logged ones), like the quantizers' errors: counting
      // costs the per-add kernels about as much as the arithmetic.
      const events = ctx.measure;
      const seed = ctx.seed, stream = streamOf(StreamTag.Accumulate, this.index, 4 * step + PASS_INDEX[pass]);
      if (output) {
        this.outputRounded = true;
        if (ctx.measure) {
          const sums = c.slice();
          accumulatedGemm(model, transA, transB, m, n, k, a, b, sums, accumulate, { seed, stream, events: false });
          this.rounder('activation', 0)!(sums, new Float32Array(sums.length), [sums.length]);
        }
      }
      const r = accumulatedGemm(model, transA, transB, m, n, k, a, b, c, accumulate, { output, seed, stream, events });
      if (!r) return null;
      if (events) {
        stats.products += m * n * k;
        stats.swamped += r.swamped;
        stats.overflow += r.overflow;
        stats.underflow += r.underflow;
      }
      return pass === 'forward' && this.masksOverflow ? r.overflowed : null;
    };
  }

  /** A parameter as the layer computes with it: rounded by the weight role; its gradient rounded by the gradient role. */
  param(t: Tensor, slot: number): Tensor {
    return roundingOp(t, this.rounder('weight', slot), this.rounder('gradient', slot), fanInRows(t.shape));
  }

  /** The layer's input: rounded here when activations are placed at inputs. */
  input(x: Tensor): Tensor {
    return this.placement === 'input' ? roundingOp(x, this.rounder('activation', 0), this.rounder('error', 0)) : x;
  }

  /** The layer's output: rounded here when activations are placed at outputs (unless its product rounded it). */
  output(y: Tensor): Tensor {
    if (this.placement !== 'output') return y;
    const rounded = this.outputRounded;
    this.outputRounded = false;
    return roundingOp(y, rounded ? null : this.rounder('activation', 0), this.rounder('error', 0));
  }

  /** Rounds a stored array in place (master weights, optimizer state) with a role's quantizer. */
  roundStored(role: 'master' | 'optimizer', slot: number, data: Float32Array, shape: readonly number[]): void {
    this.rounder(role, slot)?.(data, data, fanInRows(shape));
  }
}
