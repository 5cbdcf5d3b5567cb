import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | null = null;

/** The directory of precis's package.json (works from src/ via tsx and from dist/). */
export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj) && (JSON.parse(readFileSync(pj, 'utf8')) as { name?: string }).name === 'precis') return (root = dir);
    const up = dirname(dir);
    if (up === dir) throw new Error('precis: cannot find its package.json above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}
