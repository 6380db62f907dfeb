// The resilience test's faulty demo: `tessera demo` as the CLI starts it (the demo's SQLite file,
// secret and lifetimes), except that its stores strike every rotation at one point
// (`withRotationFault`), where the process kills itself with SIGKILL.
// Usage: node --import tsx --conditions=@tessera/source demo-with-fault.ts <point> <db> <port> <ttl-seconds>
import { DEMO_DEFAULTS, loadConfig, openSqliteStores } from '@tessera/server';
import { withRotationFault } from '@tessera/server/testing';
import { startDemo } from '../../src/index.js';

const [point, db, port, ttl] = process.argv.slice(2);
if ((point !== 'before-commit' && point !== 'after-commit') || !db || !port || !ttl) {
  throw new Error('usage: demo-with-fault.ts <before-commit|after-commit> <db> <port> <ttl-seconds>');
}
const config = loadConfig({
  flags: { port, db, accessTokenTtl: ttl, logLevel: 'error' },
  env: process.env,
  overrides: DEMO_DEFAULTS,
});
const stores = withRotationFault(
  openSqliteStores({ path: config.db, synchronous: config.sqliteSynchronous }),
  point,
  () => process.kill(process.pid, 'SIGKILL'),
);
await startDemo({ config, env: process.env, stores });
process.stderr.write('Tessera demo is running (rotations fail at the fault point)\n');
