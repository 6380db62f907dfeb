#!/usr/bin/env node
// Writes the generated configuration docs into the READMEs, between their
// `<!-- generated:NAME:start -->` and `<!-- generated:NAME:end -->` markers: the server's settings,
// example file and internal limits (from packages/server/src/config/) into README.md, and the
// middleware's defaults (from packages/resource/src/core/defaults.ts) into its README.
// Usage: npm run docs:config            (rewrite)
//        npm run docs:config -- --check (exit 1 if a README is out of date; the tests check too)
// Runs under tsx (see package.json) so it reads the TypeScript sources themselves.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const { renderConfigDocs } = await import('../packages/server/src/config/describe-config.ts');
const { renderDefaultsDocs } = await import('../packages/resource/src/core/describe-defaults.ts');

const targets = [
  { file: 'README.md', name: 'config', render: renderConfigDocs },
  { file: 'packages/resource/README.md', name: 'resource-defaults', render: renderDefaultsDocs },
];

const check = process.argv.includes('--check');
let stale = false;
for (const { file, name, render } of targets) {
  const path = join(root, file);
  const text = readFileSync(path, 'utf8');
  const start = new RegExp(`<!-- generated:${name}:start[^>]*-->\\n`);
  const end = `<!-- generated:${name}:end -->`;
  const open = start.exec(text);
  const close = text.indexOf(end);
  if (!open || close < open.index) {
    console.error(`${file}: markers for "${name}" not found`);
    process.exit(1);
  }
  const from = open.index + open[0].length;
  const next = `${text.slice(0, from)}\n${render()}\n${text.slice(close)}`;
  if (next === text) continue;
  if (check) {
    console.error(`${file}: the generated "${name}" section is out of date (npm run docs:config)`);
    stale = true;
  } else {
    writeFileSync(path, next);
    console.log(`${file}: wrote "${name}"`);
  }
}
process.exit(stale ? 1 : 0);
