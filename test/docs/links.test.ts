// The repository stands on its own: every link in its Markdown documents points at a file inside
// it (or a heading of the same document), never outside it, and no document cites a text that
// is not in the repository.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from '../packaging/support/workspace.js';

/** README.md, docs/, bench/, .changeset/ and every package's Markdown (not node_modules, dist). */
function documents(): string[] {
  const out = ['README.md', 'bench/README.md', '.changeset/README.md'];
  for (const f of readdirSync(join(ROOT, 'docs'))) if (f.endsWith('.md')) out.push(`docs/${f}`);
  for (const top of ['packages', 'apps']) {
    for (const name of readdirSync(join(ROOT, top))) {
      for (const f of ['README.md', 'CHANGELOG.md']) {
        if (existsSync(join(ROOT, top, name, f))) out.push(`${top}/${name}/${f}`);
      }
    }
  }
  return out.filter((f) => existsSync(join(ROOT, f)));
}

/** The text without fenced code blocks and inline code, where a URL is an example, not a link. */
function prose(text: string): string {
  return text.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
}

/** GitHub's anchor of a heading. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

/**
 * A citation of a text the repository does not contain: the product brief, its style notes, a
 * tracker's issue number. Built from pieces so that this file does not match itself.
 */
const OUTSIDE_TEXT = new RegExp(
  [
    String.raw`\.\./shared\b`,
    String.raw`\bSPEC` + ' §',
    String.raw`\bSTYLE:`,
    String.raw`\bissue` + String.raw` #?\d+\b`,
  ].join('|'),
  'i',
);

/** Every text file a contributor reads: sources, tests, scripts, bench, CI, docs. */
function sources(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
      if (['node_modules', 'dist', 'profiles'].includes(entry.name) || entry.name.startsWith('.git'))
        continue;
      const path = dir === '.' ? entry.name : `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(path);
      else if (
        /\.(?:ts|tsx|mts|mjs|js|json|md|yml|yaml|sh)$|^run$/.test(entry.name) &&
        entry.name !== 'package-lock.json'
      )
        out.push(path);
    }
  };
  for (const top of [
    'packages',
    'apps',
    'fixtures',
    'bench',
    'scripts',
    'test',
    'docs',
    '.ci',
    '.changeset',
  ]) {
    if (existsSync(join(ROOT, top))) walk(top);
  }
  return out;
}

describe('no file cites a text outside the repository', () => {
  it('sources, tests, scripts, bench and docs', () => {
    const offenders = sources().filter((f) => OUTSIDE_TEXT.test(readFileSync(join(ROOT, f), 'utf8')));
    assert.deepEqual(offenders, []);
  });
});

describe('documents link only inside the repository', () => {
  for (const doc of documents()) {
    it(doc, () => {
      const text = readFileSync(join(ROOT, doc), 'utf8');
      const anchors = new Set(
        [...text.replace(/^```[\s\S]*?^```/gm, '').matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1]!)),
      );
      const problems: string[] = [];
      const body = prose(text);
      const targets = [
        ...[...body.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1]!),
        ...[...body.matchAll(/<(?:img|a)\s[^>]*(?:src|href)="([^"]+)"/g)].map((m) => m[1]!),
      ];
      for (const target of targets) {
        if (target.startsWith('#')) {
          if (!anchors.has(target.slice(1))) problems.push(`${target}: no such heading`);
          continue;
        }
        if (/^[a-z][a-z0-9+.-]*:/i.test(target)) {
          problems.push(`${target}: a link outside the repository`);
          continue;
        }
        const file = resolve(dirname(join(ROOT, doc)), decodeURI(target.split('#')[0]!));
        if (relative(ROOT, file).startsWith('..')) problems.push(`${target}: outside the repository`);
        else if (!existsSync(file)) problems.push(`${target}: no such file`);
      }
      if (OUTSIDE_TEXT.test(text)) problems.push('cites a text outside the repository');
      assert.deepEqual(problems, []);
    });
  }
});
