// The crash tests' faulty server: `tessera serve` as the CLI starts it (configuration from the
// environment, SQLite at --db), except that its stores strike every rotation at one point
// (`withRotationFault`), where the process kills itself with SIGKILL.
// Usage: node --import tsx --conditions=@tessera/source serve-with-fault.ts <point> <db> <port>
import { type RotationFaultPoint, withRotationFault } from '@tessera/server/testing';
import { createTessera, loadConfig, loadMasterSecret, openSqliteStores } from '../../src/index.js';

const [point, db, port] = process.argv.slice(2);
if ((point !== 'before-commit' && point !== 'after-commit') || !db || !port) {
  throw new Error('usage: serve-with-fault.ts <before-commit|after-commit> <db> <port>');
}
const config = loadConfig({ env: process.env, flags: { db, port } });
const stores = withRotationFault(
  openSqliteStores({ path: config.db, synchronous: config.sqliteSynchronous }),
  point satisfies RotationFaultPoint,
  () => process.kill(process.pid, 'SIGKILL'),
);
const tessera = await createTessera({
  config,
  stores,
  masterSecret: loadMasterSecret(config.db, process.env),
});
await tessera.listen();
process.stderr.write('Tessera is listening (rotations fail at the fault point)\n');
