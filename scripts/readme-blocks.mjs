#!/usr/bin/env node
// The TypeScript examples of the READMEs and docs/, written out as modules so that the type-check
// compiles them with the tests (test/tsconfig.test.json includes test/readme-blocks/). A ```ts
// block that imports something is a complete example and is checked; a block without imports is
// a fragment (a line or two of an API in use) and is not. What a complete example takes from the
// reader's own code (their `app`, their `issuer`) is declared in an HTML comment on the line
// before the block, which Markdown does not show: `<!-- given: declare const issuer: string; -->`.
// Run by the type-check (scripts/typecheck-tests.mjs) and by scripts/test.mjs before the tests.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const out = join(root, 'test', 'readme-blocks');

/** Every Markdown document a user reads. */
export function documents() {
  const docs = ['README.md'];
  for (const top of ['packages', 'apps']) {
    for (const name of readdirSync(join(root, top))) {
      if (existsSync(join(root, top, name, 'README.md'))) docs.push(`${top}/${name}/README.md`);
    }
  }
  for (const f of readdirSync(join(root, 'docs'))) if (f.endsWith('.md')) docs.push(`docs/${f}`);
  return docs;
}

/** The checked blocks of one document: `{ doc, line, code, given }`. */
export function blocksOf(doc) {
  const lines = readFileSync(join(root, doc), 'utf8').split('\n');
  const blocks = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== '```ts') continue;
    const start = i;
    const body = [];
    for (i++; i < lines.length && lines[i] !== '```'; i++) body.push(lines[i]);
    const code = body.join('\n');
    // The HTML comments right above the fence: `given:` declarations and an `example:` name.
    const notes = {};
    for (let j = start - 1; j >= 0; j--) {
      const note = /^<!-- (given|example): ([\s\S]*) -->$/.exec(lines[j]);
      if (!note) break;
      notes[note[1]] = note[2];
    }
    if (/^import\s/m.test(code)) {
      blocks.push({ doc, line: start + 1, code, given: notes.given ?? '', name: notes.example });
    }
  }
  return blocks;
}

/**
 * Writes test/readme-blocks/<doc>-line-<n>.ts for every checked block (or <name>.ts for a block
 * named with `<!-- example: name -->`, which a test may import to run the example as written);
 * returns their names.
 */
export function writeBlocks() {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const names = [];
  for (const doc of documents()) {
    for (const block of blocksOf(doc)) {
      const name = block.name
        ? `${block.name}.ts`
        : `${doc
            .replace(/\/README\.md$|\.md$/, '')
            .replaceAll('/', '-')
            .toLowerCase()}-line-${block.line}.ts`;
      const header = `// Generated from ${doc}, line ${block.line}, by scripts/readme-blocks.mjs. Edit the document, not this file.\n`;
      // The givens go last: declarations are hoisted, and the block's imports stay on top.
      writeFileSync(join(out, name), `${header}${block.code}\n${block.given}\nexport {};\n`);
      names.push(name);
    }
  }
  return names;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(writeBlocks().join('\n'));
}
