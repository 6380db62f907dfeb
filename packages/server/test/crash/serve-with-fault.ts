// The crash tests' faulty server: `tessera serve` as the CLI starts it (configuration from the
// environment, SQLite at --db), except that its stores strike the n-th rotation (default the
// first) at one point (`withRotationFault`), where the process kills itself with SIGKILL.
// Usage: node --import tsx --conditions=@tessera/source serve-with-fault.ts <point> <db> <port> [n]
import { ROTATION_FAULT_POINTS, type RotationFaultPoint, withRotationFault } from '@tessera/server/testing';
import { createTessera, loadConfig, loadMasterSecret, openSqliteStores } from '../../src/index.js';

const [point, db, port, nth] = process.argv.slice(2);
if (!ROTATION_FAULT_POINTS.includes(point as RotationFaultPoint) || !db || !port) {
  throw new Error(`usage: serve-with-fault.ts <${ROTATION_FAULT_POINTS.join('|')}> <db> <port> [n]`);
}
const config = loadConfig({ env: process.env, flags: { db, port } });
const holds = point === 'checkpoint-hold';
// Armed once listening: a checkpoint at start-up (the WAL left by the last crash) is not the fault.
let listening = false;
const stores = withRotationFault(
  openSqliteStores({
    path: config.db,
    synchronous: config.sqliteSynchronous,
    // The checkpointer holds the writes for a WAL restart only past walRestartFrames: make that often.
    ...(holds ? { checkpointIntervalMs: 20, walRestartFrames: 8, walRestartIntervalMs: 50 } : {}),
  }),
  point as RotationFaultPoint,
  () => process.kill(process.pid, 'SIGKILL'),
  { nth: nth ? Number(nth) : 1, armed: () => listening },
);
const tessera = await createTessera({
  config,
  stores,
  masterSecret: loadMasterSecret(config.db, process.env),
});
await tessera.listen();
listening = true;
process.stderr.write('Tessera is listening (rotations fail at the fault point)\n');
