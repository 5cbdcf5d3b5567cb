/**
 * npm run bench -- train [--models mlp,lenet5] [--backends native,wasm] [--threads 2,1]
 *                        [--data-dir DIR] [--quick] [--max-steps N]
 *
 * Seconds per MNIST training epoch and the test accuracy after it, for
 *  - mlp 784-1000-1000-10, batch 100, SGD lr 0.01 momentum 0.9;
 *  - lenet5, batch 64, SGD lr 1/16 momentum 0.5 (PositNN's setting);
 * with native at 2 and 1 threads and wasm (one thread), against PyTorch
 * (bench/peer/torch_train.py) at 2 and 1 threads on the same data and
 * hyper-parameters, measured in the same run. One JSON line per
 * configuration on stdout; progress on stderr.
 *
 * secondsPerEpoch is the wall time of the training loop only, the same loop
 * in both: assemble each shuffled batch, forward, cross-entropy, read the
 * loss, backward, optimizer step, zero the gradients. Loading the files and
 * the test evaluation are outside it. `ratio` is ours / peer at the same
 * thread count (wasm against PyTorch on one thread).
 *
 * Data: --data-dir, else PRECIS_DATA_DIR, else ../shared/data/mnist when it
 * exists, else the download cache or the bundled sample; every line says
 * `sample: true` when the sample stood in (nothing is scaled to a full epoch).
 * --quick stops every epoch after 200 steps (--max-steps N to choose), a
 * smoke test; the lines then say `quick: true` and time only those steps.
 *
 * The peer runs under PRECIS_PEER_PYTHON, else the first of /usr/bin/python3
 * and python3 that can import torch, with OPENBLAS_CORETYPE=SkylakeX and
 * OMP_WAIT_POLICY=PASSIVE.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { setBackend, type BackendName } from '../src/backend/index.js';
import { packageRoot } from '../src/backend/paths.js';
import { batchCount, batches } from '../src/data/batch.js';
import { loadDataset, type Dataset } from '../src/data/load.js';
import { createModel } from '../src/nn/zoo.js';
import { createOptimizer } from '../src/optim/index.js';
import { backward } from '../src/tensor/autograd.js';
import { softmaxCrossEntropy } from '../src/tensor/ops/loss.js';
import { Tensor } from '../src/tensor/tensor.js';
import { evaluate } from '../src/train/trainer.js';
import { arg, benchDataDir, loadableBackends } from './support.js';

const flag = (name: string) => process.argv.includes(`--${name}`);

interface Config { batchSize: number; lr: number; momentum: number }
/** Must match CONFIGS in bench/peer/torch_train.py. */
const CONFIGS: Record<string, Config> = {
  mlp: { batchSize: 100, lr: 0.01, momentum: 0.9 },
  lenet5: { batchSize: 64, lr: 1 / 16, momentum: 0.5 },
};
const SEED = 1;

const models = arg('models', 'mlp,lenet5').split(',');
for (const m of models) if (!CONFIGS[m]) throw new Error(`unknown model '${m}': use ${Object.keys(CONFIGS).join(', ')}`);
const backends = arg('backends', 'native,wasm').split(',') as BackendName[];
const nativeThreads = arg('threads', '2,1').split(',').map(Number);
const quick = flag('quick');
const maxSteps = Number(arg('max-steps', quick ? '200' : '0'));

const log = (s: string) => process.stderr.write(`${s}\n`);


// ---- the peer -------------------------------------------------------------

const PEER_ENV = { ...process.env, OPENBLAS_CORETYPE: 'SkylakeX', OMP_WAIT_POLICY: 'PASSIVE' };
const PEER_SCRIPT = join(packageRoot(), 'bench', 'peer', 'torch_train.py');

type Peer = { python: string; version: string } | { reason: string };

function findPeer(): Peer {
  const candidates = process.env.PRECIS_PEER_PYTHON ? [process.env.PRECIS_PEER_PYTHON] : ['/usr/bin/python3', 'python3'];
  const tried: string[] = [];
  for (const python of candidates) {
    const r = spawnSync(python, ['-c', 'import torch, numpy; print(torch.__version__)'], { env: PEER_ENV, encoding: 'utf8' });
    if (r.status === 0) return { python, version: r.stdout.trim() };
    tried.push(`${python}: ${r.error ? r.error.message : (r.stderr.trim().split('\n').pop() ?? `exit ${r.status}`)}`);
  }
  return { reason: `no python that can import torch and numpy (${tried.join('; ')}); set PRECIS_PEER_PYTHON` };
}

interface PeerResult { secondsPerEpoch: number; testAccuracy: number; steps: number; version: string; threads: number }

