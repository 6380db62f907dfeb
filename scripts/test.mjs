#!/usr/bin/env node
// Runs every *.test.ts under packages/*/test, apps/*/test and test/ (the packages as published)
// with Node's own test runner.
// Node 20's runner neither expands globs nor loads TypeScript, so this lists the files and
// loads them through tsx, resolving workspace packages to their sources (@tessera/source).
// Usage: node scripts/test.mjs [path-fragment ...]  (fragments filter the files)
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

import { writeBlocks } from './readme-blocks.mjs';

const root = new URL('..', import.meta.url).pathname;
// Tests may import a README example as written (test/readme-blocks/, generated).
writeBlocks();
const filters = process.argv.slice(2);

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const full = join(dir, name);
    if (statSync(full).isDirectory()) walk(full, out);
    else if (name.endsWith('.test.ts')) out.push(full);
  }
  return out;
}

const files = [];
for (const top of ['packages', 'apps', 'test']) {
  try {
    walk(join(root, top), files);
  } catch {}
}
const selected = files
  .map((f) => relative(root, f))
  .filter((f) => f.includes('/test/') || f.startsWith('test/'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (selected.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
// The PostgreSQL tests run against TESSERA_TEST_PG_URL; without it they are skipped, and on CI
// (CI set) they fail: say so once, up front, rather than only in the skip messages.
if (!process.env.TESSERA_TEST_PG_URL) {
  console.error(
    process.env.CI
      ? 'TESSERA_TEST_PG_URL is not set: the PostgreSQL tests will fail (CI is set)'
      : 'note: TESSERA_TEST_PG_URL is not set: the PostgreSQL tests are skipped (e.g. postgres://postgres@127.0.0.1:5432/test)',
  );
}
const child = spawn(
  process.execPath,
  [
    '--import',
    'tsx',
    '--conditions=@tessera/source',
    '--test',
    `--test-concurrency=${process.env.TESSERA_TEST_CONCURRENCY ?? 2}`,
    '--test-reporter=spec',
    ...selected,
  ],
  { cwd: root, stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test' } },
);
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
