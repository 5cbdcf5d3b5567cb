#!/usr/bin/env node
// `npm run bench -- <area> [options]` runs dist/bench/<area>.js.
import { existsSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const [area, ...rest] = process.argv.slice(2);
const areas = readdirSync('dist/bench').filter((f) => f.endsWith('.js')).map((f) => f.slice(0, -3));
if (!area || !existsSync(`dist/bench/${area}.js`)) {
  console.error(`usage: npm run bench -- <area> [options]\nareas: ${areas.join(', ')}`);
  process.exit(2);
}
const r = spawnSync(process.execPath, [`dist/bench/${area}.js`, ...rest], { stdio: 'inherit' });
process.exit(r.status ?? 1);
