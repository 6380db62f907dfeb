// Versioning with Changesets: every pending changeset names real packages and a bump, and every
// package keeps a changelog that `changeset version` appends to.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT, workspacePackages } from './support/workspace.js';

const CHANGESETS = join(ROOT, '.changeset');

describe('changesets', () => {
  const names = new Set(
    workspacePackages()
      .filter((p) => !p.private)
      .map((p) => p.name),
  );

  it('the config versions every @tessera package together and publishes them as public', () => {
    const config = JSON.parse(readFileSync(join(CHANGESETS, 'config.json'), 'utf8')) as {
      fixed: string[][];
      access: string;
      baseBranch: string;
    };
    assert.deepEqual(config.fixed, [['@tessera/*']]);
    assert.equal(config.access, 'public');
    assert.equal(config.baseBranch, 'main');
    for (const name of names) assert.match(name, /^@tessera\//);
  });

  it('each pending changeset names existing packages, a bump, and says what changed', () => {
    const files = readdirSync(CHANGESETS).filter((f) => f.endsWith('.md') && f !== 'README.md');
    for (const file of files) {
      const text = readFileSync(join(CHANGESETS, file), 'utf8');
      const match = /^---\n([\s\S]*?)\n---\n([\s\S]*)$/.exec(text);
      assert.ok(match, `${file}: front matter between --- lines`);
      const bumps = match[1]!.split('\n').filter((l) => l.trim() !== '');
      assert.ok(bumps.length > 0, `${file}: names a package`);
      for (const line of bumps) {
        const bump = /^['"](@tessera\/[\w-]+)['"]: (patch|minor|major)$/.exec(line);
        assert.ok(bump, `${file}: "${line}" is 'package': patch|minor|major`);
        assert.ok(names.has(bump[1]!), `${file}: ${bump[1]} is a workspace package`);
        const version = workspacePackages().find((p) => p.name === bump[1])?.version ?? '0.0.0';
        if (version.startsWith('0.')) {
          assert.notEqual(bump[2], 'major', `${file}: before 1.0 a breaking change is a minor bump`);
        }
      }
      assert.ok(match[2]!.trim().length > 20, `${file}: says what changed`);
    }
  });

  it('every package has a CHANGELOG.md headed with its name', () => {
    for (const p of workspacePackages().filter((q) => !q.private)) {
      const text = readFileSync(join(ROOT, p.dir, 'CHANGELOG.md'), 'utf8');
      assert.equal(text.split('\n')[0], `# ${p.name}`, p.dir);
      assert.match(
        text,
        new RegExp(`^## ${p.version.replaceAll('.', '\\.')}$`, 'm'),
        `${p.dir}: its version`,
      );
    }
  });
});
