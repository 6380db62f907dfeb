import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { describeStorageConformance } from '@tessera/client/testing';
import type { TokenStorage } from '../../src/index.js';
import { encryptedFileStorage } from '../../src/node/index.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-client-'));
after(() => rm(dir, { recursive: true, force: true }));
let n = 0;
const fresh = () => ({ path: join(dir, `session-${++n}.json`), key: randomBytes(32) });

const paths = new WeakMap<TokenStorage, string>();
describeStorageConformance(
  'encryptedFileStorage',
  () => {
    const options = fresh();
    const storage = encryptedFileStorage(options);
    paths.set(storage, options.path);
    return storage;
  },
  { corrupt: (storage) => writeFile(paths.get(storage)!, '{"v":1,"entr') },
);

/** Files beside `path` that hold a quarantined copy. */
async function quarantined(path: string): Promise<string[]> {
  const base = path.split('/').pop()!;
  return (await readdir(dir)).filter((f) => f.startsWith(`${base}.unreadable-`)).map((f) => join(dir, f));
}

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

  for (const [what, bytes] of [
    ['truncated', '{"v":1,"entries":{"tessera:web":"AAAA'],
    ['not JSON', '\u0000\u0001garbage'],
    ['JSON of another shape', '["a","b"]'],
  ] as const) {
    it(`a ${what} file is moved aside (0600, bytes kept); the read says so once, then writes work`, async () => {
      const options = fresh();
      await writeFile(options.path, bytes, { mode: 0o644 });
      const s = encryptedFileStorage(options);
      await assert.rejects(Promise.resolve(s.get('tessera:web')), /unreadable; moved to .*\.unreadable-/);
      const [aside, ...more] = await quarantined(options.path);
      assert.ok(aside && more.length === 0, 'one quarantined copy');
      assert.equal(await readFile(aside, 'utf8'), bytes);
      assert.equal((await stat(aside)).mode & 0o777, 0o600);
      assert.equal(await s.get('tessera:web'), null, 'started clean');
      await s.set('tessera:web', 'new-session');
      assert.equal(await encryptedFileStorage(options).get('tessera:web'), 'new-session');
    });
  }

  it('a value under another key (or tampered with) is moved aside with its file; writes work after', async () => {
    const options = fresh();
    await encryptedFileStorage(options).set('tessera:web', 'old-session');
    const before = await readFile(options.path, 'utf8');
    const other = encryptedFileStorage({ ...options, key: randomBytes(32) });
    await assert.rejects(Promise.resolve(other.get('tessera:web')), /unreadable/);
    const [aside] = await quarantined(options.path);
    assert.equal(await readFile(aside!, 'utf8'), before, 'restorable with the right key');
    await other.set('tessera:web', 'new-session');
    assert.equal(await other.get('tessera:web'), 'new-session');
  });

  it('rejects a key that is not 32 bytes', () => {
    assert.throws(() => encryptedFileStorage({ path: join(dir, 'x'), key: randomBytes(16) }), TypeError);
  });
});
