/**
 * Runs the BFF example: `node --import tsx packages/vault/examples/run-bff.ts` with
 * TESSERA_ISSUER, BFF_CLIENT_SECRET and TESSERA_VAULT_KEYS set (see the root README).
 */
import { createTokenVault } from '../src/index.js';
import { createApi, createBff } from './bff-express.js';

const issuer = process.env.TESSERA_ISSUER ?? 'http://127.0.0.1:4000';
const vault = await createTokenVault({
  issuer,
  clientId: process.env.BFF_CLIENT_ID ?? 'bff',
  clientSecret: process.env.BFF_CLIENT_SECRET ?? '',
  database: process.env.BFF_VAULT_DB ?? './bff-vault.db',
});
const port = Number(process.env.BFF_PORT ?? 4200);
createApi(issuer).listen(port + 1, '127.0.0.1');
createBff(vault, `http://127.0.0.1:${port + 1}/me`).listen(port, '127.0.0.1', () => {
  process.stderr.write(`BFF on http://127.0.0.1:${port} (API on :${port + 1}), upstream ${issuer}\n`);
});
