/** The format specs the exhaustive and property tests cover (every scalar one has at most 16 bits). */
import { parseSpec } from '../../src/formats/spec.js';

export const NAMED_FLOATS = [
  'fp16', 'bf16', 'e5m2', 'e4m3', 'e4m3fn', 'e4m3fnuz', 'e5m2fnuz', 'e3m2', 'e2m3', 'e2m1',
] as const;

export const NAMED_INTS = ['int8', 'int16', 'uint8', 'uint16'] as const;

function accepts(spec: string): boolean {
  try {
    parseSpec(spec);
    return true;
  } catch {
    return false;
  }
}

/**
 * Generic floats: every E in 1..8 with a few M (0 for the fn/none flavours,
 * small, and the largest that fits 16 bits), every flavour, nosub variants and
 * explicit biases. Specs the parser rejects by design (ieee with E < 2 or
 * M = 0, ranges beyond the float32 carrier) are replaced by a shifted bias.
 */
export function genericFloats(): string[] {
  const out = new Set<string>();
  for (let E = 1; E <= 8; E++) {
    const maxM = 15 - E;
    const ms = [...new Set([0, 1, 2, 3, Math.min(5, maxM), maxM])].filter((m) => m <= maxM);
    for (const M of ms) {
      for (const fl of ['ieee', 'fn', 'fnuz', 'none'] as const) {
        if (fl === 'ieee' && (E < 2 || M < 1)) continue;
        const base = `float<${E},${M},${fl}>`;
        if (accepts(base)) out.add(base);
        else if (accepts(`float<${E},${M},${fl},bias=128>`)) out.add(`float<${E},${M},${fl},bias=128>`);
        // nosub on the small and the largest M
        if (M === 2 || M === maxM) {
          const ns = `float<${E},${M},${fl},nosub>`;
          if (accepts(ns)) out.add(ns);
        }
      }
    }
  }
  // Explicit biases: shifted, zero, negative, and ones that reach the float32 carrier's ends.
  for (const s of [
    'float<4,3,bias=3>', 'float<4,3,fn,bias=10>', 'float<4,3,fnuz,bias=0>', 'float<5,2,bias=-3>',
    'float<3,2,none,bias=7>', 'float<2,1,none,bias=-2>', 'float<1,2,none,bias=0>', 'float<1,1,fn,bias=1>',
    'float<6,5,bias=40>', 'float<5,10,bias=5,nosub>', 'float<8,7,bias=143>', 'float<8,7,fn,bias=142>',
    'float<8,7,none,bias=128>', 'float<7,8,bias=90>', 'float<6,3,fnuz,bias=-64>', 'float<8,1,none,bias=128,nosub>',
    'float<3,0,none>', 'float<3,0,fn,nosub>', 'float<4,0,fnuz>', 'float<8,0,fnuz>',
  ]) {
    if (!accepts(s)) throw new Error(`catalog: ${s} should be a valid spec`);
    out.add(s);
  }
  return [...out];
}

export const FIXED_SPECS = [
  'fixed<2,0>', 'fixed<2,5>', 'fixed<3,1>', 'fixed<4,-3>', 'fixed<8,0>', 'fixed<8,4>', 'fixed<8,8>',
  'fixed<8,12>', 'fixed<8,-96>', 'fixed<12,6,wrap>', 'fixed<16,14>', 'fixed<16,20>', 'fixed<16,149>',
  'fixed<10,3,wrap>', 'ufixed<2,1>', 'ufixed<8,3>', 'ufixed<8,2,wrap>', 'ufixed<5,9>', 'ufixed<16,16>',
  'ufixed<12,-4,wrap>', 'int<12>', 'int<5,wrap>', 'uint<3,wrap>', 'uint<11>',
] as const;

/** Every posit<N,ES> with N in 2..16 and ES in 0..4. */
export function allPosits(): string[] {
  const out: string[] = [];
  for (let n = 2; n <= 16; n++) for (let es = 0; es <= 4; es++) out.push(`posit<${n},${es}>`);
  return out;
}

/** Posits whose every value is a float32 (so the float32 carrier can hold every result). */
export function positFitsF32(n: number, es: number): boolean {
  const top = (n - 2) * 2 ** es;
  return top <= 127 && -top >= -149;
}

export const MX_SPECS = [
  'mxfp8_e4m3', 'mxfp8_e5m2', 'mxfp6_e3m2', 'mxfp6_e2m3', 'mxfp4', 'mxint8',
] as const;

export const BFP_SPECS = ['bfp<2,4>', 'bfp<4,8>', 'bfp<8,16>', 'bfp<12,3>', 'bfp<16,32>'] as const;

/** Every scalar spec of the catalogue. */
export function allScalarSpecs(): string[] {
  return [...NAMED_FLOATS, ...NAMED_INTS, ...genericFloats(), ...FIXED_SPECS, 'posit8', 'posit16', ...allPosits()];
}
