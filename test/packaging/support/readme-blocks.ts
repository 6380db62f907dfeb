import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './workspace.js';

/**
 * The README's tested code blocks: each fenced block right after a `<!-- tested: NAME -->`
 * comment, by NAME. The install test writes and runs them as they are, so the README's getting
 * started paths cannot drift from what works.
 */
export function readmeBlocks(file = join(ROOT, 'README.md')): Map<string, string> {
  const text = readFileSync(file, 'utf8');
  const blocks = new Map<string, string>();
  const marked = /<!-- tested: ([\w.-]+) -->\n```\w*\n([\s\S]*?)\n```/g;
  for (const match of text.matchAll(marked)) {
    const [, name, body] = match;
    if (blocks.has(name!)) throw new Error(`README: two blocks are named ${name}`);
    blocks.set(name!, `${body}\n`);
  }
  return blocks;
}

/** A block's lines without comments and blank lines (`cmd  # why` → `cmd`). */
export function commandLines(block: string): string[] {
  return block
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}
