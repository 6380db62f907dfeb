import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { TesseraError } from '@tessera/protocol';
import {
  ConfigError,
  DuplicateError,
  hasErrorCode,
  InputError,
  KeyRotationTooSoonError,
  SERVER_ERRORS,
  type ServerErrorCode,
  StoreUnavailableError,
  TesseraServerError,
} from '../src/index.js';

const instances = [
  new ConfigError('Invalid configuration: --port: expected a value from 0 to 65535, got "x"'),
  new InputError('username: 1 to 128 letters'),
  new DuplicateError('user "alice"'),
  new KeyRotationTooSoonError('the next key was published 3 s ago'),
  new StoreUnavailableError('SQLite store unavailable: SQLITE_BUSY', { cause: new Error('busy') }),
];

describe("the server's own errors", () => {
  it('each class carries a code of the table, and each code of the table has its class', () => {
    assert.deepEqual(instances.map((e) => e.code).sort(), Object.keys(SERVER_ERRORS).sort());
    for (const err of instances) {
      assert.ok(err instanceof TesseraServerError);
      const row = SERVER_ERRORS[err.code as ServerErrorCode];
      assert.equal(err.name, row.class, err.code);
      assert.equal(err.constructor.name, row.class, err.code);
      assert.equal((err.constructor as unknown as { code: string }).code, err.code);
    }
  });

  it('keeps the message and the cause', () => {
    assert.equal(new DuplicateError('user "alice"').message, 'user "alice" already exists');
    const down = new StoreUnavailableError('down', { cause: new Error('busy') });
    assert.equal((down.cause as Error).message, 'busy');
  });

  it('hasErrorCode tests the code, so an error from another copy of the package counts too', () => {
    const fromAnotherCopy = Object.assign(new Error('gone'), { code: 'ERR_TESSERA_STORE_UNAVAILABLE' });
    assert.equal(hasErrorCode(fromAnotherCopy, 'ERR_TESSERA_STORE_UNAVAILABLE'), true);
    assert.equal(hasErrorCode(instances[2], 'ERR_TESSERA_DUPLICATE'), true);
    assert.equal(hasErrorCode(instances[2], 'ERR_TESSERA_INPUT'), false);
    assert.equal(hasErrorCode(new TesseraError('token_reused'), 'token_reused'), true);
    // The name alone is not the code: an error that only looks like one is not taken for it.
    const lookalike = Object.assign(new Error('x'), { name: 'DuplicateError' });
    assert.equal(hasErrorCode(lookalike, 'ERR_TESSERA_DUPLICATE'), false);
    assert.equal(hasErrorCode({ code: 'ERR_TESSERA_DUPLICATE' }, 'ERR_TESSERA_DUPLICATE'), false);
    assert.equal(hasErrorCode(undefined, 'ERR_TESSERA_DUPLICATE'), false);
  });

  it('docs/errors.md lists every code with its class', () => {
    const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
    const section = doc.slice(doc.indexOf('## Server errors'));
    for (const [code, row] of Object.entries(SERVER_ERRORS)) {
      assert.ok(section.includes(`| \`${code}\` | \`${row.class}\` |`), code);
    }
  });
});
