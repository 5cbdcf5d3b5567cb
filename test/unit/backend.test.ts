/**
 * Backend choice: PRECIS_BACKEND, setBackend, loadBackend, probeBackends.
 * Environment-dependent behaviour runs in child processes; a missing build
 * is simulated by a copy of dist/src in a temporary package without build
 * outputs (the real build/ is never touched).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  OptionError, UnsupportedError, getBackend, loadBackend, probeBackends, quantize, setBackend,
} from '../../src/index.js';
import { isNative } from '../../src/backend/index.js';
import { jsKernels } from '../../src/backend/js.js';
import { ON_CI, requireBackends } from '../xbackend/backends.js';

const INDEX_URL = new URL('../../src/index.js', import.meta.url).href;
const DIST_SRC = fileURLToPath(new URL('../../src/', import.meta.url));

interface ErrorInfo { name: string; code?: string; message: string; hint?: string }
interface ProbeInfo { name: string; ok: boolean; reason?: string; isa?: string }
interface ChildReport {
  backend?: string;
  isa?: string;
  threads?: number;
  getBackendError?: ErrorInfo;
  probeError?: ErrorInfo;
  probe: ProbeInfo[];
  load: Record<string, 'ok' | ErrorInfo>;
}

const CHILD = `
const m = await import(process.env.PRECIS_TEST_INDEX);
const err = (e) => ({ name: e.name, code: e.code, message: e.message, hint: e.hint });
const out = { load: {} };
try { const k = m.getBackend(); out.backend = k.name; out.isa = k.isa(); out.threads = k.threads(); } catch (e) { out.getBackendError = err(e); }
try { out.probe = m.probeBackends(); } catch (e) { out.probe = []; out.probeError = err(e); }
for (const n of ['native', 'wasm', 'js']) { try { m.loadBackend(n); out.load[n] = 'ok'; } catch (e) { out.load[n] = err(e); } }
console.log(JSON.stringify(out));
`;

/** Runs the probe script in a fresh node with the given PRECIS_* variables (and no inherited ones). */
function child(env: Record<string, string>, index = INDEX_URL): ChildReport {
  const base: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('PRECIS_')) base[k] = v;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', CHILD], {
    env: { ...base, ...env, PRECIS_TEST_INDEX: index }, encoding: 'utf8', timeout: 60_000,
  });
  assert.equal(r.status, 0, `child failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as ChildReport;
}

function loaded(): Set<string> {
  return new Set(probeBackends().filter((b) => b.ok).map((b) => b.name));
}

function isErrorInfo(v: 'ok' | ErrorInfo | undefined): v is ErrorInfo {
  return typeof v === 'object';
}

test('unknown backend names are OptionErrors that name the valid ones', () => {
  for (const call of [() => loadBackend('bogus'), () => setBackend('gpu'), () => loadBackend('JS'), () => loadBackend('')]) {
    assert.throws(call, (e: unknown) => {
      assert.ok(e instanceof OptionError, String(e));
      assert.equal(e.code, 'E_OPTION');
      assert.match(e.message, /unknown backend/);
      for (const n of ['native', 'wasm', 'js']) assert.ok(e.hint.includes(n), `hint '${e.hint}' lacks ${n}`);
      return true;
    });
  }
});

test('probeBackends lists native, wasm and js, with the reason for each failure', () => {
  const p = probeBackends();
  assert.deepEqual(p.map((b) => b.name), ['native', 'wasm', 'js']);
  const js = p.find((b) => b.name === 'js');
  assert.equal(js?.ok, true);
  assert.equal(js?.isa, 'js');
  for (const b of p) {
    if (b.ok) {
      assert.equal(typeof b.isa, 'string');
      assert.equal(b.reason, undefined);
    } else {
      assert.ok(b.reason && b.reason.length > 10, `${b.name} failed without a reason`);
      assert.throws(() => loadBackend(b.name), UnsupportedError);
    }
  }
  if (ON_CI) assert.ok(p.every((b) => b.ok), `CI must build every backend: ${JSON.stringify(p)}`);
});

test('loadBackend returns one object per backend; setBackend changes what getBackend and quantize use', () => {
  const before = getBackend();
  try {
    for (const name of loaded()) {
      const k = loadBackend(name);
      assert.equal(loadBackend(name), k);
      assert.equal(k.name, name);
      assert.equal(setBackend(name), k);
      assert.equal(getBackend(), k);
    }
    setBackend('js');
    assert.equal(getBackend().name, 'js');
    // a failed setBackend leaves the active backend alone
    assert.throws(() => setBackend('bogus'), OptionError);
    assert.equal(getBackend().name, 'js');
    const dst = new Float32Array(2);
    quantize(new Float32Array([1.0625, 3]), dst, 'e4m3');
    assert.deepEqual([...dst], [1, 3]);
  } finally {
    setBackend(before.name);
  }
});

test('the native addon: ISA switching and thread counts', (t) => {
  if (!requireBackends(t, ['native'])) return;
  const k = loadBackend('native');
  assert.ok(isNative(k));
  const features = k.cpuFeatures().split(' ');
  assert.ok(features.includes('sse2'));
  const best = features.includes('avx512') ? 'avx512' : features.includes('avx2') ? 'avx2' : 'sse2';
  const threads = k.threads();
  try {
    assert.equal(k.isa(), best, 'the addon starts on the widest ISA');
    for (const isa of ['sse2', 'avx2', 'avx512']) {
      assert.equal(k.setIsa(isa), features.includes(isa), isa);
      if (features.includes(isa)) assert.equal(k.isa(), isa);
    }
    assert.equal(k.setIsa('bogus'), false);
    assert.equal(k.setIsa('best'), true);
    assert.equal(k.isa(), best);
    assert.equal(k.setThreads(1), 1);
    assert.equal(k.threads(), 1);
    assert.equal(k.setThreads(3), 3);
    assert.equal(k.threads(), 3);
    assert.equal(k.setThreads(0), 1, 'fewer than one thread means one');
  } finally {
    k.setIsa('best');
    k.setThreads(threads);
  }
});

test('the native thread pool: thousands of back-to-back jobs of every size, at 2 to 4 threads, give the reference\'s results', (t) => {
  if (!requireBackends(t, ['native'])) return;
  const k = loadBackend('native');
  const threads = k.threads();
  // sumRows splits its columns into tasks once a call moves 64 KiB; 1..4 threads on any core count
  const rows = 40, n = 5000, g = new Float32Array(rows * n).map((_, i) => ((i * 2654435761) % 1000) / 7 - 70);
  const want = new Float32Array(n), got = new Float32Array(n);
  jsKernels.sumRows(g, want, rows, n);
  try {
    for (const th of [2, 3, 4, 1, 2]) {
      k.setThreads(th);
      for (let rep = 0; rep < 2000; rep++) {
        const cols = 1 + ((rep * 7919) % n); // jobs from one task to many, back to back
        got.fill(NaN);
        k.sumRows(g, got, rows, cols);
        if (rep % 97 === 0) {
          const ref = new Float32Array(cols);
          jsKernels.sumRows(g, ref, rows, cols);
          assert.deepEqual(got.subarray(0, cols), ref, `threads ${th}, ${cols} columns`);
        }
        assert.ok(!got.subarray(0, cols).some(Number.isNaN), `threads ${th}, ${cols} columns: every task ran`);
      }
      k.sumRows(g, got, rows, n);
      assert.deepEqual(got, want, `threads ${th}`);
    }
  } finally {
    k.setThreads(threads);
  }
});

test('PRECIS_BACKEND picks the backend, and an unknown name is an OptionError naming the valid ones', () => {
  const ok = loaded();
  for (const name of ['js', 'wasm', 'native']) {
    if (!ok.has(name)) continue;
    const r = child({ PRECIS_BACKEND: name });
    assert.equal(r.backend, name, JSON.stringify(r));
  }
  const bad = child({ PRECIS_BACKEND: 'bogus' });
  assert.equal(bad.backend, undefined);
  assert.equal(bad.getBackendError?.name, 'OptionError');
  assert.equal(bad.getBackendError?.code, 'E_OPTION');
  assert.match(bad.getBackendError?.message ?? '', /bogus/);
  assert.match(bad.getBackendError?.hint ?? '', /native, wasm, js/);
});

test('without PRECIS_BACKEND the fastest backend that loads is used', () => {
  const ok = loaded();
  const want = ['native', 'wasm', 'js'].find((n) => ok.has(n));
  const r = child({});
  assert.equal(r.backend, want);
  // by default native uses every core; js and wasm run on one thread
  assert.equal(r.threads, want === 'native' ? availableParallelism() : 1);
});

test('PRECIS_ISA: a bogus ISA makes native fail to load with an UnsupportedError and a hint, never a silent swap', (t) => {
  if (!requireBackends(t, ['native'])) return;
  const r = child({ PRECIS_ISA: 'bogus' });
  const native = r.probe.find((b) => b.name === 'native');
  assert.equal(native?.ok, false);
  assert.match(native?.reason ?? '', /PRECIS_ISA=bogus/);
  const e = r.load.native;
  assert.ok(isErrorInfo(e), JSON.stringify(r.load));
  assert.equal(e.name, 'UnsupportedError');
  assert.equal(e.code, 'E_UNSUPPORTED');
  assert.match(e.hint ?? '', /sse2, avx2, avx512 or best/);
  // the automatic choice moves on to the next backend that loads
  assert.notEqual(r.backend, 'native');
  assert.equal(r.backend, loaded().has('wasm') ? 'wasm' : 'js');
  // but naming native fails loudly
  const named = child({ PRECIS_ISA: 'bogus', PRECIS_BACKEND: 'native' });
  assert.equal(named.backend, undefined);
  assert.equal(named.getBackendError?.name, 'UnsupportedError');
  // a supported ISA is honoured
  const sse2 = child({ PRECIS_ISA: 'sse2', PRECIS_BACKEND: 'native' });
  assert.equal(sse2.isa, 'sse2');
});

test('PRECIS_THREADS sets the native thread count', (t) => {
  if (!requireBackends(t, ['native'])) return;
  assert.equal(child({ PRECIS_BACKEND: 'native', PRECIS_THREADS: '1' }).threads, 1);
  assert.equal(child({ PRECIS_BACKEND: 'native', PRECIS_THREADS: '3' }).threads, 3);
});

test('an invalid PRECIS_THREADS is an OptionError from every entry point, never a backend failure', () => {
  const r = child({ PRECIS_THREADS: '0' });
  for (const name of ['js', 'wasm', 'native'] as const) {
    const b = r.load[name];
    assert.ok(isErrorInfo(b), `loadBackend('${name}') with PRECIS_THREADS=0 loaded`);
    assert.equal(b.name, 'OptionError', `loadBackend('${name}') threw ${b.name}: ${b.message}`);
    assert.match(b.message, /PRECIS_THREADS must be a positive integer/);
  }
  assert.equal(r.backend, undefined);
  assert.equal(r.getBackendError?.name, 'OptionError');
  assert.deepEqual(r.probe, []);
  assert.equal(r.probeError?.name, 'OptionError');
});

test('a package without build outputs: native and wasm fail with UnsupportedError and a hint; js still works', () => {
  const dir = mkdtempSync(join(tmpdir(), 'precis-nobuild-'));
  try {
    cpSync(DIST_SRC, join(dir, 'dist', 'src'), { recursive: true });
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'precis', type: 'module' }));
    const index = new URL(`file://${join(dir, 'dist', 'src', 'index.js')}`).href;
    const r = child({}, index);
    const native = r.load.native;
    const wasm = r.load.wasm;
    assert.ok(isErrorInfo(native) && isErrorInfo(wasm), JSON.stringify(r.load));
    assert.equal(native.name, 'UnsupportedError');
    assert.equal(native.code, 'E_UNSUPPORTED');
    assert.match(native.message, /not built|missing/);
    assert.match(native.hint ?? '', /build-kernels|rebuild/);
    assert.equal(wasm.name, 'UnsupportedError');
    assert.match(wasm.message, /not found/);
    assert.match(wasm.hint ?? '', /npm install|build-kernels/);
    assert.equal(r.load.js, 'ok');
    assert.deepEqual(r.probe.map((b) => [b.name, b.ok]), [['native', false], ['wasm', false], ['js', true]]);
    for (const b of r.probe) if (!b.ok) assert.ok((b.reason ?? '').length > 0);
    assert.equal(r.backend, 'js');
    // naming a backend that cannot load fails loudly
    for (const name of ['native', 'wasm']) {
      const named = child({ PRECIS_BACKEND: name }, index);
      assert.equal(named.backend, undefined, name);
      assert.equal(named.getBackendError?.name, 'UnsupportedError', name);
      assert.ok((named.getBackendError?.hint ?? '').length > 0, name);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
