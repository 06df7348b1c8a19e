// Runs every compiled test file with node:test. Node 20's --test does not expand globs,
// so the files are listed here and passed explicitly.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const roots = ['dist/src', 'dist/test'];
const only = process.argv.slice(2);
const files = [];
const walk = (dir) => {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path);
    else if (entry.name.endsWith('.test.js')) files.push(path);
  }
};
for (const root of roots) if (existsSync(root)) walk(root);
const selected = only.length ? files.filter((f) => only.some((o) => f.includes(o))) : files;
const result = spawnSync(
  process.execPath,
  ['--test', '--test-reporter=spec', '--test-concurrency=2', ...selected.sort()],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
