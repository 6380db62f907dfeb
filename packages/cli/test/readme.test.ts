import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { createTessera, loadConfig } from '@tessera/server';

const README = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('the endpoint table names every route the server serves', async () => {
    const tessera = await createTessera({
      config: loadConfig({ env: {}, overrides: { db: ':memory:', logLevel: 'silent' } }),
      masterSecret: randomBytes(32),
      background: false,
    });
    try {
      await tessera.app.ready();
      const tree = tessera.app.printRoutes({ commonPrefix: false });
      // The tree nests a route under the longest path it shares (`/admin/api/session`, then `s`,
      // then `/:id`): a line's column says whose child it is, so the full path is the segments joined.
      const routes: { method: string; path: string }[] = [];
      const parents: { column: number; path: string }[] = [];
      for (const line of tree.split('\n')) {
        const match = /(?<=── )(\S+)(?: \(([A-Z, ]+)\))?/.exec(line);
        if (!match) continue;
        while (parents.length > 0 && parents[parents.length - 1]!.column >= match.index) parents.pop();
        const parent = parents[parents.length - 1]?.path ?? '';
        // A wildcard under a path whose trailing slash the router folded away (`/admin` + `*`) is `/admin/*`.
        const path = parent + (match[1] === '*' && !parent.endsWith('/') ? '/*' : match[1]!);
        parents.push({ column: match.index, path });
        for (const method of match[2]?.split(', ') ?? []) {
          if (method !== 'HEAD' && method !== 'OPTIONS') routes.push({ method, path });
        }
      }
      assert.ok(routes.length >= 10, tree);
      const table = README.slice(README.indexOf('## Endpoints'), README.indexOf('Every endpoint refuses'));
      for (const { method, path } of routes) {
        const row = table
          .split('\n')
          .find((line) => line.includes(`\`${method} ${path}\``) || line.includes(`\`${path}\``));
        assert.ok(row, `README's endpoint table lacks ${method} ${path}`);
      }
    } finally {
      await tessera.close();
    }
  });
});
