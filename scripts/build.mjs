#!/usr/bin/env node
// The workspace's build (`npm run build`, and `prepare` after `npm install`): compiles every
// package with `tsc -b`, bundles the demo's web page into apps/demo/dist/web/ (the package ships
// it, so an installed demo needs neither its sources nor esbuild), bundles the dashboard into
// packages/dashboard/dist/web/ (which the server serves under /admin), and makes the CLI's built
// entry executable (its package.json `bin` points at dist/bin.js).
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const workspaces = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).workspaces;

// Source maps are not built (a package ships no sources for them to point at); remove any that an
// older build left, so that they are not packed.
for (const ws of workspaces) {
  const dist = join(root, ws, 'dist');
  if (!existsSync(dist)) continue;
  for (const f of readdirSync(dist, { recursive: true, encoding: 'utf8' })) {
    if (f.endsWith('.map')) rmSync(join(dist, f));
  }
}
execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-b'], {
  cwd: root,
  stdio: 'inherit',
});
chmodSync(join(root, 'packages/cli/dist/bin.js'), 0o755);
// npm links a workspace's bin at install time, before this build exists, and skips a link whose
// target is missing: make the link `npm run demo` and `npx tessera` use, as npm would have.
const link = join(root, 'node_modules/.bin/tessera');
if (!existsLink(link)) {
  mkdirSync(join(root, 'node_modules/.bin'), { recursive: true });
  symlinkSync('../@tessera/cli/dist/bin.js', link);
}
const { writeWebAssets } = await import('../apps/demo/dist/web-assets.js');
await writeWebAssets(new URL('../apps/demo/dist/web/', import.meta.url));
const { bundleDashboard } = await import('../packages/dashboard/dist/bundle.js');
await bundleDashboard(new URL('../packages/dashboard/dist/web/', import.meta.url));

function existsLink(path) {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}
