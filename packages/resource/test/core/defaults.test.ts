import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { DEFAULT_TABLE, DEFAULTS } from '../../src/core/defaults.js';
import { renderDefaultsDocs } from '../../src/core/describe-defaults.js';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const OPTIONS = readFileSync(new URL('../../src/core/options.ts', import.meta.url), 'utf8');

describe('@tessera/resource defaults', () => {
  it('the README defaults table is generated from defaults.ts', () => {
    const match =
      /<!-- generated:resource-defaults:start[^>]*-->\n\n([\s\S]*)\n<!-- generated:resource-defaults:end -->/.exec(
        README,
      );
    assert.ok(match, 'README has the generated defaults markers');
    assert.equal(
      match[1],
      renderDefaultsDocs(),
      'packages/resource/README.md is out of date: npm run docs:config',
    );
  });

  it('every option with a default is in the options table and its TSDoc points at DEFAULTS, without the number', () => {
    for (const [key, entry] of Object.entries(DEFAULT_TABLE)) {
      const spec: { value: unknown; option?: string } = entry;
      if (spec.option === undefined) continue;
      assert.match(README, new RegExp(`\\| [^|]*\`${spec.option}\``), `${spec.option} in the options table`);
      const doc = new RegExp(
        `/\\*\\*[^/]*\`DEFAULTS\\.${key}\`[^/]*\\*/\\s*(\\w+\\?: \\w+;\\s*)?${spec.option}\\?:`,
      );
      assert.match(OPTIONS, doc, `the TSDoc of ${spec.option} names DEFAULTS.${key}`);
    }
    // No option comment repeats a default's number ("Default 10 000" drifted before).
    for (const line of OPTIONS.split('\n').filter((l) => l.trim().startsWith('/**'))) {
      assert.doesNotMatch(line, /\b(default|defaults)\s+\d/i, line);
    }
  });

  it('DEFAULTS holds the table values, frozen', () => {
    assert.ok(Object.isFrozen(DEFAULTS));
    for (const [key, entry] of Object.entries(DEFAULT_TABLE)) {
      assert.deepEqual(DEFAULTS[key as keyof typeof DEFAULTS], entry.value, key);
    }
  });
});
