// A vault in a process of its own, driven over IPC by the multi-process tests. Its clock is
// virtual: the test sets it, so expiry decisions never depend on real time.
import { createTokenVault } from '../../src/index.js';

interface Setup {
  issuer: string;
  clientId: string;
  clientSecret: string;
  database: string;
  schema?: string;
  keys: { current: string } & Record<string, string>;
  nowMs: number;
}

const setup = JSON.parse(process.env.VAULT_CHILD_SETUP ?? '{}') as Setup;
let now = setup.nowMs;
const vault = await createTokenVault({
  issuer: setup.issuer,
  clientId: setup.clientId,
  clientSecret: setup.clientSecret,
  database: setup.database,
  ...(setup.schema ? { postgres: { schema: setup.schema } } : {}),
  keys: setup.keys,
  clock: { now: () => now },
});

type Command = { type: 'clock'; ms: number } | { type: 'get'; userId: string; n: number } | { type: 'exit' };

process.on('message', async (msg: Command) => {
  if (msg.type === 'clock') {
    now = msg.ms;
    process.send?.({ type: 'ok' });
  } else if (msg.type === 'get') {
    const results = await Promise.allSettled(
      Array.from({ length: msg.n }, () => vault.getValidAccessToken(msg.userId)),
    );
    const tokens = [...new Set(results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : [])))];
    const errors = results.flatMap((r) =>
      r.status === 'rejected' ? [String((r.reason as Error).name)] : [],
    );
    process.send?.({ type: 'result', tokens, errors });
  } else if (msg.type === 'exit') {
    await vault.close();
    process.exit(0);
  }
});
process.send?.({ type: 'ready' });
