import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';

const ROOT = new URL('../../../../', import.meta.url).pathname;
const FIXTURE = new URL('./fixtures/built-package.mjs', import.meta.url).pathname;

describe('the built package (dist)', () => {
  it('runs the checkpointer worker with plain Node', async () => {
    // A clean environment: no TypeScript loader, no source condition, no parent test runner.
    const child = spawn(process.execPath, ['--test-reporter=tap', FIXTURE], {
      cwd: ROOT,
      env: { PATH: process.env.PATH },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c));
    child.stderr.on('data', (c: Buffer) => (out += c));
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    assert.equal(code, 0, out);
    assert.match(out, /^# fail 0$/m);
    assert.match(out, /^# pass 1$/m);
  });
});
