import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';

const ROOT = new URL('../../../../', import.meta.url).pathname;
const FIXTURE = new URL('./fixtures/built-package.mjs', import.meta.url).pathname;

describe('the built package (dist)', () => {
  it('runs `@tessera/server/testing` and the checkpointer worker with plain Node', async () => {
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
    // Both suites and both checks ran, not only the first few.
    const passed = Number(/^# pass (\d+)$/m.exec(out)?.[1] ?? 0);
    assert.ok(passed >= 20, `${passed} passed:\n${out}`);
    assert.match(out, /store conformance: sqlite \(file\), from dist/);
    assert.match(out, /replay store conformance: sqlite \(memory\), from dist/);
  });
});
