import type { TokenResponse } from '@tessera/protocol';

/** What the browser test page exposes as `window.tessera`. */
export interface PageApi {
  setOffset(ms: number): void;
  signIn(tokens: TokenResponse): Promise<void>;
  getAccessToken(): Promise<string | null>;
  /** Starts `n` concurrent getAccessToken() calls; collect them with `collect()`. */
  startMany(n: number): void;
  collect(): Promise<(string | null)[]>;
  state(): string;
  /** The keys the page's storage holds (IndexedDB values, or localStorage). */
  storedKeys(): Promise<string[]>;
  events(): string[];
  /** Held and pending Web Locks by name. */
  locks(): Promise<{ held: number; pending: number }>;
  /** The raw IndexedDB record and key, to check what is at rest. */
  atRest(): Promise<{
    plaintextVisible: boolean;
    keyExtractable: boolean | null;
    keyAlgorithm: string | null;
  }>;
}
