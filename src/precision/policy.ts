/**
 * A precision policy: (layer, role) → quantizer. Defaults apply to every
 * layer; overrides, keyed by layer name or glob, replace some roles for some
 * layers (papers keep the first and last layers wider). A role that is
 * unset, or set to null, stays fp32. A policy can switch during training:
 * `switch` lists phases, each replacing the defaults and overrides from an
 * epoch on.
 */
import type { PrecisError } from '../errors.js';
import { ACCUMULATOR_GRAMMAR, parseAccumulator } from './accumulator-spec.js';
import { PolicyError, parseQuantizer, type Quantizer, type QuantizerInput } from './quantizer.js';

/** The roles, in the order their random streams are numbered (part of the public API: recipes name them). */
export const ROLES = ['weight', 'activation', 'error', 'gradient', 'master', 'optimizer', 'accumulator', 'loss'] as const;
export type Role = (typeof ROLES)[number];

/** Roles a quantizer serves (the accumulator role takes an accumulator model instead). */
export type QuantizedRole = Exclude<Role, 'accumulator'>;

/**
 * Where a layer's activations are rounded. 'output': the layer's product
 * (with bias) as it leaves the accumulator, before any nonlinearity;
 * 'input': what the layer reads, i.e. after the previous nonlinearity and
 * pooling, and the network's input itself.
 */
export type ActivationPlacement = 'output' | 'input';

export interface RoleMapInput {
  weight?: QuantizerInput | null;
  activation?: QuantizerInput | null;
  error?: QuantizerInput | null;
  gradient?: QuantizerInput | null;
  master?: QuantizerInput | null;
  optimizer?: QuantizerInput | null;
  accumulator?: string | null;
  loss?: QuantizerInput | null;
}

export interface PhaseInput {
  /** The first epoch (0-based) of this phase. */
  epoch: number;
  default?: RoleMapInput;
  layers?: Record<string, RoleMapInput>;
}

export interface PolicyInput {
  default?: RoleMapInput;
  /** Layer name or glob ('*' any run of characters, '?' one) → roles replaced for the layers it matches; later entries win. */
  layers?: Record<string, RoleMapInput>;
  activationAt?: ActivationPlacement;
  /** How gradients pass low-precision accumulators: 'ste' (default) or 'mask-overflow' (see site.ts). */
  accumulatorGradient?: 'ste' | 'mask-overflow';
  /** Phases from later epochs, each a complete replacement of `default` and `layers`. */
  switch?: PhaseInput[];
}

export type RoleMap = Partial<Record<QuantizedRole, Quantizer | null>> & { accumulator?: string | null };

interface Phase {
  epoch: number;
  defaults: RoleMap;
  layers: [glob: string, matcher: RegExp, roles: RoleMap][];
}

/** A glob as a whole-name regular expression. */
export function globRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseRoles(field: string, v: unknown, perLayer: boolean): RoleMap {
  if (v === undefined) return {};
  if (!isObject(v)) throw new PolicyError(field, `expected an object of roles, got ${JSON.stringify(v)}`, `roles are ${ROLES.join(', ')}`);
  const out: RoleMap = {};
  for (const [role, q] of Object.entries(v)) {
    if (!(ROLES as readonly string[]).includes(role)) throw new PolicyError(`${field}.${role}`, 'is not a role', `roles are ${ROLES.join(', ')}`);
    if (role === 'loss' && perLayer) throw new PolicyError(`${field}.loss`, 'the loss role is not per layer', 'set "loss" under "default"');
    if (role === 'accumulator') {
      if (q !== null && typeof q !== 'string') throw new PolicyError(`${field}.accumulator`, `expected an accumulator spec string or null, got ${JSON.stringify(q)}`, 'e.g. "accumulator": "exact"');
      if (q !== null) {
        try {
          parseAccumulator(q);
        } catch (e) {
          throw new PolicyError(`${field}.accumulator`, (e as Error).message.split('\n')[0], (e as PrecisError).hint ?? ACCUMULATOR_GRAMMAR);
        }
      }
      out.accumulator = q;
    } else {
      out[role as QuantizedRole] = q === null ? null : parseQuantizer(`${field}.${role}`, q);
    }
  }
  return out;
}

function parseLayers(field: string, v: unknown): Phase['layers'] {
  if (v === undefined) return [];
  if (!isObject(v)) throw new PolicyError(field, `expected an object of layer globs, got ${JSON.stringify(v)}`, 'e.g. "layers": {"conv1": {"weight": null}, "fc*": {...}}');
  return Object.entries(v).map(([glob, roles]) => [glob, globRegExp(glob), parseRoles(`${field}.${glob}`, roles, true)]);
}

const POLICY_FIELDS = ['default', 'layers', 'activationAt', 'accumulatorGradient', 'switch'];

