// Writes the generated deployment files from their TypeScript sources:
//   node dist/deploy/generate.js [--check]
// --check writes nothing and exits 1 if a committed file is stale.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderedFiles } from './rendered.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const check = process.argv.includes('--check');
let stale = 0;
for (const [path, text] of renderedFiles()) {
  const full = root + path;
  let current = '';
  try { current = readFileSync(full, 'utf8'); } catch { /* new file */ }
  if (current === text) continue;
  if (check) { process.stderr.write(`stale: ${path} (run npm run generate)\n`); stale++; }
  else { writeFileSync(full, text); process.stdout.write(`wrote ${path}\n`); }
}
process.exitCode = stale ? 1 : 0;
