import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

async function gzipped(entry: string): Promise<{ min: number; gz: number; text: string }> {
  const out = await build({
    entryPoints: [fileURLToPath(new URL(entry, import.meta.url))],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    conditions: ['@tessera/source'],
    write: false,
  });
  const bytes = out.outputFiles[0]!.contents;
  return { min: bytes.length, gz: gzipSync(bytes, { level: 9 }).length, text: out.outputFiles[0]!.text };
}

describe('bundle size (the core stays under 6 KB min+gzip)', () => {
  it('the core (client, memory storage, the Web Locks coordinator, error table) stays under 6 KB', async () => {
    const { gz } = await gzipped('../src/index.ts');
    assert.ok(gz <= 6 * 1024, `core is ${gz} B min+gzip`);
  });

  it('DPoP is a subpath of its own: the core does not carry it, and it stays under 2 KB', async () => {
    const core = await gzipped('../src/index.ts');
    assert.doesNotMatch(core.text, /dpop\+jwt/, 'the core bundles no DPoP code');
    const { gz } = await gzipped('../src/dpop/index.ts');
    assert.ok(gz <= 2 * 1024, `@tessera/client/dpop is ${gz} B min+gzip`);
  });

  it('browser entries never pull in node: modules', async () => {
    for (const entry of [
      '../src/index.ts',
      '../src/storage/index.ts',
      '../src/integrations/fetch.ts',
      '../src/integrations/axios.ts',
      '../src/dpop/index.ts',
      '../src/coordinator/in-process.ts',
      '../src/react-native/index.ts',
    ]) {
      const { text } = await gzipped(entry);
      assert.doesNotMatch(text, /from\s*["']node:/, entry);
    }
  });
});