/** The validated policy. */
export class Policy {
  private constructor(
    private readonly phases: readonly Phase[],
    readonly activationAt: ActivationPlacement,
    readonly accumulatorGradient: 'ste' | 'mask-overflow',
    /** The policy as written (normalised), for the resolved recipe. */
    readonly source: PolicyInput,
  ) {}

  /** Parses a policy from a recipe; `field` names it in errors ('precision'). */
  static parse(v: unknown, field = 'precision'): Policy {
    if (!isObject(v)) throw new PolicyError(field, `expected an object, got ${JSON.stringify(v)}`, 'e.g. "precision": {"default": {"weight": "e5m2", "activation": "e5m2"}}');
    for (const k of Object.keys(v)) if (!POLICY_FIELDS.includes(k)) throw new PolicyError(`${field}.${k}`, 'is not a known field', `the fields are ${POLICY_FIELDS.join(', ')}`);
    const at = v.activationAt ?? 'output';
    if (at !== 'output' && at !== 'input') throw new PolicyError(`${field}.activationAt`, `expected 'output' or 'input', got ${JSON.stringify(v.activationAt)}`, '"output" rounds each layer\'s product, "input" what each layer reads');
    const ag = v.accumulatorGradient ?? 'ste';
    if (ag !== 'ste' && ag !== 'mask-overflow') throw new PolicyError(`${field}.accumulatorGradient`, `expected 'ste' or 'mask-overflow', got ${JSON.stringify(v.accumulatorGradient)}`, '"mask-overflow" stops gradients at outputs whose accumulation overflowed');
    const phases: Phase[] = [{ epoch: 0, defaults: parseRoles(`${field}.default`, v.default, false), layers: parseLayers(`${field}.layers`, v.layers) }];
    if (v.switch !== undefined) {
      if (!Array.isArray(v.switch)) throw new PolicyError(`${field}.switch`, `expected an array of phases, got ${JSON.stringify(v.switch)}`, 'e.g. "switch": [{"epoch": 4, "default": {...}}]');
      v.switch.forEach((p: unknown, i: number) => {
        const f = `${field}.switch[${i}]`;
        if (!isObject(p)) throw new PolicyError(f, `expected an object, got ${JSON.stringify(p)}`, 'a phase is {"epoch": N, "default": {...}, "layers": {...}}');
        for (const k of Object.keys(p)) if (!['epoch', 'default', 'layers'].includes(k)) throw new PolicyError(`${f}.${k}`, 'is not a known field', 'a phase has epoch, default and layers');
        const prev = phases[phases.length - 1].epoch;
        if (typeof p.epoch !== 'number' || !Number.isInteger(p.epoch) || p.epoch <= prev) throw new PolicyError(`${f}.epoch`, `expected an integer epoch after ${prev}, got ${JSON.stringify(p.epoch)}`, 'phases are listed in increasing epoch order, the first after epoch 0');
        phases.push({ epoch: p.epoch, defaults: parseRoles(`${f}.default`, p.default, false), layers: parseLayers(`${f}.layers`, p.layers) });
      });
    }
    return new Policy(phases, at, ag, JSON.parse(JSON.stringify(v)) as PolicyInput);
  }

  /** The phase in force at an epoch (0-based). */
  phaseIndex(epoch: number): number {
    let i = 0;
    while (i + 1 < this.phases.length && this.phases[i + 1].epoch <= epoch) i++;
    return i;
  }

  /** Every epoch at which the policy changes (after the first). */
  get switchEpochs(): number[] {
    return this.phases.slice(1).map((p) => p.epoch);
  }

  /** The quantizer of a role for a layer in a phase (null: fp32). */
  quantizer(phase: number, layer: string, role: QuantizedRole): Quantizer | null {
    const p = this.phases[phase];
    let q = p.defaults[role] ?? null;
    for (const [, re, roles] of p.layers) if (re.test(layer) && role in roles) q = roles[role] ?? null;
    return q;
  }

  /** The accumulator spec of a layer in a phase (null: fp32). */
  accumulator(phase: number, layer: string): string | null {
    const p = this.phases[phase];
    let a = p.defaults.accumulator ?? null;
    for (const [, re, roles] of p.layers) if (re.test(layer) && 'accumulator' in roles) a = roles.accumulator ?? null;
    return a;
  }

  /** The loss role (not per layer). */
  lossQuantizer(phase: number): Quantizer | null {
    return this.phases[phase].defaults.loss ?? null;
  }

  /** Checks that every glob matches at least one of these layers: a typo must not silently do nothing. */
  checkLayers(field: string, names: readonly string[]): void {
    this.phases.forEach((p, i) => {
      for (const [glob, re] of p.layers) {
        if (!names.some((n) => re.test(n))) {
          const where = i === 0 ? `${field}.layers.${glob}` : `${field}.switch[${i - 1}].layers.${glob}`;
          throw new PolicyError(where, 'matches no layer of this model', `the layers are ${names.join(', ')}`);
        }
      }
    });
  }
}
