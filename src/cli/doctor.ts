/** `precis doctor`: what this machine can run, and what precis will use. */
import { arch, platform } from 'node:os';
import { defaultThreads, getBackend, isNative, loadBackend, probeBackends } from '../backend/index.js';
import { packageVersion } from './version.js';

/** Prints what it can; a bad setting (PRECIS_BACKEND, PRECIS_THREADS) is reported in place and then thrown. */
export function doctor(out: (line: string) => void): void {
  out(`precis ${packageVersion()}  node ${process.version}  ${platform()} ${arch()}`);
  let cpu = 'unknown (native addon not loaded)';
  try {
    const native = loadBackend('native');
    if (isNative(native)) cpu = native.cpuFeatures();
  } catch {
    // reported below with the native backend's own reason
  }
  out(`cpu features: ${cpu}`);
  let problem: unknown = null;
  const attempt = (what: string, fn: () => void): void => {
    try {
      fn();
    } catch (e) {
      out(`${what}: cannot tell: ${(e as Error).message.split('\n')[0]}`);
      problem ??= e;
    }
  };
  attempt('backends', () => {
    const probed = probeBackends();
    out('backends:');
    for (const b of probed) {
      const detail = b.ok ? `ok    isa ${b.isa}` : `unavailable: ${(b.reason ?? '').split('\n')[0]}`;
      out(`  ${b.name.padEnd(7)}${detail}`);
    }
  });
  attempt('chosen', () => {
    const env = process.env.PRECIS_BACKEND;
    const k = getBackend();
    out(`chosen: ${k.name} (${env ? `PRECIS_BACKEND=${env}` : 'the fastest that loads; set PRECIS_BACKEND=js|wasm|native to choose'})`);
    out(`isa: ${k.isa()}`);
    out(`threads: ${k.threads()}${isNative(k) ? '' : ' (this backend runs on one thread)'}; default ${defaultThreads()} (PRECIS_THREADS or the number of cores)`);
  });
  if (problem) throw problem;
}
