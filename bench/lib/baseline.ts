/**
 * `--baseline=REV`: an earlier commit of Tessera as a third contender, so an optimisation's effect
 * is measured side by side in one run, alternating with the working tree, instead of against
 * figures from another day on a noisy machine.
 *
 * The commit is exported with `git archive` into `<tmpdir>/tessera-bench-baseline/<sha>`, outside the
 * repository so no linter, type checker or test runner of this checkout ever sees it, and with no
 * worktree metadata to clean up. Its `node_modules` links every installed dependency of this checkout, except the
 * `@tessera/*` workspace packages, which point at the exported tree: the baseline's own code runs,
 * on this checkout's dependency versions (said in the results when its lockfile differs).
 */
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Baseline {
  /** What the user asked for (a branch, tag, `HEAD~3`, a sha). */
  rev: string;
  sha: string;
  /** The exported tree. */
  dir: string;
  /** This checkout's `bench/servers/tessera.ts`, copied into it (run on its packages). */
  serverScript: string;
  /** True when its package-lock.json differs from this checkout's (it runs on ours regardless). */
  lockfileDiffers: boolean;
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function git(args: string[]): string {
  return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

export function prepareBaseline(rev: string, log: (m: string) => void): Baseline {
  let sha: string;
  try {
    sha = git(['rev-parse', '--verify', '--quiet', `${rev}^{commit}`]);
  } catch {
    throw new Error(`--baseline=${rev}: not a commit of this repository (try a sha, a branch or HEAD~1)`);
  }
  const dir = join(tmpdir(), 'tessera-bench-baseline', sha.slice(0, 12));
  if (!existsSync(join(dir, '.complete'))) {
    log(`baseline: exporting ${rev} (${sha.slice(0, 12)}) into ${dir}`);
    const partial = `${dir}.partial`;
    rmSync(partial, { recursive: true, force: true });
    mkdirSync(partial, { recursive: true });
    // git archive | tar -x, without a shell.
    const tar = execFileSync('git', ['archive', '--format=tar', sha], { cwd: ROOT, maxBuffer: 1 << 30 });
    execFileSync('tar', ['-x', '-C', partial], { input: tar });
    linkNodeModules(partial);
    execFileSync('touch', [join(partial, '.complete')]);
    rmSync(dir, { recursive: true, force: true });
    renameSync(partial, dir);
  }
  if (!existsSync(join(dir, 'bench', 'servers', 'tessera.ts'))) {
    throw new Error(
      `--baseline=${rev}: that commit has no bench/servers/tessera.ts (it predates the benchmarks)`,
    );
  }
  // Both trees are driven by this checkout's server script (how sessions are minted, how many
  // users own them), so only the server's own code differs; it runs on the baseline's packages.
  const serverScript = join(dir, 'bench', 'servers', 'tessera-driver.ts');
  copyFileSync(join(ROOT, 'bench', 'servers', 'tessera.ts'), serverScript);
  const lock = (p: string) => (existsSync(p) ? readFileSync(p, 'utf8') : '');
  const lockfileDiffers = lock(join(dir, 'package-lock.json')) !== lock(join(ROOT, 'package-lock.json'));
  return { rev, sha, dir, serverScript, lockfileDiffers };
}

/** `dir/node_modules`: links to this checkout's installed packages; `@tessera/*` to `dir`'s own. */
function linkNodeModules(dir: string): void {
  const ours = join(ROOT, 'node_modules');
  const theirs = join(dir, 'node_modules');
  mkdirSync(join(theirs, '@tessera'), { recursive: true });
  for (const entry of readdirSync(ours)) {
    if (entry === '@tessera') continue;
    symlinkSync(join(ours, entry), join(theirs, entry));
  }
  for (const group of ['packages', 'apps']) {
    const base = join(dir, group);
    if (!existsSync(base)) continue;
    for (const folder of readdirSync(base)) {
      const manifest = join(base, folder, 'package.json');
      if (!existsSync(manifest)) continue;
      const { name } = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string };
      if (name?.startsWith('@tessera/')) {
        // Relative, as npm makes them: the tree is renamed into place after this.
        symlinkSync(
          join('..', '..', group, folder),
          join(theirs, '@tessera', name.slice('@tessera/'.length)),
        );
      }
    }
  }
}
