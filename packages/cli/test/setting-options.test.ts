import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEMO_DEFAULTS, flagOf, SCHEMA, SETTING_KEYS, type Setting } from '@tessera/server';
import { Command } from 'commander';
import type { CliIO } from '../src/io.js';
import { runCli } from '../src/program.js';
import { addSettingOptions, FLAG_KEYS, flagValues } from '../src/setting-options.js';

function io(env: Record<string, string> = {}): CliIO & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    out: (t) => lines.push(t),
    err: (t) => lines.push(t),
    readStdin: async () => '',
    env,
  };
}

async function help(command: string): Promise<string> {
  const sink = io();
  assert.equal(await runCli([command, '--help'], sink), 0);
  return sink.lines.join('\n');
}

describe('serve and demo flags come from the schema', () => {
  it('every setting with a flag is on serve and demo, with its variable and default in the help', async () => {
    const serve = await help('serve');
    const demo = await help('demo');
    for (const key of SETTING_KEYS) {
      const spec: Setting = SCHEMA[key];
      const flag = flagOf(key);
      if (flag === undefined) {
        assert.doesNotMatch(serve, new RegExp(spec.env), `${spec.env} has no flag`);
        continue;
      }
      for (const text of [serve, demo]) {
        assert.match(text, new RegExp(`${flag} `), flag);
        assert.match(text, new RegExp(`\\(${spec.env}; default `), spec.env);
      }
    }
    // The demo's help shows the demo's own values; serve's the defaults.
    assert.match(serve, /\(TESSERA_PORT; default 4000\)/);
    assert.match(demo, new RegExp(`\\(TESSERA_PORT; default ${DEMO_DEFAULTS.port}\\)`));
    assert.match(serve, /\(TESSERA_LOG_LEVEL; default info\)/);
    assert.match(demo, /\(TESSERA_LOG_LEVEL; default warn\)/);
    assert.match(demo, /\(TESSERA_ACCESS_TOKEN_TTL; default 20s\)/);
    assert.match(serve, /Tokens and sessions options:/);
  });

  it('each flag reads back as its setting key, and flags not given stay unset', () => {
    for (const key of FLAG_KEYS) {
      if (key === 'config') continue;
      const command = addSettingOptions(new Command('x').exitOverride(), 'serve');
      const spec: Setting = SCHEMA[key];
      const value = spec.kind === 'bool' ? 'true' : spec.kind === 'enum' ? spec.values[0]! : '7';
      command.parse([flagOf(key)!, value], { from: 'user' });
      assert.deepEqual(flagValues(command), { [key]: value }, key);
    }
    const bare = addSettingOptions(new Command('x').exitOverride(), 'serve');
    bare.parse(['--trust-proxy'], { from: 'user' });
    assert.deepEqual(flagValues(bare), { trustProxy: true });
  });

  it('the admin commands take the log level from the environment too (no level of their own above it)', async () => {
    const sink = io({ TESSERA_LOG_LEVEL: 'loud' });
    const code = await runCli(['users', 'list', '--db', ':memory:'], sink);
    assert.equal(code, 2);
    assert.match(sink.lines.join('\n'), /TESSERA_LOG_LEVEL: expected one of/);
  });

  it('demo reads the environment and a --config file like serve (below its flags)', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const file = join(mkdtempSync(join(tmpdir(), 'tessera-demo-config-')), 'demo.json');
    writeFileSync(file, JSON.stringify({ port: 'eighty' }));
    const fromFile = io();
    assert.equal(await runCli(['demo', '--config', file], fromFile), 2);
    assert.match(fromFile.lines.join('\n'), /"port" in .*demo\.json: expected a port number, got "eighty"/);
    const fromEnv = io({ TESSERA_PORT: 'ninety' });
    assert.equal(await runCli(['demo'], fromEnv), 2);
    assert.match(fromEnv.lines.join('\n'), /TESSERA_PORT: expected a port number, got "ninety"/);
    const viaEnvFile = io({ TESSERA_CONFIG: file });
    assert.equal(await runCli(['demo'], viaEnvFile), 2, 'TESSERA_CONFIG names the file too');
  });

  it('demo --port abc names the value it got', async () => {
    const sink = io();
    const code = await runCli(['demo', '--port', 'abc', '--db', ':memory:'], sink);
    assert.equal(code, 2);
    assert.match(sink.lines.join('\n'), /--port: expected a port number, got "abc"/);
  });
});
