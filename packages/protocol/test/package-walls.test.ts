import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

// The walls of docs/architecture.md ("Packages and their walls"), checked on the sources.

const root = fileURLToPath(new URL('../../../', import.meta.url));

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...sources(full));
    else if (name.endsWith('.ts')) out.push(full);
  }
  return out;
}

/** Every module specifier a file imports or re-exports. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"`;]*?from\s*'([^']+)'/g)].map((m) => m[1]!);
}

const TESSERA = /^@tessera\/([a-z-]+)/;
/** Which Tessera packages each package's sources may import (the layers). */
const MAY_IMPORT: Record<string, string[]> = {
  protocol: [],
  dashboard: ['protocol'],
  server: ['protocol', 'dashboard'],
  resource: ['protocol'],
  client: ['protocol'],
  vault: ['protocol'],
  react: ['protocol', 'client'],
  demo: ['protocol', 'server', 'resource', 'client'],
  'store-postgres': ['protocol', 'server'],
  cli: ['protocol', 'server', 'demo', 'vault'],
};
const FOLDERS: Record<string, string> = {
  protocol: 'packages/protocol/src',
  dashboard: 'packages/dashboard/src',
  server: 'packages/server/src',
  resource: 'packages/resource/src',
  client: 'packages/client/src',
  vault: 'packages/vault/src',
  react: 'packages/react/src',
  demo: 'apps/demo/src',
  'store-postgres': 'packages/store-postgres/src',
  cli: 'packages/cli/src',
};

describe('package walls', () => {
  it('each package imports only the Tessera packages of the layers below it', () => {
    for (const [pkg, folder] of Object.entries(FOLDERS)) {
      for (const file of sources(join(root, folder))) {
        for (const spec of importsOf(file)) {
          const target = TESSERA.exec(spec)?.[1];
          if (target === undefined || target === pkg) continue;
          assert.ok(MAY_IMPORT[pkg]?.includes(target), `${relative(root, file)} imports ${spec}`);
        }
      }
    }
  });

  it('@tessera/protocol imports nothing at all, so it runs anywhere', () => {
    for (const file of sources(join(root, FOLDERS.protocol!))) {
      for (const spec of importsOf(file)) {
        assert.ok(spec.startsWith('./'), `${relative(root, file)} imports ${spec}`);
      }
    }
  });

  it('the SDK imports node: modules only under its Node-only subpaths, /node and /testing', () => {
    for (const file of sources(join(root, FOLDERS.client!))) {
      if (file.includes('/src/node/') || file.includes('/src/testing/')) continue;
      for (const spec of importsOf(file)) {
        assert.ok(!spec.startsWith('node:'), `${relative(root, file)} imports ${spec}`);
      }
    }
  });

  it("the server's domain operations know no HTTP", () => {
    for (const file of sources(join(root, 'packages/server/src/domain'))) {
      for (const spec of importsOf(file)) {
        assert.ok(
          !/^(fastify|@fastify\/)/.test(spec) && !spec.includes('/http/'),
          `${relative(root, file)} imports ${spec}`,
        );
      }
    }
  });

  it('finds the imports it checks (the scan itself works)', () => {
    const specs = importsOf(join(root, 'packages/server/src/http/routes/oauth-token.ts'));
    assert.ok(specs.includes('@tessera/protocol'));
    assert.ok(specs.includes('fastify'));
    assert.ok(specs.includes('../../domain/sign-in.js'));
  });
});
