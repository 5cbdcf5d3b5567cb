#!/usr/bin/env node
// Builds the C kernels twice at `npm install`: the Node addon with node-gyp
// and WebAssembly with @yowasp/clang. A failed build never fails the
// install: it prints one line saying which backend will be used instead.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const only = process.argv[2]; // 'native' | 'wasm' | undefined (both)

function nodeGypPath() {
  if (process.env.npm_config_node_gyp && existsSync(process.env.npm_config_node_gyp)) return process.env.npm_config_node_gyp;
  const npmDir = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm');
  const bundled = join(npmDir, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  if (existsSync(bundled)) return bundled;
  try {
    return createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js');
  } catch {
    return null;
  }
}

function buildNative() {
  if (process.env.PRECIS_SKIP_NATIVE === '1') {
    console.log('precis: native kernels skipped (PRECIS_SKIP_NATIVE=1); the wasm backend will be used.');
    return;
  }
  const gyp = nodeGypPath();
  if (!gyp) {
    console.log('precis: native kernels not built (node-gyp not found); the wasm backend will be used.');
    return;
  }
  // Build against the headers installed beside this node when npm names none, so no download is needed.
  const args = [gyp, 'rebuild'];
  const localHeaders = join(dirname(process.execPath), '..', 'include', 'node', 'node_api.h');
  if (!process.env.npm_config_nodedir && existsSync(localHeaders)) args.push(`--nodedir=${join(dirname(process.execPath), '..')}`);
  const r = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) {
    const text = `${r.stderr ?? ''}${r.stdout ?? ''}`;
    const why = text.split('\n').find((l) => /error|not found|No such/i.test(l))?.trim() ?? `node-gyp exited with ${r.status}`;
    writeFileSync(join(root, 'build-native.log'), text);
    console.log(`precis: native kernels not built (${why.slice(0, 160)}); the wasm backend will be used. Details: build-native.log`);
    return;
  }
  console.log('precis: native kernels built (build/Release/precis.node).');
}

async function buildWasm() {
  let runClang;
  try {
    ({ runClang } = await import('@yowasp/clang'));
  } catch {
    if (existsSync(join(root, 'build-wasm', 'precis-simd128.wasm'))) {
      console.log('precis: using the prebuilt wasm kernels (build-wasm/); install @yowasp/clang to rebuild them.');
    } else {
      console.log('precis: wasm kernels not built (@yowasp/clang is not installed); the js backend will be used unless native loads.');
    }
    return;
  }
  const files = {};
  for (const f of readdirSync(join(root, 'kernels'))) {
    if (f.endsWith('.h') || f === 'wasm.c') files[f] = readFileSync(join(root, 'kernels', f), 'utf8');
  }
  const outDir = join(root, 'build-wasm');
  mkdirSync(outDir, { recursive: true });
  const common = ['clang', '--target=wasm32', '-O3', '-std=c11', '-msimd128', '-mnontrapping-fptoint', '-mbulk-memory',
    '-ffp-contract=off', '-fno-math-errno', '-nostdlib', '-Wl,--no-entry', '-Wl,--strip-all', 'wasm.c'];
  const variants = [
    { name: 'precis-simd128.wasm', flags: [] },
    { name: 'precis-relaxed.wasm', flags: ['-mrelaxed-simd', '-DPC_RELAXED'] },
  ];
  // @yowasp/clang reports loading its own resources on stdout; keep the install output to our one line.
  const log = console.log;
  console.log = () => {};
  let diagnostics = '';
  try {
    for (const v of variants) {
      const out = await runClang([...common, ...v.flags, '-o', v.name], files, {
        fetchProgress: () => {},
        stderr: (bytes) => { if (bytes) diagnostics += new TextDecoder().decode(bytes); },
      });
      writeFileSync(join(outDir, v.name), out[v.name]);
    }
  } catch (e) {
    console.log = log;
    const firstError = diagnostics.split('\n').find((l) => l.includes('error')) ?? String(e?.message ?? e).split('\n')[0];
    console.log(`precis: wasm kernels not built (${firstError.trim().slice(0, 200)}); the js backend will be used unless native loads.`);
    return;
  } finally {
    console.log = log;
  }
  console.log('precis: wasm kernels built (build-wasm/precis-simd128.wasm, precis-relaxed.wasm).');
}

if (only !== 'wasm') buildNative();
if (only !== 'native') await buildWasm();
