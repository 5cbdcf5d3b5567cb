/**
 * quantize and encode against the oracle at every tie point of every format
 * of 2 to 15 bits (see ties.ts): all rounding modes, both overflow settings
 * and both subnormal settings (formats above 12 bits: all five modes on every
 * point, every option set near the ends).
 */
import { test } from 'node:test';
import { parseFormat } from '../../src/index.js';
import { allScalarSpecs } from '../oracle/catalog.js';
import { assertClean, newTally } from './check.js';
import { checkTies } from './ties.js';

const SPECS = allScalarSpecs().filter((s) => parseFormat(s).bits <= 15);

test('tie points of every format up to 15 bits, all options', async (t) => {
  let checked = 0;
  for (const spec of SPECS) {
    await t.test(spec, () => {
      const tally = newTally();
      checkTies(tally, spec, parseFormat(spec).bits <= 12 ? 'full' : 'wide');
      checked += tally.checked;
      assertClean(tally, spec);
    });
  }
  console.log(`tie points (<= 15 bits): ${SPECS.length} formats, ${checked} roundings compared`);
});
