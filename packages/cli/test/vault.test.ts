import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTessera, loadConfig, saveClient, type Tessera } from '@tessera/server';
import { freePort } from '@tessera/test-support';
import { createTokenVault } from '@tessera/vault';
import type { CliIO } from '../src/io.js';
import { runCli } from '../src/program.js';

async function cli(argv: string[], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIO = { out: (t) => out.push(t), err: (t) => err.push(t), readStdin: async () => '', env };
  const code = await runCli(argv, io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('tessera vault rekey|keygen', () => {
  let dir: string;
  let tessera: Tessera;
  let database: string;
  const k1 = randomBytes(32).toString('base64');
  const k2 = randomBytes(32).toString('base64');
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-vault-cli-'));
    tessera = await createTessera({
      config: loadConfig({
        env: {},
        overrides: { db: join(dir, 'upstream.db'), port: await freePort(), logLevel: 'silent' },
      }),
      masterSecret: randomBytes(32),
      background: false,
    });
    await saveClient(tessera.ctx, { id: 'backend', public: false, secret: 'backend-secret-0123456789' });
    const issuer = await tessera.listen();
    database = join(dir, 'vault.db');
    const vault = await createTokenVault({
      issuer,
      clientId: 'backend',
      clientSecret: 'backend-secret-0123456789',
      database,
      keys: { current: 'k1', k1 },
    });
    await vault.save('alice', {
      access_token: 'at-alice',
      token_type: 'Bearer',
      expires_in: 600,
      refresh_token: 'rt',
    });
    await vault.save('bob', { access_token: 'at-bob', token_type: 'Bearer', expires_in: 600 });
    await vault.close();
  });
  after(async () => {
    await tessera.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keygen prints a 32-byte base64 key', async () => {
    const run = await cli(['vault', 'keygen', '--id', 'k2', '--json']);
    assert.equal(run.code, 0, run.err);
    const { id, key } = JSON.parse(run.out) as { id: string; key: string };
    assert.equal(id, 'k2');
    assert.equal(Buffer.from(key, 'base64').length, 32);
  });

  it('rekey re-encrypts every set under the current key, once', async () => {
    const env = { TESSERA_VAULT_KEYS: JSON.stringify({ current: 'k2', k1, k2 }) };
    const run = await cli(['vault', 'rekey', '--database', database, '--json'], env);
    assert.equal(run.code, 0, run.err);
    const result = JSON.parse(run.out);
    assert.deepEqual(
      { current: result.current, scanned: result.scanned, rekeyed: result.rekeyed },
      {
        current: 'k2',
        scanned: 2,
        rekeyed: 2,
      },
    );
    const again = await cli(['vault', 'rekey', '--database', database], env);
    assert.equal(again.code, 0);
    assert.match(again.out, /re-encrypted 0 of 2/);
    assert.ok(!run.out.includes(k1) && !run.out.includes('at-alice'));
  });

  it('exit 1 when some set cannot be decrypted, exit 2 without keys', async () => {
    const wrong = await cli(['vault', 'rekey', '--database', database], {
      TESSERA_VAULT_KEYS: JSON.stringify({ current: 'k3', k3: randomBytes(32).toString('base64') }),
    });
    assert.equal(wrong.code, 1);
    assert.match(wrong.out, /cannot decrypt alice\/default/);
    const none = await cli(['vault', 'rekey', '--database', database]);
    assert.equal(none.code, 2);
    assert.match(none.err, /No vault keys/);
  });
});
