/**
 * The `approx` recipe field: which layers compute sampled products, how,
 * and how many pairs they keep. Validation names the exact subfield
 * (`approx.ratio`, `approx.layers.conv1.minK`).
 */
import { PrecisError } from '../errors.js';
import type { LayerSettings } from './layer.js';
import { PASSES, type Pass } from './linear.js';
import { SAMPLING_METHODS, type SamplingMethod } from './sampling.js';

export interface ApproxConfig extends LayerSettings {
  /**
   * Layer name patterns ('conv1', 'conv*', '*') → settings overriding the
   * defaults above for the layers they match (the first pattern that
   * matches wins). Null: every Linear and Conv2d layer with the defaults.
   */
  readonly layers: Readonly<Record<string, Partial<LayerSettings>>> | null;
}

export class ApproxConfigError extends PrecisError {
  constructor(readonly field: string, readonly problem: string, hint: string) {
    super('E_APPROX', `${field}: ${problem}`, hint);
    this.name = 'ApproxConfigError';
  }
}

const DEFAULTS = { pass: 'forward', minK: 1, epsilon: 0.1, normSample: 0.1 } as const;

type Field<T> = (v: unknown, field: string) => T;
const bad = (field: string, v: unknown, want: string, example: string): never => {
  throw new ApproxConfigError(field, `expected ${want}, got ${JSON.stringify(v)}`, `e.g. "${field.split('.').pop()}": ${example}`);
};
const choice = <T extends string>(choices: readonly T[]): Field<T> => (v, f) =>
  typeof v === 'string' && (choices as readonly string[]).includes(v) ? (v as T) : bad(f, v, `one of ${choices.join(', ')}`, JSON.stringify(choices[0]));
const fraction = (openZero: boolean): Field<number> => (v, f) =>
  typeof v === 'number' && Number.isFinite(v) && (openZero ? v > 0 : v >= 0) && v <= 1 ? v : bad(f, v, openZero ? 'a number in (0, 1]' : 'a number in [0, 1]', '0.5');
const positiveInt: Field<number> = (v, f) => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 1 ? v : bad(f, v, 'an integer ≥ 1', '1'));

const SETTINGS: { readonly [K in keyof LayerSettings]: Field<LayerSettings[K]> } = {
  method: choice<SamplingMethod>(SAMPLING_METHODS),
  pass: choice<Pass>(PASSES),
  ratio: fraction(true),
  minK: positiveInt,
  epsilon: fraction(false),
  normSample: fraction(true),
};
const SETTING_NAMES = Object.keys(SETTINGS) as (keyof LayerSettings)[];

function object(v: unknown, field: string, example: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return bad(field, v, 'an object', example);
  return v as Record<string, unknown>;
}

/** Some of a layer's settings, each checked. */
function partialSettings(v: unknown, field: string, allowed: readonly string[]): Partial<LayerSettings> {
  const obj = object(v, field, '{"ratio": 0.5}');
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(obj)) {
    if (!allowed.includes(k)) throw new ApproxConfigError(`${field}.${k}`, 'unknown field', `the fields are: ${allowed.join(', ')}`);
    out[k] = SETTINGS[k as keyof LayerSettings](x, `${field}.${k}`);
  }
  return out as Partial<LayerSettings>;
}

/**
 * Checks a recipe's `approx` object and fills in the defaults (pass
 * forward, minK 1, ε 0.1, normSample 0.1); method and ratio are required.
 * The result validates again to itself.
 */
export function parseApproxConfig(v: unknown, field = 'approx'): ApproxConfig {
  const obj = object(v, field, '{"method": "topk", "ratio": 0.5}');
  const known = [...SETTING_NAMES, 'layers'];
  for (const k of Object.keys(obj)) {
    if (!known.includes(k)) throw new ApproxConfigError(`${field}.${k}`, 'unknown field', `the fields are: ${known.join(', ')}`);
  }
  for (const k of ['method', 'ratio'] as const) {
    if (!(k in obj)) throw new ApproxConfigError(`${field}.${k}`, 'missing', `give it, e.g. {"method": "bernoulli-crs", "ratio": 0.5}`);
  }
  const settings = { ...DEFAULTS, ...partialSettings(Object.fromEntries(Object.entries(obj).filter(([k]) => k !== 'layers')), field, SETTING_NAMES) } as LayerSettings;
  let layers: Record<string, Partial<LayerSettings>> | null = null;
  if (obj.layers !== undefined && obj.layers !== null) {
    const given = object(obj.layers, `${field}.layers`, '{"conv*": {}, "fc1": {"ratio": 0.9}}');
    if (Object.keys(given).length === 0) throw new ApproxConfigError(`${field}.layers`, 'names no layer', 'list the layers to approximate, or leave "layers" out for all of them');
    layers = {};
    for (const [pattern, s] of Object.entries(given)) {
      if (pattern === '' || !/^[\w.*]+$/.test(pattern)) throw new ApproxConfigError(`${field}.layers.${pattern}`, 'is not a layer name or pattern', 'use layer names such as "conv1" or "fc2", with * for any characters ("conv*")');
      layers[pattern] = partialSettings(s, `${field}.layers.${pattern}`, SETTING_NAMES);
    }
  }
  return { ...settings, layers };
}

/** Whether a layer name matches a pattern in which * stands for any characters. */
export function matchesPattern(pattern: string, name: string): boolean {
  const re = new RegExp(`^${pattern.replace(/\./g, '\\.').replace(/\*/g, '.*')}$`);
  return re.test(name);
}

/** The settings of a layer, or null when the config leaves it exact. */
export function layerSettings(config: ApproxConfig, name: string): LayerSettings | null {
  const { layers, ...defaults } = config;
  if (layers === null) return defaults;
  for (const [pattern, s] of Object.entries(layers)) if (matchesPattern(pattern, name)) return { ...defaults, ...s };
  return null;
}
