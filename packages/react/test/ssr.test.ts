import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { bundle, REACTS, type ReactMajor } from './support/bundle.js';

/** Server rendering with React 19 and 18: Node has no window, document or storage. */
const dir = mkdtempSync(join(tmpdir(), 'tessera-react-ssr-'));
after(() => rm(dir, { recursive: true, force: true }));

interface SsrEntry {
  version: string;
  render(client: unknown): string;
  createTesseraClient(options: { tokenEndpoint: string; clientId: string }): {
    signInWithTokens(tokens: object): Promise<void>;
  };
}

describe('@tessera/react on a server', () => {
  it('imports without a browser global', async () => {
    assert.equal(typeof (globalThis as { window?: unknown }).window, 'undefined');
    const module = await import('@tessera/react');
    assert.equal(typeof module.TesseraProvider, 'function');
  });

  for (const major of Object.keys(REACTS) as ReactMajor[]) {
    it(`renders with React ${major}: the loading state, no token in the HTML`, async () => {
      const file = join(dir, `ssr-${major}.mjs`);
      await writeFile(file, await bundle('ssr-entry.tsx', major, 'node'));
      const entry = (await import(pathToFileURL(file).href)) as SsrEntry;
      assert.equal(entry.version.split('.')[0], major);
      const client = entry.createTesseraClient({
        tokenEndpoint: 'https://auth.test/oauth/token',
        clientId: 'web',
      });
      await client.signInWithTokens({ access_token: 'at-secret', token_type: 'Bearer', expires_in: 900 });
      const html = entry.render(client);
      assert.match(html, /id="loading"/);
      assert.match(html, /loading - no-token/);
      assert.doesNotMatch(html, /at-secret|id="app"/);
    });
  }
});
