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
      const routes = [...tree.matchAll(/(\/\S*) \(([A-Z, ]+)\)/g)].flatMap(([, path, methods]) =>
        methods!
          .split(', ')
          .filter((m) => m !== 'HEAD' && m !== 'OPTIONS')
          .map((m) => ({ method: m, path: path! })),
      );
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
