import type { ConnectionRow, ConnectionState, RowPatch, SealedColumns } from './vault-store.js';

/** Column names of the connections table, shared by the SQL adapters. */
export const PATCH_COLUMNS: Record<Exclude<keyof RowPatch, 'sealed'>, string> = {
  state: 'state',
  keyId: 'key_id',
  leaseOwner: 'lease_owner',
  leaseUntil: 'lease_until',
  failures: 'failures',
  retryAt: 'retry_at',
  lastError: 'last_error',
  refreshedAt: 'refreshed_at',
  updatedAt: 'updated_at',
  purgeAt: 'purge_at',
};

/** `SET` assignments and values for a patch; `sealed: null` clears every token column. */
export function patchAssignments(patch: RowPatch): { columns: string[]; values: (string | number | null)[] } {
  const columns: string[] = [];
  const values: (string | number | null)[] = [];
  for (const [key, column] of Object.entries(PATCH_COLUMNS) as [keyof typeof PATCH_COLUMNS, string][]) {
    const value = patch[key];
    if (value === undefined) continue;
    columns.push(column);
    values.push(value);
  }
  if (patch.sealed !== undefined) {
    const s = patch.sealed;
    for (const column of [
      'access_token',
      'token_type',
      'expiry',
      'refresh_token',
      'id_token',
      'scope',
    ] as const) {
      columns.push(column);
      values.push(s === null ? null : s[column]);
    }
  }
  return { columns, values };
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

/** Reads a database row (snake_case, numbers possibly as strings from PostgreSQL's int8). */
export function toConnectionRow(r: Record<string, unknown>): ConnectionRow {
  const sealed: SealedColumns | null =
    r.access_token === null || r.access_token === undefined
      ? null
      : {
          access_token: String(r.access_token),
          token_type: String(r.token_type),
          expiry: String(r.expiry),
          refresh_token: str(r.refresh_token),
          id_token: str(r.id_token),
          scope: str(r.scope),
        };
  return {
    userId: String(r.user_id),
    connection: String(r.connection),
    issuer: String(r.issuer),
    state: String(r.state) as ConnectionState,
    version: Number(r.version),
    leaseOwner: str(r.lease_owner),
    leaseUntil: num(r.lease_until),
    sealed,
    keyId: str(r.key_id),
    failures: Number(r.failures ?? 0),
    retryAt: num(r.retry_at),
    lastError: str(r.last_error),
    refreshedAt: num(r.refreshed_at),
    updatedAt: Number(r.updated_at),
    purgeAt: num(r.purge_at),
  };
}
