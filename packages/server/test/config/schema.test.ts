import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ADMIN_DEFAULTS, DEFAULTS, DEMO_DEFAULTS } from '../../src/config/defaults.js';
import { LIMIT_TABLE, LIMITS } from '../../src/config/limits.js';
import { CONFIG_KEYS, ConfigError, FILE_KEYS, loadConfig } from '../../src/config/load-config.js';
import { parseSetting } from '../../src/config/parse-setting.js';
import { flagOf, SCHEMA, SETTING_KEYS, type Setting } from '../../src/config/schema.js';

const ROOT = new URL('../../../../', import.meta.url).pathname;

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) sourceFiles(full, out);
    else if (name.endsWith('.ts')) out.push(full);
  }
  return out;
}

describe('configuration schema', () => {
  it('every declared default, demo and admin value passes its own kind and bounds', () => {
    for (const key of SETTING_KEYS) {
      const spec: Setting = SCHEMA[key];
      for (const field of ['default', 'demo', 'admin'] as const) {
        const value = field === 'default' ? spec.default : spec[field];
        if (value === undefined) continue;
        assert.deepEqual(parseSetting(spec, value), value, `${key}.${field}`);
      }
      assert.match(spec.env, /^TESSERA_[A-Z0-9_]+$/, key);
      assert.ok(spec.doc.length > 20 && !spec.doc.includes('\n'), `${key}: a one-line reason`);
    }
  });

  it('env names and flags are unique; the flag is the kebab-case key', () => {
    const envs = SETTING_KEYS.map((k) => SCHEMA[k].env);
    assert.equal(new Set(envs).size, envs.length);
    const flags = SETTING_KEYS.map(flagOf).filter((f) => f !== undefined);
    assert.equal(new Set(flags).size, flags.length);
    assert.equal(flagOf('accessTokenTtl'), '--access-token-ttl');
    assert.equal(flagOf('sqliteCacheMiB'), '--sqlite-cache-mib');
    assert.equal(flagOf('secret'), undefined, 'a secret never goes on a command line');
    for (const key of SETTING_KEYS) {
      const snake = key
        .replace(/MiB$/, 'Mib')
        .replace(/[A-Z]/g, (c) => `_${c}`)
        .toUpperCase();
      assert.equal(SCHEMA[key].env, `TESSERA_${snake}`, `${key}: the variable is TESSERA_ + the key`);
    }
  });

  it('DEFAULTS, DEMO_DEFAULTS and ADMIN_DEFAULTS are read from the schema, frozen', () => {
    for (const key of CONFIG_KEYS) {
      assert.equal(DEFAULTS[key], SCHEMA[key].default, key);
    }
    assert.deepEqual(Object.keys(DEFAULTS), [...CONFIG_KEYS]);
    assert.equal(DEMO_DEFAULTS.port, 4100);
    assert.equal(DEMO_DEFAULTS.accessTokenTtl, 20);
    assert.equal(DEMO_DEFAULTS.logLevel, 'warn');
    assert.equal(ADMIN_DEFAULTS.logLevel, 'warn');
    assert.equal(DEFAULTS.logLevel, 'info', 'one default log level, the same for every command');
    assert.ok(Object.isFrozen(DEFAULTS) && Object.isFrozen(DEMO_DEFAULTS) && Object.isFrozen(LIMITS));
    assert.equal(loadConfig({ env: {} }).accessTokenTtl, DEFAULTS.accessTokenTtl);
  });

  it('the secret and the file path are settings but never part of the loaded configuration', () => {
    const config = loadConfig({ env: { TESSERA_SECRET: Buffer.alloc(32, 7).toString('base64url') } });
    assert.ok(!('secret' in config) && !('config' in config));
    assert.ok(!FILE_KEYS.includes('secret' as never) && !FILE_KEYS.includes('config' as never));
  });

  it('every TESSERA_* variable the server, the CLI or the demo reads is declared in the schema', () => {
    const declared = new Set<string>(SETTING_KEYS.map((k) => SCHEMA[k].env));
    const seen = new Map<string, string>();
    for (const dir of ['packages/server/src', 'packages/cli/src', 'apps/demo/src']) {
      for (const file of sourceFiles(join(ROOT, dir))) {
        for (const [name] of readFileSync(file, 'utf8').matchAll(/\bTESSERA_[A-Z][A-Z0-9_]*[A-Z0-9]\b/g)) {
          seen.set(name, file);
        }
      }
    }
    const undeclared = [...seen].filter(([name]) => !declared.has(name));
    assert.deepEqual(undeclared, [], 'undeclared environment variables');
    assert.ok(seen.size >= 3, 'the scan found the variables the sources name');
  });

  it('internal limits are declared once, each with a reason', () => {
    for (const [key, entry] of Object.entries(LIMIT_TABLE)) {
      assert.ok(Number.isSafeInteger(entry.value) && entry.value > 0, key);
      assert.ok(entry.doc.length > 20, key);
      assert.equal(LIMITS[key as keyof typeof LIMITS], entry.value);
    }
  });

  it('precedence: flags > environment > file > code overrides > defaults, for every source kind', () => {
    const all = { flags: { port: '1' }, env: { TESSERA_PORT: '2' }, overrides: { port: 4 } };
    assert.equal(loadConfig(all).port, 1);
    assert.equal(loadConfig({ ...all, flags: {} }).port, 2);
    assert.equal(loadConfig({ env: {}, overrides: { port: 4 } }).port, 4);
    assert.equal(loadConfig({ env: {} }).port, 4000);
    // An empty variable counts as unset (a `TESSERA_PORT=` in a shell script).
    assert.equal(loadConfig({ env: { TESSERA_PORT: '' }, overrides: { port: 4 } }).port, 4);
  });

  it('a bad secret names TESSERA_SECRET and never repeats the value', () => {
    const secret = 'c2hvcnQtYnV0LXNlY3JldA';
    assert.throws(
      () => loadConfig({ env: { TESSERA_SECRET: secret } }),
      (err: Error) =>
        err instanceof ConfigError && /TESSERA_SECRET/.test(err.message) && !err.message.includes(secret),
    );
  });

  it('a file may not hold the secret, and an unknown key says keys are camelCase', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'tessera-schema-'));
    const file = join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ secret: Buffer.alloc(32).toString('base64url') }));
    assert.throws(
      () => loadConfig({ env: {}, file }),
      /"secret" in .*may not be set in a file; use TESSERA_SECRET/,
    );
    writeFileSync(file, JSON.stringify({ access_token_ttl: '5m' }));
    assert.throws(() => loadConfig({ env: {}, file }), /unknown key "access_token_ttl".*camelCase/);
    writeFileSync(file, JSON.stringify({ accessTokenTtl: '5m', trustProxy: true, sqliteCacheMiB: 8 }));
    const config = loadConfig({ env: {}, file });
    assert.equal(config.accessTokenTtl, 300);
    assert.equal(config.trustProxy, true);
    assert.equal(config.sqliteCacheMiB, 8);
  });

  it('the loaded configuration is frozen', () => {
    const config = loadConfig({ env: {} });
    assert.throws(() => {
      (config as { port: number }).port = 1;
    }, TypeError);
  });

  it('a port that is not a number says so, with the value as given', () => {
    assert.throws(
      () => loadConfig({ env: {}, flags: { port: 'abc' } }),
      /--port: expected a port number, got "abc"/,
    );
  });
});
