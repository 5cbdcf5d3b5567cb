/**
 * Every bit pattern of every supported format up to 16 bits, decoded by
 * precis and by the independent oracle (test/oracle), compared exactly:
 * the double must equal the rational, NaN must be NaN, -0 and +0 differ.
 * Also the derived properties: values(), finiteCount, maxFinite,
 * minPositive, minNormal, minFinite, hasInf/hasNaN and codeCounts().
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BlockFormat, parseFormat, ScalarFormat } from '../../src/index.js';
import { parseSpec, type BlockSpec, type ScalarSpec } from '../../src/formats/spec.js';
import {
  allPosits, BFP_SPECS, FIXED_SPECS, genericFloats, MX_SPECS, NAMED_FLOATS, NAMED_INTS,
} from '../oracle/catalog.js';
import { describe, hex, same } from '../oracle/exact.js';
import {
  decodeBfpElement, decodeFixed, decodeFloat, decodeScalar, describeOracle, matchesOracle, oracleToNumber,
  scalarBits, scalarStats, type OracleValue,
} from '../oracle/oracle.js';

let totalCodes = 0;

function scalar(spec: string): { f: ScalarFormat; s: ScalarSpec } {
  const f = parseFormat(spec);
  assert.ok(f instanceof ScalarFormat, `${spec} is a scalar format`);
  const s = parseSpec(spec);
  assert.ok(s.family === 'float' || s.family === 'fixed' || s.family === 'posit');
  return { f, s };
}

/** Decodes every code with precis and the oracle; returns the mismatches (at most 10 described). */
function compareAllCodes(
  label: string, bits: number, got: (code: number) => number, want: (code: number) => OracleValue,
): void {
  const bad: string[] = [];
  let count = 0;
  for (let c = 0; c < 2 ** bits; c++) {
    const g = got(c);
    const w = want(c);
    if (!matchesOracle(g, w)) {
      count++;
      if (bad.length < 10) bad.push(`  code ${hex(c, bits)}: precis ${describe(g)}, oracle ${describeOracle(w)}`);
    }
  }
  totalCodes += 2 ** bits;
  if (count > 0) assert.fail(`${label}: ${count} of ${2 ** bits} codes decode wrongly:\n${bad.join('\n')}`);
}

function checkScalar(spec: string): void {
  const { f, s } = scalar(spec);
  const bits = scalarBits(s);
  assert.equal(f.bits, bits, `${spec}: bits`);
  compareAllCodes(spec, bits, (c) => f.decode(c), (c) => decodeScalar(s, c));

  // Properties against the oracle's enumeration.
  const st = scalarStats(s);
  const vals = f.values();
  assert.equal(vals.length, st.values.length, `${spec}: values().length`);
  for (let i = 0; i < vals.length; i++) {
    if (!same(vals[i], st.values[i])) assert.fail(`${spec}: values()[${i}] = ${describe(vals[i])}, oracle ${describe(st.values[i])}`);
  }
  assert.equal(f.finiteCount, st.values.length, `${spec}: finiteCount (distinct finite values)`);
  assert.equal(f.maxFinite, st.maxFinite, `${spec}: maxFinite`);
  assert.equal(f.minFinite, s.family === 'fixed' && !s.signed ? 0 : st.minFinite, `${spec}: minFinite`);
  if (st.minPositive !== undefined) {
    assert.equal(f.minPositive, st.minPositive, `${spec}: minPositive`);
    assert.equal(f.minNormal, st.minNormal, `${spec}: minNormal`);
  }
  assert.equal(f.hasNaN, st.nans > 0, `${spec}: hasNaN`);
  assert.equal(f.hasInf, st.infinities > 0, `${spec}: hasInf`);
  const cc = f.codeCounts();
  assert.equal(cc.total, 2 ** bits, `${spec}: codeCounts().total`);
  assert.equal(cc.nans, st.nans, `${spec}: codeCounts().nans`);
  assert.equal(cc.infinities, st.infinities, `${spec}: codeCounts().infinities`);
  assert.equal(cc.zeros, st.zeroCodes, `${spec}: codeCounts().zeros`);
  assert.equal(cc.subnormals, st.subnormalCodes, `${spec}: codeCounts().subnormals`);
  assert.equal(cc.finiteValues, st.values.length, `${spec}: codeCounts().finiteValues`);
}

async function runAll(t: { test: (name: string, fn: () => void) => Promise<void> }, specs: readonly string[]): Promise<void> {
  for (const spec of specs) await t.test(spec, () => checkScalar(spec));
}

test('decode: named IEEE-style and OCP floats, every code', async (t) => {
  await runAll(t, NAMED_FLOATS);
});

