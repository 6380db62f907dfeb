#!/usr/bin/env node
// Type-checks each package's tests (tsconfig.test.json) the way `tsc -b` checks its sources, then
// the repository-level tests and bench/.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

import { writeBlocks } from './readme-blocks.mjs';

const root = new URL('..', import.meta.url).pathname;
// The README examples become modules under test/readme-blocks/, checked with test/ below.
writeBlocks();
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
let failed = false;
for (const top of ['packages', 'apps', 'fixtures']) {
  if (!existsSync(join(root, top))) continue;
  for (const name of readdirSync(join(root, top))) {
    const project = join(root, top, name, 'tsconfig.test.json');
    if (!existsSync(project)) continue;
    try {
      execFileSync(process.execPath, [tsc, '-p', project], { stdio: 'inherit' });
    } catch {
      failed = true;
    }
  }
}
// The repository-level tests (test/: the packages as published) and the benchmarks.
for (const project of [join(root, 'test', 'tsconfig.test.json'), join(root, 'bench', 'tsconfig.json')]) {
  try {
    execFileSync(process.execPath, [tsc, '-p', project], { stdio: 'inherit' });
  } catch {
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
