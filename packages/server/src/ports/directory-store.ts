export type GrantType = 'refresh_token' | 'password' | 'client_credentials';
export const GRANT_TYPES: readonly GrantType[] = ['refresh_token', 'password', 'client_credentials'];

/** An OAuth client. Lifetimes left `null` fall back to the server's configuration. */
export interface ClientRecord {
  id: string;
  name: string;
  /** Public clients (SPAs, mobile apps) have no secret and authenticate with `none`. */
  public: boolean;
  /** HMAC of the client secret; `null` for public clients. */
  secretHash: string | null;
  grantTypes: GrantType[];
  /** Scopes the client may request besides its default scope; empty: only the default scope. */
  allowedScopes: string[];
  /** Scope granted when a request names none. */
  defaultScope: string;
  accessTokenTtl: number | null;
  refreshGracePeriod: number | null;
  refreshIdleTtl: number | null;
  refreshAbsoluteTtl: number | null;
  /** Refresh requests must carry a single-use `nonce`. */
  requireNonce: boolean;
  /** A resource server: may introspect tokens issued to any client. */
  introspectAny: boolean;
  /** Format of this client's access tokens (`jwt`, `opaque`, `paseto`, or a custom one); null: the server's default. */
  accessTokenFormat?: string | null;
  /**
   * Browser cookie mode: the refresh token travels only in an HttpOnly cookie, never
   * in a JSON body, and only through `/api/auth/*`. Public clients only. Absent: false.
   */
  cookieMode?: boolean;
  /** Every token request must carry a DPoP proof (RFC 9449); sessions are bound to its key. Absent: false. */
  dpop?: boolean;
  /** DPoP proofs must carry a server nonce (`DPoP-Nonce`); the first proof without one gets `use_dpop_nonce`. Absent: false. */
  dpopNonce?: boolean;
  createdAt: number;
}

export interface UserRecord {
  id: string;
  username: string;
  passwordHash: string;
  roles: string[];
  disabled: boolean;
  createdAt: number;
}

/** Users and clients. */
export interface DirectoryStore {
  findClient(id: string): Promise<ClientRecord | null>;
  /** Inserts or replaces a client. */
  saveClient(client: ClientRecord): Promise<void>;
  listClients(): Promise<ClientRecord[]>;
  deleteClient(id: string): Promise<boolean>;
  findUserByUsername(username: string): Promise<UserRecord | null>;
  findUserById(id: string): Promise<UserRecord | null>;
  /** Inserts a user; throws `DuplicateError` when the username is taken. */
  createUser(user: UserRecord): Promise<void>;
  updateUser(user: UserRecord): Promise<void>;
  listUsers(): Promise<UserRecord[]>;
}

/** Declared with the server's other errors; re-exported beside the port that throws it. */
export { DuplicateError } from '../errors.js';
