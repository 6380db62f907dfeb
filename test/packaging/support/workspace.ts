import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The repository's root folder. */
export const ROOT = new URL('../../../', import.meta.url).pathname;

export interface WorkspacePackage {
  /** Folder relative to the root, e.g. `packages/server`. */
  dir: string;
  name: string;
  version: string;
  private: boolean;
  json: Record<string, unknown>;
}

/** Every workspace of the root package.json, with its package.json. */
export function workspacePackages(): WorkspacePackage[] {
  const root = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { workspaces: string[] };
  return root.workspaces.map((dir) => {
    const json = JSON.parse(readFileSync(join(ROOT, dir, 'package.json'), 'utf8')) as Record<string, unknown>;
    return {
      dir,
      name: json.name as string,
      version: json.version as string,
      private: json.private === true,
      json,
    };
  });
}

export interface Tarball {
  name: string;
  version: string;
  /** Absolute path of the `.tgz`. */
  file: string;
  /** Bytes packed and unpacked. */
  size: number;
  unpackedSize: number;
  /** Paths inside the package, e.g. `dist/index.js`. */
  files: string[];
}

/**
 * Builds the workspace (`npm run build`: tsc, the demo's page, the CLI's executable bit) and packs
 * every publishable package into `dest` with `npm pack`, as `npm publish` would pack it.
 */
export function packWorkspaces(dest: string): Tarball[] {
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  const publishable = workspacePackages().filter((p) => !p.private);
  const out = execFileSync(
    'npm',
    [
      'pack',
      '--ignore-scripts',
      '--json',
      '--pack-destination',
      dest,
      ...publishable.flatMap((p) => ['-w', p.dir]),
    ],
    { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 1024 * 1024 },
  );
  const packed = JSON.parse(out) as {
    name: string;
    version: string;
    filename: string;
    size: number;
    unpackedSize: number;
    files: { path: string }[];
  }[];
  return packed.map((p) => ({
    name: p.name,
    version: p.version,
    file: join(dest, p.filename),
    size: p.size,
    unpackedSize: p.unpackedSize,
    files: p.files.map((f) => f.path),
  }));
}
