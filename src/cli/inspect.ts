/** `precis inspect RUN_DIR`: what a run was and what its emulated arithmetic did, layer by layer. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { summarizeTelemetry, type PrecisionSummary, type RoleSummary } from '../precision/telemetry.js';
import { RUN_FILES, type Summary } from '../train/trainer.js';
import type { Recipe } from '../train/recipe.js';
import { parseArgs, UsageError } from './args.js';

export const INSPECT_USAGE = `precis inspect RUN_DIR [--json]
  a run's recipe, accuracy and precision telemetry: per layer and role, the format, the
  fraction of values that overflowed (saturated, or became Inf/NaN) or flushed to zero, the
  rounding error (relative RMS over the logged steps, and its SNR); accumulators' swamping;
  the loss scale and skipped steps. Works on a run in progress (from its metrics.jsonl).`;

function readJson<T>(path: string, what: string): T {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (e) {
    throw new UsageError(`cannot read ${what} ${path}: ${(e as Error).message}`, 'pass a run directory written by `precis train`');
  }
}

function readLines(path: string): object[] {
  if (!existsSync(path)) return [];
  const out: object[] = [];
  readFileSync(path, 'utf8').split('\n').forEach((l, i) => {
    if (l.trim() === '') return;
    try {
      out.push(JSON.parse(l) as object);
    } catch {
      throw new UsageError(`${path} line ${i + 1} is not JSON`, 'the metrics file is damaged; the checkpoint and summary are unaffected');
    }
  });
  return out;
}

const pct = (x: number): string => (x === 0 ? '0' : x < 1e-4 ? `${(100 * x).toExponential(1)}%` : `${(100 * x).toFixed(2)}%`);
const num = (x: number | undefined, digits: number): string => (x === undefined ? '-' : Number.isFinite(x) ? x.toFixed(digits) : String(x));

/** Rows as aligned text: the first `left` columns left-aligned, the rest (numbers) right-aligned. */
function table(rows: string[][], left: number): string[] {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => (c < left ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ').trimEnd());
}

export function inspectCommand(argv: readonly string[], out: (line: string) => void): void {
  if (argv.includes('--help') || argv.includes('-h')) { out(INSPECT_USAGE); return; }
  const args = parseArgs(argv, { values: [], booleans: ['json'] }, 'see `precis inspect --help`');
  const dir = args.positional[0];
  if (!dir || args.positional.length > 1) throw new UsageError('precis inspect takes one run directory', 'e.g. precis inspect runs/lenet5-mnist');
  const recipePath = join(dir, RUN_FILES.recipe);
  if (!existsSync(recipePath)) throw new UsageError(`${dir} is not a run directory (no ${RUN_FILES.recipe})`, 'pass the --out directory of a `precis train` run');
  const recipe = readJson<Recipe>(recipePath, 'the recipe');
  const summaryPath = join(dir, RUN_FILES.summary);
  const summary = existsSync(summaryPath) ? readJson<Summary>(summaryPath, 'the summary') : null;
  const lines = readLines(join(dir, RUN_FILES.metrics));
  const precision: PrecisionSummary = summary?.precision ?? summarizeTelemetry(lines);
  const evals = lines.filter((l) => (l as { type?: string }).type === 'eval') as { epoch: number; testAccuracy: number; testLoss: number }[];
  if (args.booleans.has('json')) {
    out(JSON.stringify({ run: dir, recipe, summary, evaluations: evals, precision }));
    return;
  }
  out(`run ${dir}: ${recipe.model} on ${recipe.dataset}, ${recipe.epochs} epoch(s), ${recipe.optimizer} lr ${recipe.lr}, seed ${recipe.seed}`);
  if (recipe.description) out(`  ${recipe.description}`);
  if (summary) out(`finished: test accuracy ${(100 * summary.testAccuracy).toFixed(2)}%, test loss ${summary.testLoss.toFixed(4)}, ${summary.trainSeconds.toFixed(1)} s (${summary.backend}, ${summary.threads} thread(s))${summary.sample ? ', on the bundled sample' : ''}`);
  else out(`in progress or stopped: ${evals.length} of ${recipe.epochs} epoch(s) evaluated`);
  for (const e of evals) out(`  epoch ${e.epoch + 1}: test accuracy ${(100 * e.testAccuracy).toFixed(2)}%, test loss ${e.testLoss.toFixed(4)}`);
  if (!recipe.precision && !recipe.lossScaling) {
    out('precision: fp32 throughout (the recipe has no precision policy)');
    return;
  }
  if (recipe.lossScaling) out(`loss scaling: ${recipe.lossScaling.mode}; final scale ${precision.lossScale ?? '-'}, ${precision.skippedSteps ?? 0} step(s) skipped for overflow`);
  const rows = [['layer', 'role', 'format', 'values', 'overflow', 'as', 'flushed', 'nan', 'rel.RMS', 'SNR dB']];
  const add = (layer: string, role: string, r: RoleSummary) =>
    rows.push([layer, role, r.format, String(r.values), pct(r.overflow), r.overflowAs, pct(r.flushed), pct(r.nan), num(r.relativeRms, 4), r.relativeRms === 0 ? 'exact' : num(r.snrDb, 1)]);
  for (const [layer, roles] of Object.entries(precision.layers)) for (const [role, r] of Object.entries(roles)) add(layer, role, r);
  if (precision.loss) add('(loss)', 'loss', precision.loss);
  if (rows.length === 1 && !precision.accumulators) {
    out('no telemetry logged yet');
    return;
  }
  if (rows.length > 1) {
    out('telemetry over the logged steps (rounding error averaged over the steps that measured it):');
    for (const l of table(rows, 3)) out(`  ${l}`);
  }
  const acc = Object.entries(precision.accumulators ?? {});
  if (acc.length > 0) {
    out('accumulators (on the logged steps: multiply-adds through each layer\'s model, the fraction of adds swamped, rounding events):');
    const arows = [['layer', 'model', 'multiply-adds', 'swamped', 'overflows', 'underflows']];
    for (const [layer, a] of acc) arows.push([layer, a.model, String(a.products), pct(a.swamped), String(a.overflow), String(a.underflow)]);
    for (const l of table(arows, 2)) out(`  ${l}`);
  }
}
