import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { ERROR_CODES } from '../src/index.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const doc = () => readFileSync(`${root}docs/errors.md`, 'utf8');

/** The members of the exported `KnownErrorCode` type, as the compiler sees them. */
function codesOfTheType(): string[] {
  const file = fileURLToPath(new URL('../src/error-codes.ts', import.meta.url));
  const program = ts.createProgram([file], {
    strict: true,
    noEmit: true,
    types: [],
    lib: ['lib.es2023.d.ts'],
  });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(file);
  const module = source && checker.getSymbolAtLocation(source);
  const alias = module && checker.getExportsOfModule(module).find((s) => s.name === 'KnownErrorCode');
  assert.ok(alias, 'error-codes.ts exports KnownErrorCode');
  const type = checker.getDeclaredTypeOfSymbol(alias);
  const members = type.isUnion() ? type.types : [type];
  return members.map((t) => (t.isStringLiteral() ? t.value : checker.typeToString(t)));
}

// As fastify keeps lib/errors.js, its types and docs/Reference/Errors.md in step: the table is
// the source; the type and the document must say exactly what it says.
describe('the error table, its type and docs/errors.md', () => {
  it('docs/errors.md is what `npm run docs:errors` writes from the tables', () => {
    const written = execFileSync(
      process.execPath,
      ['--import', 'tsx', '--conditions=@tessera/source', 'scripts/docs-errors.mjs', '--stdout'],
      { cwd: root, encoding: 'utf8' },
    );
    assert.equal(doc(), written, 'docs/errors.md is out of date: run npm run docs:errors');
  });

  it('every code of the table is a member of KnownErrorCode, and nothing else is', () => {
    assert.deepEqual(codesOfTheType().sort(), Object.keys(ERROR_CODES).sort());
  });

  it('every code of the table has its row in docs/errors.md, and the document lists no other', () => {
    const text = doc();
    const wire = text.slice(text.indexOf('## Wire codes'), text.indexOf('## Server errors'));
    const rows = [...wire.matchAll(/^\| `([a-z_]+)` \| (\d{3}) \| `([a-z_]+)` \|/gm)];
    assert.deepEqual(
      rows.map((r) => r[1]),
      Object.keys(ERROR_CODES),
    );
    for (const [, code, status, error] of rows) {
      const def = ERROR_CODES[code as keyof typeof ERROR_CODES];
      assert.equal(Number(status), def.status, code);
      assert.equal(error, def.error, code);
    }
  });
});
