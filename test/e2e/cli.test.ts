/** End-to-end tests of the `precis` command: real processes, real stdin/stdout/stderr and exit codes. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { packageRoot } from '../../src/backend/paths.js';

const bin = join(packageRoot(), 'bin', 'precis.js');

function precis(args: string[], input = '', env: Record<string, string> = {}): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { input, encoding: 'utf8', env: { ...process.env, ...env } });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

test('precis with no command prints usage and exits 0', () => {
  const r = precis([]);
  assert.equal(r.code, 0);
  assert.match(r.out, /usage: precis <command>/);
  assert.match(r.out, /formats/);
});

test('an unknown command exits 2 with usage on stderr', () => {
  const r = precis(['frobnicate']);
  assert.equal(r.code, 2);
  assert.match(r.err, /unknown command 'frobnicate'/);
});

test('formats lists the families and the grammar', () => {
  const r = precis(['formats']);
  assert.equal(r.code, 0);
  for (const s of ['float<E,M', 'fixed<W,F', 'posit<N,ES>', 'mxfp8_e4m3', 'bfp<W,B>', 'e4m3fnuz']) assert.ok(r.out.includes(s), s);
});

test('formats show e4m3 gives layout, range, counts and a spread picture', () => {
  const r = precis(['formats', 'show', 'e4m3']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /e4m3 = float<4,3,fn>/);
  assert.match(r.out, /sign 1 \| exponent 4 \| mantissa 3/);
  assert.match(r.out, /max\s+448/);
  assert.match(r.out, /min pos\s+0\.001953125 \(2\^-9\)/);
  assert.match(r.out, /min normal\s+0\.015625 \(2\^-6\)/);
  assert.match(r.out, /epsilon\s+0\.125 \(2\^-3\)/);
  assert.match(r.out, /256: 253 finite values/);
  // one histogram row per binade 2^-9 .. 2^8, the top binade holding 7 values (448 is the last)
  assert.match(r.out, /2\^8 #+ 7\n/);
  assert.match(r.out, /2\^-9 #+ 1\n/);
});

test('formats show works for 32-bit and block formats', () => {
  for (const spec of ['fp32', 'posit32', 'fixed<32,16>', 'mxfp8_e4m3', 'bfp<8,16>', 'posit<32,4>']) {
    const r = precis(['formats', 'show', spec]);
    assert.equal(r.code, 0, `${spec}: ${r.err}`);
    assert.match(r.out, /per binade/);
  }
  assert.match(precis(['formats', 'show', 'posit8']).out, /max\s+16777216 \(2\^24\)/);
});

test('formats encode reads decimals and f32 bit patterns, one line each', () => {
  const r = precis(['formats', 'encode', 'e4m3'], '464\n465\n-0\nnan\nf32:0x3f800000\n0.001\n-inf\n1e-30\n');
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(r.out.trim().split('\n'), [
    '0x7e 448', // tie: to the even encoding
    '0x7f nan', // above the tie: e4m3 has no Inf
    '0x80 -0',
    '0x7f nan',
    '0x38 1',
    '0x01 0.001953125',
    '0x7f nan', // NaN has one canonical code: positive
    '0x00 0',
  ]);
});

test('formats encode --overflow saturate and --subnormals off', () => {
  assert.equal(precis(['formats', 'encode', 'e4m3', '--overflow', 'saturate'], '1000\n-inf\n').out, '0x7e 448\n0xfe -448\n');
  assert.equal(precis(['formats', 'encode', 'fp16'], '65520\n').out, '0x7c00 inf\n');
  assert.equal(precis(['formats', 'encode', 'fp16', '--rounding', 'zero'], '65520\n').out, '0x7bff 65504\n');
  assert.equal(precis(['formats', 'encode', 'e5m2', '--subnormals', 'off'], '0.00002\n').out, '0x00 0\n');
  assert.equal(precis(['formats', 'encode', 'e5m2'], '0.00002\n').out, '0x01 0.0000152587890625\n');
});

test('formats encode of every rounding mode', () => {
  const modes: Record<string, string> = { nearest: '0x3c00 1', 'nearest-away': '0x3c01 1.0009765625', zero: '0x3c00 1', down: '0x3c00 1', up: '0x3c01 1.0009765625' };
  for (const [mode, want] of Object.entries(modes)) {
    assert.equal(precis(['formats', 'encode', 'fp16', '--rounding', mode], '1.00048828125\n').out, `${want}\n`, mode);
  }
});

test('stochastic encode: line i is element i; the same seed repeats, another seed differs', () => {
  const input = '1.1\n'.repeat(400);
  const a = precis(['formats', 'encode', 'e5m2', '--rounding', 'stochastic', '--seed', '7'], input);
  const b = precis(['formats', 'encode', 'e5m2', '--rounding', 'stochastic', '--seed', '7'], input);
  const c = precis(['formats', 'encode', 'e5m2', '--rounding', 'stochastic', '--seed', '8'], input);
  assert.equal(a.code, 0, a.err);
  assert.equal(a.out, b.out);
  assert.notEqual(a.out, c.out);
  const lines = a.out.trim().split('\n');
  assert.equal(lines.length, 400);
  // 1.1 lies between 1 and 1.25 in e5m2: P(1.25) = 0.4
  const ups = lines.filter((l) => l === '0x3d 1.25').length;
  assert.ok(lines.every((l) => l === '0x3c 1' || l === '0x3d 1.25'));
  assert.ok(Math.abs(ups - 160) < 5 * Math.sqrt(400 * 0.4 * 0.6), `ups ${ups}`);
});

test('block formats print the element code and the block scale', () => {
  const r = precis(['formats', 'encode', 'mxfp4'], '1\n2\n3\n1000\n');
  assert.equal(r.code, 0, r.err);
  // amax 1000: floor(log2 1000) - emax(e2m1) = 9 - 2 -> scale 2^7; 1000/128 clamps to 6
  assert.deepEqual(r.out.trim().split('\n'), ['0x0 0 128', '0x0 0 128', '0x0 0 128', '0x7 768 128']);
  const up = precis(['formats', 'encode', 'mx<e2m1,scale=up>'], '1\n2\n3\n1000\n');
  assert.deepEqual(up.out.trim().split('\n').map((l) => l.split(' ')[2]), ['256', '256', '256', '256']);
});

test('formats decode and table', () => {
  assert.equal(precis(['formats', 'decode', 'e4m3', '0x7e', '0x7f', '0b00111000', '1']).out, '0x7e 448\n0x7f nan\n0x38 1\n0x01 0.001953125\n');
  assert.equal(precis(['formats', 'decode', 'posit8', '0x40', '0x80', '0x7f']).out, '0x40 1\n0x80 nan\n0x7f 16777216\n');
  const t = precis(['formats', 'table', 'e2m1']);
  assert.equal(t.code, 0);
  const rows = t.out.trim().split('\n');
  assert.equal(rows[0], 'code,hex,value');
  assert.equal(rows.length, 17);
  assert.equal(rows[8], '7,0x7,6');
  assert.equal(rows[9], '8,0x8,-0');
});

test('malformed specs: a clear message with a caret at the bad part, exit 1', () => {
  for (const [spec, what] of [
    ['float<0,3>', /exponent bits E 0 is out of range 1\.\.8/],
    ['posit<1,0>', /width N 1 is out of range 2\.\.32/],
    ['fixed<40,2>', /width W 40 is out of range 2\.\.32/],
    ['e4m4', /unknown format 'e4m4'/],
    ['float<4,3', /unbalanced '<'/],
  ] as const) {
    const r = precis(['formats', 'show', spec]);
    assert.equal(r.code, 1, spec);
    assert.match(r.err, what);
    assert.match(r.err, /\^/);
    assert.match(r.err, /valid forms/);
    assert.equal(r.out, '');
  }
});

test('bad flags and inputs: clear errors, non-zero exit, nothing on stdout', () => {
  const cases: [string[], string, RegExp][] = [
    [['formats', 'encode', 'e4m3', '--rounding', 'sideways'], '1\n', /--rounding must be one of nearest/],
    [['formats', 'encode', 'e4m3', '--seed', '-1'], '1\n', /--seed must be an integer/],
    [['formats', 'encode', 'e4m3', '--random-bits', '25'], '1\n', /--random-bits must be an integer in 1\.\.24/],
    [['formats', 'encode', 'e4m3', '--frobnicate'], '1\n', /unknown option --frobnicate/],
    [['formats', 'encode', 'e4m3'], '1\nbanana\n', /line 2: cannot read 'banana'/],
    [['formats', 'decode', 'e4m3', '0x100'], '', /not a 8-bit pattern/],
    [['formats', 'table', 'fp32'], '', /up to 16 bits/],
    [['formats', 'show'], '', /takes one SPEC/],
  ];
  for (const [args, input, msg] of cases) {
    const r = precis(args, input);
    assert.notEqual(r.code, 0, args.join(' '));
    assert.match(r.err, msg, args.join(' '));
    assert.equal(r.out, '', args.join(' '));
  }
});

test('doctor lists backends, the chosen one, CPU features and threads', () => {
  const r = precis(['doctor']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /backends:/);
  assert.match(r.out, /\n {2}js +ok/);
  assert.match(r.out, /chosen: (native|wasm|js)/);
  assert.match(r.out, /cpu features: /);
  assert.match(r.out, /threads: \d+/);
  const js = precis(['doctor'], '', { PRECIS_BACKEND: 'js' });
  assert.match(js.out, /chosen: js \(PRECIS_BACKEND=js\)/);
  const t = precis(['doctor'], '', { PRECIS_THREADS: '1' });
  assert.match(t.out, /default 1/);
});

test('an unknown PRECIS_BACKEND is an error naming the valid ones', () => {
  const r = precis(['doctor'], '', { PRECIS_BACKEND: 'gpu' });
  assert.equal(r.code, 1);
  assert.match(r.err, /unknown backend 'gpu'/);
  assert.match(r.err, /native, wasm, js/);
});

test('subcommand --help prints the usage and exits 0', () => {
  for (const args of [['formats', 'encode', '--help'], ['formats', 'show', '-h']]) {
    const r = precis(args);
    assert.equal(r.code, 0, args.join(' '));
    assert.match(r.out, /precis formats encode SPEC/);
  }
});

test('formats show: unsigned minimum, binary point outside the word, spec echoed as given', () => {
  assert.match(precis(['formats', 'show', 'uint8']).out, /min\s+0 \(unsigned\)/);
  const f = precis(['formats', 'show', 'fixed<8,-3>']).out;
  assert.match(f, /layout\s+sign 1 \| magnitude \(step 2\^3\) 7 {2}\(8 bits\)/);
  assert.match(precis(['formats', 'show', '--', 'e4m3']).out, /^format {6}e4m3 = float<4,3,fn>\n/);
});

test('doctor reports a bad PRECIS_THREADS in place, then fails', () => {
  const r = precis(['doctor'], '', { PRECIS_THREADS: '0' });
  assert.equal(r.code, 1);
  assert.match(r.out, /backends: cannot tell: PRECIS_THREADS must be a positive integer/);
  assert.match(r.err, /PRECIS_THREADS must be a positive integer/);
});
