/**
 * quantize and encode against the oracle at the tie points of the 16-bit
 * formats (see ties.ts): the named ones, posit<16,ES> for every ES, fixed
 * point and one generic float per flavour family with every point; the other
 * generic 16-bit floats on a deterministic 1-in-10 sample plus every point
 * near the ends.
 */
import { test } from 'node:test';
import { parseFormat } from '../../src/index.js';
import { allScalarSpecs } from '../oracle/catalog.js';
import { assertClean, newTally } from './check.js';
import { checkTies } from './ties.js';

const EVERY_POINT = new Set([
  'fp16', 'bf16', 'int16', 'uint16', 'posit16', 'posit<16,0>', 'posit<16,1>', 'posit<16,3>', 'posit<16,4>',
  'fixed<16,14>', 'fixed<16,149>', 'ufixed<16,16>', 'float<1,14,fn>', 'float<3,12,none,nosub>', 'float<5,10,fnuz>',
  'float<6,9,ieee,nosub>', 'float<8,7,fnuz,nosub>',
]);

const SPECS = [...new Set(allScalarSpecs())].filter((s) => parseFormat(s).bits === 16);

test('tie points of every 16-bit format', async (t) => {
  let checked = 0;
  for (const spec of SPECS) {
    await t.test(spec, () => {
      const tally = newTally();
      checkTies(tally, spec, EVERY_POINT.has(spec) ? 'wide' : 'sampled', 10);
      checked += tally.checked;
      assertClean(tally, spec);
    });
  }
  console.log(`tie points (16 bits): ${SPECS.length} formats, ${checked} roundings compared`);
});
