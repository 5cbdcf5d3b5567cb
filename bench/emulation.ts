/**
 * npm run bench -- emulation [--recipes mellempudi-e5m2-lenet5,...] [--backend native] [--threads 2]
 *                            [--data-dir DIR] [--gemm-size 512] [--skip-training] [--skip-gemm]
 *
 * What emulated arithmetic costs:
 *  - training: seconds per epoch of each recipe (one epoch of recipes/NAME.json)
 *    beside the same recipe without its precision policy and loss scaling,
 *    measured in the same run; overhead = emulated / fp32.
 *  - GEMM at n³ (default 512): the accumulator models against the fp32 GEMM,
 *    both on the chosen backend: `exact` (a quire, into float32 and into
 *    posit<8,0>), per-add float accumulators (Blumenfeld et al.'s 12-bit M7E4
 *    with chunks of 16; float<5,10> to nearest and stochastically), a
 *    per-add posit<16,1> and fixed-point sums (fixed<16,10> saturating, a
 *    wrapping fixed<32,16>); each with its events counted and without
 *    (training counts on its logged steps only).
 * One JSON line per measurement on stdout; progress on stderr.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getBackend, setBackend, type BackendName } from '../src/backend/index.js';
import { packageRoot } from '../src/backend/paths.js';
import { loadDataset } from '../src/data/load.js';
import { accumulatedGemm, type OutputQuantizer } from '../src/precision/accumulator.js';
import { resolveRecipe, validatePartial, type Recipe } from '../src/train/recipe.js';
import { train } from '../src/train/trainer.js';
import { arg, benchDataDir, bestOf, fill } from './support.js';

const flag = (name: string) => process.argv.includes(`--${name}`);
const log = (s: string) => process.stderr.write(`${s}\n`);
const backend = arg('backend', 'native') as BackendName;
const threads = Number(arg('threads', '2'));

async function epochSeconds(recipe: Recipe): Promise<{ seconds: number; accuracy: number; sample: boolean }> {
  const dataset = await loadDataset(recipe.dataset, { dataDir: recipe.dataDir ?? benchDataDir() });
  const out = mkdtempSync(join(tmpdir(), 'precis-bench-emulation-'));
  try {
    const s = await train(recipe, { out, dataset });
    return { seconds: s.trainSeconds / s.epochs, accuracy: s.testAccuracy, sample: s.sample };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

async function training(): Promise<void> {
  for (const name of arg('recipes', 'mellempudi-e5m2-lenet5').split(',')) {
    const file = join(packageRoot(), 'recipes', `${name}.json`);
    const emulated = resolveRecipe(validatePartial(JSON.parse(readFileSync(file, 'utf8')), file), { epochs: 1, backend, threads }, backend, threads);
    const fp32: Recipe = { ...emulated, precision: null, lossScaling: null };
    log(`${name}: one epoch in fp32, then emulated (${backend}, ${threads} thread(s))`);
    const base = await epochSeconds(fp32);
    const emu = await epochSeconds(emulated);
    console.log(JSON.stringify({
      bench: 'emulation', recipe: name, model: emulated.model, dataset: emulated.dataset, sample: emu.sample, backend, threads: getBackend().threads(),
      secondsPerEpoch: emu.seconds, fp32SecondsPerEpoch: base.seconds, overhead: emu.seconds / base.seconds,
      testAccuracy: emu.accuracy, fp32TestAccuracy: base.accuracy,
    }));
  }
}

function gemms(): void {
  const n = Number(arg('gemm-size', '512'));
  // Values of a trained layer's scale (±0.1), so the narrow accumulator sees realistic swamping, not constant overflow.
  const a = fill(n * n, 1).map((v) => v * 0.2), b = fill(n * n, 2).map((v) => v * 0.2), c = new Float32Array(n * n);
  const k = getBackend();
  const fp32 = bestOf(() => k.gemm(false, false, n, n, n, a, b, c, false), 5);
  const models: [string, string, OutputQuantizer | undefined][] = [
    ['exact', 'exact', undefined],
    ['exact-posit8', 'exact', { format: 'posit<8,0>' }],
    ['m7e4-chunk16', 'float<4,7,none,bias=10> product=float<4,7,none,bias=12> rounding=down order=chunk:16 underflow=flush overflow=saturate', undefined],
    ['m10e5', 'float<5,10>', undefined],
    ['m10e5-stochastic', 'float<5,10> rounding=stochastic', undefined],
    ['posit16', 'posit<16,1>', undefined],
    ['fixed16', 'fixed<16,10>', undefined],
    ['int32-wrap', 'fixed<32,16> overflow=wrap', undefined],
  ];
  // Each model with its events counted (as on the steps training logs) and without (every other step).
  for (const [label, spec, output] of models) {
    for (const events of [true, false]) {
      log(`gemm ${n}³ with the ${label} accumulator, events ${events ? 'counted' : 'off'}`);
      // A model that takes a second or more is timed once (a warm-up would double the bench for no precision);
      // a faster one, best of 5 like the fp32 GEMM beside it.
      const call = () => accumulatedGemm(spec, false, false, n, n, n, a, b, c, false, { output, events });
      const t0 = process.hrtime.bigint();
      call();
      const once = Number(process.hrtime.bigint() - t0) / 1e9;
      const t = once < 0.5 ? Math.min(once, bestOf(call, 5)) : once;
      console.log(JSON.stringify({
        bench: 'emulation-gemm', size: n, accumulator: label, spec, output: output?.format ?? 'fp32', events, backend: k.name, isa: k.isa(),
        threads: k.threads(), seconds: t, fp32Seconds: fp32, overhead: t / fp32, nsPerMultiplyAdd: (t * 1e9) / n ** 3,
      }));
    }
  }
}

setBackend(backend).setThreads(threads);
if (!flag('skip-training')) await training();
if (!flag('skip-gemm')) gemms();
