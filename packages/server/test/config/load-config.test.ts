import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, DEFAULTS, loadConfig, parseDuration } from '../../src/index.js';

describe('configuration', () => {
  it('defaults come from one place', () => {
    const config = loadConfig({ env: {} });
    assert.equal(config.accessTokenTtl, DEFAULTS.accessTokenTtl);
    assert.equal(config.accessTokenTtl, 900);
    assert.equal(config.refreshGracePeriod, 300);
    assert.equal(config.refreshIdleTtl, 14 * 86400);
    assert.equal(config.refreshAbsoluteTtl, 30 * 86400);
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.issuer, 'http://127.0.0.1:4000');
    assert.equal(config.audience, config.issuer);
    assert.ok(Object.isFrozen(config));
  });

  it('accepts durations as seconds or 30s / 5m / 12h / 14d', () => {
    assert.equal(parseDuration('900'), 900);
    assert.equal(parseDuration('30s'), 30);
    assert.equal(parseDuration('5m'), 300);
    assert.equal(parseDuration('12h'), 43200);
    assert.equal(parseDuration('14d'), 1209600);
    assert.throws(() => parseDuration('5 minutes'));
    assert.throws(() => parseDuration('-5'));
  });

  it('precedence: flags > environment > file > defaults', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-config-'));
    const file = join(dir, 'tessera.json');
    writeFileSync(file, JSON.stringify({ port: 5001, accessTokenTtl: '10m', refreshGracePeriod: 60 }));
    const fromFile = loadConfig({ env: {}, file });
    assert.equal(fromFile.port, 5001);
    assert.equal(fromFile.accessTokenTtl, 600);
    const fromEnv = loadConfig({ env: { TESSERA_PORT: '5002', TESSERA_ACCESS_TOKEN_TTL: '5m' }, file });
    assert.equal(fromEnv.port, 5002);
    assert.equal(fromEnv.accessTokenTtl, 300);
    assert.equal(fromEnv.refreshGracePeriod, 60);
    const fromFlags = loadConfig({ env: { TESSERA_PORT: '5002' }, file, flags: { port: '5003' } });
    assert.equal(fromFlags.port, 5003);
    assert.equal(fromFlags.issuer, 'http://127.0.0.1:5003');
    const viaEnvFile = loadConfig({ env: { TESSERA_CONFIG: file } });
    assert.equal(viaEnvFile.port, 5001);
  });

  it('names the bad key and where it came from', () => {
    assert.throws(
      () => loadConfig({ env: { TESSERA_ACCESS_TOKEN_TTL: 'soon' } }),
      (err: Error) =>
        err instanceof ConfigError &&
        /TESSERA_ACCESS_TOKEN_TTL/.test(err.message) &&
        /"soon"/.test(err.message),
    );
    assert.throws(
      () => loadConfig({ env: {}, flags: { port: '70000' } }),
      /--port: expected a value from 0 to 65535/,
    );
    assert.throws(() => loadConfig({ env: { TESSERA_ISSUER: 'not a url' } }), /TESSERA_ISSUER/);
    assert.throws(
      () => loadConfig({ env: { TESSERA_ISSUER: 'https://a.example/?x=1' } }),
      /query or fragment/,
    );
    assert.throws(() => loadConfig({ env: { TESSERA_SIGNING_ALG: 'HS256' } }), /one of ES256, EdDSA, RS256/);
    assert.throws(
      () => loadConfig({ env: { TESSERA_REFRESH_IDLE_TTL: '40d' } }),
      /TESSERA_REFRESH_IDLE_TTL must not exceed TESSERA_REFRESH_ABSOLUTE_TTL/,
    );
    const dir = mkdtempSync(join(tmpdir(), 'tessera-config-'));
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ acessTokenTtl: 5 }));
    assert.throws(() => loadConfig({ env: {}, file }), /unknown key "acessTokenTtl"/);
    writeFileSync(file, '{ not json');
    assert.throws(() => loadConfig({ env: {}, file }), /cannot read config file/);
  });

  it('a trailing slash on the issuer is dropped, so endpoint URLs are exact', () => {
    assert.equal(
      loadConfig({ env: { TESSERA_ISSUER: 'https://auth.example.com/' } }).issuer,
      'https://auth.example.com',
    );
  });
});