function runPeer(python: string, model: string, threads: number, dir: string): PeerResult | { error: string } {
  const args = [PEER_SCRIPT, '--model', model, '--threads', String(threads), '--data-dir', dir, '--seed', String(SEED)];
  if (maxSteps > 0) args.push('--max-steps', String(maxSteps));
  const r = spawnSync(python, args, { env: PEER_ENV, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 20 });
  const line = r.stdout?.trim().split('\n').pop();
  if (r.status !== 0 || !line) return { error: r.error ? r.error.message : `${PEER_SCRIPT} exited with ${r.status}` };
  return JSON.parse(line) as PeerResult;
}

// ---- ours -----------------------------------------------------------------

interface OursResult { secondsPerEpoch: number; testAccuracy: number; testLoss: number; steps: number; isa: string; threads: number }

function runOurs(dataset: Dataset, model: string, backend: BackendName, threads: number): OursResult {
  const k = setBackend(backend);
  k.setThreads(threads);
  const cfg = CONFIGS[model];
  const m = createModel(model, { seed: SEED });
  const opt = createOptimizer('sgd', m.module.namedParameters(), { lr: cfg.lr, momentum: cfg.momentum });
  const stepsPerEpoch = batchCount(dataset.train.count, cfg.batchSize);
  const steps = maxSteps > 0 ? Math.min(maxSteps, stepsPerEpoch) : stepsPerEpoch;
  m.module.train();
  const t0 = performance.now();
  for (const b of batches(dataset, 'train', { batchSize: cfg.batchSize, seed: SEED, epoch: 0 })) {
    if (b.step >= steps) break;
    const loss = softmaxCrossEntropy(m.module.forward(new Tensor(b.x, b.shape)), b.y);
    const value = loss.item();
    if (!Number.isFinite(value)) throw new Error(`${model} on ${backend}: loss ${value} at step ${b.step}`);
    backward(loss);
    opt.step();
    opt.zeroGrad();
    if (b.step % 100 === 0) log(`  precis ${model} ${backend} ${k.threads()}T step ${b.step}/${steps} loss ${value.toFixed(4)}`);
  }
  const seconds = (performance.now() - t0) / 1000;
  const ev = evaluate(m, dataset, 1000);
  return { secondsPerEpoch: seconds, testAccuracy: ev.accuracy, testLoss: ev.loss, steps, isa: k.isa(), threads: k.threads() };
}

// ---- main -----------------------------------------------------------------

async function main(): Promise<void> {
  const dir = benchDataDir();
  const dataset = await loadDataset('mnist', dir ? { dataDir: dir } : {});
  log(dataset.sample
    ? `using the bundled MNIST sample (${dataset.train.count} training images): pass --data-dir for the full set; nothing is scaled`
    : `MNIST from ${dataset.dir}: ${dataset.train.count} training, ${dataset.test.count} test images`);
  const peer = findPeer();
  if ('reason' in peer) log(`peer unavailable: ${peer.reason}`);
  else log(`peer: pytorch ${peer.version} (${peer.python})`);

  const common = { bench: 'train', dataset: 'mnist', trainImages: dataset.train.count, ...(dataset.sample ? { sample: true } : {}), ...(maxSteps > 0 ? { quick: true } : {}) };
  for (const model of models) {
    const cfg = CONFIGS[model];
    const peerRuns = new Map<number, PeerResult>();
    if (!('reason' in peer)) {
      const wanted = new Set<number>();
      for (const b of backends) for (const t of b === 'native' ? nativeThreads : [1]) wanted.add(t);
      for (const t of wanted) {
        log(`pytorch ${model}, ${t} thread(s)`);
        const r = runPeer(peer.python, model, t, dataset.dir);
        if ('error' in r) console.log(JSON.stringify({ bench: 'train', model, peer: 'pytorch', threads: t, available: false, reason: r.error }));
        else peerRuns.set(t, r);
      }
    }
    for (const backend of loadableBackends(backends).map((k) => k.name)) {
      for (const threads of backend === 'native' ? nativeThreads : [1]) {
        log(`precis ${model}, ${backend}, ${threads} thread(s)`);
        const ours = runOurs(dataset, model, backend, threads);
        const p = peerRuns.get(ours.threads);
        console.log(JSON.stringify({
          ...common, model, backend, isa: ours.isa, threads: ours.threads, batchSize: cfg.batchSize, optimizer: 'sgd', lr: cfg.lr, momentum: cfg.momentum,
          steps: ours.steps, secondsPerEpoch: round(ours.secondsPerEpoch, 3), testAccuracy: round(ours.testAccuracy, 4),
          ...(p ? {
            peer: `pytorch ${p.version}`, peerThreads: p.threads, peerSteps: p.steps,
            peerSecondsPerEpoch: round(p.secondsPerEpoch, 3), peerTestAccuracy: round(p.testAccuracy, 4),
            ratio: round(ours.secondsPerEpoch / p.secondsPerEpoch, 2),
          } : {}),
        }));
      }
    }
  }
  if ('reason' in peer) console.log(JSON.stringify({ bench: 'train', peer: 'pytorch', available: false, reason: peer.reason }));
}

function round(x: number, digits: number): number {
  return Number(x.toFixed(digits));
}

await main();
