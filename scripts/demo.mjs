#!/usr/bin/env node
// `npm run demo`: the main job. Shows the machine, then trains LeNet-5 for one
// epoch (on the bundled MNIST sample unless PRECIS_DATA_DIR names the full
// set) into a fresh run directory, so a second demo never touches the first.
import { spawnSync } from 'node:child_process';

const run = (args) => {
  const r = spawnSync(process.execPath, ['bin/precis.js', ...args], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
};
const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
run(['doctor']);
run(['train', '--model', 'lenet5', '--epochs', '1', '--lr', '0.0625', '--momentum', '0.5', '--out', `runs/demo-${stamp}`]);
