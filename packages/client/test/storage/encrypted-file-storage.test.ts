import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { describeStorageConformance } from '@tessera/client/testing';
import { encryptedFileStorage } from '../../src/node/index.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-client-'));
after(() => rm(dir, { recursive: true, force: true }));
let n = 0;
const fresh = () => ({ path: join(dir, `session-${++n}.json`), key: randomBytes(32) });

describeStorageConformance('encryptedFileStorage', () => encryptedFileStorage(fresh()));

describe('encryptedFileStorage', () => {
  it('stores ciphertext only: no token in the file, a fresh IV per write', async () => {
    const options = fresh();
    const s = encryptedFileStorage(options);
    await s.set('tessera:web', '{"refreshToken":"rt-SECRET-VALUE"}');
    const first = await readFile(options.path, 'utf8');
    assert.doesNotMatch(first, /rt-SECRET-VALUE/);
    await s.set('tessera:web', '{"refreshToken":"rt-SECRET-VALUE"}');
    const second = await readFile(options.path, 'utf8');
    assert.notEqual(first, second, 'same plaintext must not give the same ciphertext');
    const sealed = Buffer.from(JSON.parse(second).entries['tessera:web'], 'base64');
    assert.equal(sealed.length, 12 + 16 + '{"refreshToken":"rt-SECRET-VALUE"}'.length);
  });

  it('is readable by a new instance with the key, not with another key', async () => {
    const options = fresh();
    await encryptedFileStorage(options).set('k', 'value');
    assert.equal(await encryptedFileStorage(options).get('k'), 'value');
    await assert.rejects(
      Promise.resolve(encryptedFileStorage({ ...options, key: randomBytes(32) }).get('k')),
    );
  });

  it('detects tampering and swapped records (GCM tag, name as additional data)', async () => {
    const options = fresh();
    const s = encryptedFileStorage(options);
    await s.set('a', 'value-a');
    await s.set('b', 'value-b');
    const file = JSON.parse(await readFile(options.path, 'utf8'));
    [file.entries.a, file.entries.b] = [file.entries.b, file.entries.a];
    await writeFile(options.path, JSON.stringify(file));
    await assert.rejects(Promise.resolve(s.get('a')));
    const bytes = Buffer.from(file.entries.b, 'base64');
    bytes[bytes.length - 1]! ^= 1;
    file.entries.b = bytes.toString('base64');
    await writeFile(options.path, JSON.stringify(file));
    await assert.rejects(Promise.resolve(s.get('b')));
  });

  it('writes atomically through a temp file + rename, mode 0600, leaving no temp files', async () => {
    const options = fresh();
    const s = encryptedFileStorage(options);
    await Promise.all(Array.from({ length: 30 }, (_, i) => s.set('tessera:web', `v${i}`)));
    assert.equal(await s.get('tessera:web'), 'v29');
    const names = await readdir(dir);
    assert.deepEqual(
      names.filter((f) => f.endsWith('.tmp')),
      [],
    );
    assert.equal((await stat(options.path)).mode & 0o777, 0o600);
  });

  it('a crash mid-write leaves the previous session readable', async () => {
    const options = fresh();
    const s = encryptedFileStorage(options);
    await s.set('tessera:web', 'old-session');
    // A writer killed before its rename leaves only a stray temp file behind.
    await writeFile(`${options.path}.deadbeef.tmp`, '{"v":1,"entr');
    assert.equal(await s.get('tessera:web'), 'old-session');
  });

  it('rejects a key that is not 32 bytes', () => {
    assert.throws(() => encryptedFileStorage({ path: join(dir, 'x'), key: randomBytes(16) }), TypeError);
  });
});