test('decode: named integers, every code', async (t) => {
  await runAll(t, NAMED_INTS);
});

test('decode: generic float<E,M,...> (E 1..8, flavours, biases, nosub), every code', async (t) => {
  const specs = genericFloats();
  assert.ok(specs.length > 200);
  await runAll(t, specs);
});

test('decode: fixed<W,F> and ufixed<W,F> (F = 0, F < 0, F > W, wrap), every code', async (t) => {
  await runAll(t, FIXED_SPECS);
});

test('decode: posit8, posit16 and posit<N,ES> for N 2..16, ES 0..4, every code', async (t) => {
  await runAll(t, ['posit8', 'posit16', ...allPosits()]);
});

function blockSpec(spec: string): BlockSpec {
  const s = parseSpec(spec);
  if (s.family !== 'mx' && s.family !== 'bfp') throw new Error(`${spec} is not a block format`);
  return s;
}

test('decode: MX element codes at scale 1 (element.decode and decodeElement(code, 0)) and at other scales', async (t) => {
  for (const spec of MX_SPECS) {
    await t.test(spec, () => {
      const b = parseFormat(spec);
      assert.ok(b instanceof BlockFormat);
      const s = blockSpec(spec);
      assert.equal(s.family, 'mx');
      if (s.family !== 'mx') return;
      const el = s.element;
      const want = (c: number): OracleValue => (el.family === 'float' ? decodeFloat(el, c) : decodeFixed(el, c));
      const bits = el.family === 'float' ? 1 + el.exponentBits + el.mantissaBits : el.width;
      assert.ok(b.element, `${spec} has an element format`);
      const element = b.element;
      compareAllCodes(`${spec} element.decode`, bits, (c) => element.decode(c), want);
      compareAllCodes(`${spec} decodeElement(code, 0)`, bits, (c) => b.decodeElement(c, 0), want);
      for (const k of [-127, -9, 5, 127]) {
        compareAllCodes(`${spec} decodeElement(code, ${k})`, bits, (c) => b.decodeElement(c, k), (c) => {
          const v = want(c);
          return v.kind === 'finite' ? { ...v, mag: { m: v.mag.m, e: v.mag.e + k } } : v;
        });
      }
      compareAllCodes(`${spec} decodeElement(code, NaN)`, bits, (c) => b.decodeElement(c, NaN), () => ({ kind: 'nan' }));
      // elementValues() lists the element's distinct finite values.
      const st = scalarStats(el);
      assert.deepEqual([...b.elementValues()], [...st.values], `${spec}: elementValues()`);
      assert.equal(b.params.elementMax, st.maxFinite, `${spec}: element max`);
      assert.equal(b.maxFinite, st.maxFinite * 2 ** 127, `${spec}: maxFinite = element max · 2^127`);
      assert.equal(b.minPositive, st.minPositive * 2 ** -127, `${spec}: minPositive = element min positive · 2^-127`);
    });
  }
});

test('decode: bfp<W,B> element codes (sign-magnitude, 2^-(W-2) per unit) at several scales', async (t) => {
  for (const spec of BFP_SPECS) {
    await t.test(spec, () => {
      const b = parseFormat(spec);
      assert.ok(b instanceof BlockFormat);
      const s = blockSpec(spec);
      if (s.family !== 'bfp') throw new Error('bfp expected');
      const W = s.width;
      assert.equal(b.element, null);
      for (const k of [0, -127, -3, 17, 127]) {
        compareAllCodes(`${spec} decodeElement(code, ${k})`, W, (c) => b.decodeElement(c, k), (c) => {
          const v = decodeBfpElement(W, c);
          return v.kind === 'finite' ? { ...v, mag: { m: v.mag.m, e: v.mag.e + k } } : v;
        });
      }
      const distinct = new Set<number>();
      for (let c = 0; c < 2 ** W; c++) distinct.add(oracleToNumber(decodeBfpElement(W, c)) + 0);
      assert.deepEqual([...b.elementValues()], [...distinct].sort((x, y) => x - y), `${spec}: elementValues()`);
      const max = (2 ** (W - 1) - 1) * 2 ** (2 - W);
      assert.equal(b.maxFinite, max * 2 ** 127, `${spec}: maxFinite`);
      assert.equal(b.minPositive, 2 ** (2 - W) * 2 ** -127, `${spec}: minPositive`);
    });
  }
});

test('decode: codes were checked', () => {
  assert.ok(totalCodes > 5_000_000, `only ${totalCodes} codes checked`);
  console.log(`decode: ${totalCodes} codes compared with the oracle`);
});

