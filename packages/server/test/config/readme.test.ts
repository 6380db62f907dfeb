import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DEFAULTS } from '../../src/config/defaults.js';
import { describeDefault, exampleConfigFile, renderConfigDocs } from '../../src/config/describe-config.js';
import { LIMIT_TABLE } from '../../src/config/limits.js';
import { FILE_KEYS, loadConfig } from '../../src/config/load-config.js';
import { flagOf, SCHEMA, SETTING_KEYS, type Setting } from '../../src/config/schema.js';

const README = readFileSync(new URL('../../../../README.md', import.meta.url), 'utf8');

/** The README's generated configuration section (between its markers). */
function section(): string {
  const match = /<!-- generated:config:start[^>]*-->\n\n([\s\S]*)\n<!-- generated:config:end -->/.exec(
    README,
  );
  assert.ok(match, 'README.md has the generated configuration markers');
  return match[1]!;
}

/** The README's table rows, split into cells. */
function rows(): string[][] {
  return section()
    .split('\n')
    .filter((line) => line.startsWith('| `') || line.startsWith('| —'))
    .map((line) =>
      line
        .slice(2, -2)
        .split(/(?<!\\) \| /)
        .map((c) => c.replace(/\\\|/g, '|')),
    );
}

describe('README configuration section', () => {
  it('is what `npm run docs:config` generates from the schema', () => {
    assert.equal(section(), renderConfigDocs(), 'README.md is out of date: run npm run docs:config');
  });

  it('has a row for every setting with its key, flag, variable, default and meaning', () => {
    const table = rows();
    for (const key of SETTING_KEYS) {
      const spec: Setting = SCHEMA[key];
      const row = table.find((r) => r[2] === `\`${spec.env}\``);
      assert.ok(row, `no row for ${spec.env}`);
      assert.equal(row[0], spec.file === false ? '—' : `\`${key}\``, key);
      assert.equal(row[1], flagOf(key) ? `\`${flagOf(key)}\`` : '—', key);
      assert.ok(
        row[3]!.replace(/`/g, '').startsWith(describeDefault(key).replace(/ .*/, '')),
        `${key}: ${row[3]}`,
      );
      assert.ok(row[4]!.startsWith(spec.doc), key);
    }
    for (const key of Object.keys(LIMIT_TABLE)) {
      assert.ok(
        table.some((r) => r[0] === `\`${key}\``),
        `limit ${key}`,
      );
    }
  });

  it('shows a complete example file that loads, with the defaults, and names every key', () => {
    const block = /```json\n([\s\S]*?)```/.exec(section());
    assert.ok(block);
    assert.equal(block[1], exampleConfigFile());
    const example = JSON.parse(block[1]!) as Record<string, unknown>;
    assert.deepEqual(Object.keys(example), [...FILE_KEYS], 'every key a file may hold, in order');
    const dir = mkdtempSync(join(tmpdir(), 'tessera-readme-'));
    const file = join(dir, 'tessera.json');
    writeFileSync(file, block[1]!);
    const config = loadConfig({ env: {}, file });
    for (const key of FILE_KEYS) {
      if (SCHEMA[key].default === undefined) continue;
      assert.equal(config[key], DEFAULTS[key], key);
    }
  });
});
