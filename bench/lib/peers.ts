import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The peers measured against, installed outside the workspaces: the client SDKs, and ioredis for
 * oidc-provider's Redis adapter in the rotation benchmark.
 */
export const PEER_PACKAGES = {
  '@supabase/auth-js': '2',
  'oidc-client-ts': '3',
  'axios-auth-refresh': '5',
  axios: '1',
  ioredis: '5',
} as const;

/** Installs the peers into `dir` (never the root dependencies) unless they are already there. */
export function installPeers(dir: string, log: (m: string) => void): void {
  const missing = Object.keys(PEER_PACKAGES).filter(
    (name) => !existsSync(join(dir, 'node_modules', name, 'package.json')),
  );
  if (missing.length === 0) return;
  log(`installing peers into ${dir}: ${missing.join(', ')}`);
  const specs = Object.entries(PEER_PACKAGES).map(([name, range]) => `${name}@${range}`);
  execFileSync(
    process.platform === 'win32' ? 'npm.cmd' : 'npm',
    ['install', '--prefix', dir, '--no-save', '--no-audit', '--no-fund', '--no-package-lock', ...specs],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
}
