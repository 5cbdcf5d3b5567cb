/** The install step: a failed native build never fails `npm install`, and says so in one line. */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { packageRoot } from '../../src/backend/paths.js';

test('a native build without a working compiler exits 0 with one line naming the fallback', () => {
  const root = packageRoot();
  const dir = mkdtempSync(join(tmpdir(), 'precis-install-'));
  try {
    for (const f of ['package.json', 'binding.gyp', 'kernels', 'scripts']) cpSync(join(root, f), join(dir, f), { recursive: true });
    const r = spawnSync(process.execPath, [join(dir, 'scripts', 'build-kernels.mjs'), 'native'], {
      cwd: dir, encoding: 'utf8', env: { ...process.env, CC: '/bin/false', CXX: '/bin/false', LINK: '/bin/false' },
    });
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 1, r.stdout);
    assert.match(lines[0], /^precis: native kernels not built \(.+\); the wasm backend will be used\. Details: build-native\.log$/);
    assert.ok(!existsSync(join(dir, 'build', 'Release', 'precis.node')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
