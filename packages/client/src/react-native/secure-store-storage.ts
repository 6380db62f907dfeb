import type { Session, TokenStorage } from '../core/types.js';

/** The options expo-secure-store takes on every call (the ones used here). */
export interface SecureStoreOptionsLike {
  keychainService?: string;
  keychainAccessible?: number;
  requireAuthentication?: boolean;
}

/**
 * The parts of `expo-secure-store` used here, as its documentation describes them, so this
 * package does not depend on it: pass the module itself (`import * as SecureStore from
 * 'expo-secure-store'`).
 */
export interface SecureStoreLike {
  getItemAsync(key: string, options?: SecureStoreOptionsLike): Promise<string | null>;
  setItemAsync(key: string, value: string, options?: SecureStoreOptionsLike): Promise<void>;
  deleteItemAsync(key: string, options?: SecureStoreOptionsLike): Promise<void>;
  /** iOS Keychain accessibility: readable after the first unlock since boot. */
  AFTER_FIRST_UNLOCK?: number;
}

/** Options of {@link secureStoreStorage}. */
export interface SecureStoreStorageOptions {
  /**
   * Passed to every SecureStore call. Default `{ keychainAccessible: AFTER_FIRST_UNLOCK }`, so
   * a refresh that runs while the device is locked (a background fetch) can still read the
   * refresh token; the default of SecureStore itself (`WHEN_UNLOCKED`) would refuse it.
   */
  options?: SecureStoreOptionsLike;
}

/** SecureStore's documented limit per value; larger values "may fail". */
export const SECURE_STORE_VALUE_LIMIT = 2048;

/** SecureStore keys may hold only `[A-Za-z0-9.-_]`: anything else (and `_`) is escaped as `_hh`. */
const keyOf = (name: string) =>
  name.replace(/[^A-Za-z0-9.-]/g, (c) => `_${c.charCodeAt(0).toString(16).padStart(2, '0')}`);

const bytes = (value: string) => new TextEncoder().encode(value).length;

/**
 * The session in the device's Keychain (iOS) or Keystore-encrypted storage (Android) through
 * `expo-secure-store`. What is kept at rest is what a cold start needs: the whole session when
 * it fits SecureStore's 2048 bytes; with a larger access token (a big JWT), the refresh token
 * and the session's data without the access token, so the client refreshes once at start (the
 * full session stays in memory while the app runs).
 *
 * An item SecureStore cannot read any more (Android: its Keystore key is gone after a reinstall
 * or a restored backup) cannot be moved aside: it is deleted, the read throws once (the client
 * emits `storageError` and starts signed out) and later writes work.
 *
 * @example
 * import 'react-native-get-random-values'; // crypto.getRandomValues for the SDK's nonces
 * import * as SecureStore from 'expo-secure-store';
 * import { secureStoreStorage } from '@tessera/client/react-native';
 * const storage = secureStoreStorage(SecureStore);
 */
export function secureStoreStorage(
  SecureStore: SecureStoreLike,
  options: SecureStoreStorageOptions = {},
): TokenStorage {
  if (typeof globalThis.crypto?.getRandomValues !== 'function') {
    throw new TypeError(
      'The Tessera SDK needs crypto.getRandomValues for its nonces: import "react-native-get-random-values" before it (or create the client with nonce: false)',
    );
  }
  const callOptions = options.options ?? { keychainAccessible: SecureStore.AFTER_FIRST_UNLOCK };
  /** What was written in this run, in full (SecureStore may hold less of it). */
  const written = new Map<string, string>();

  /** The value to keep at rest: the whole session if it fits, else without the access token. */
  function atRest(value: string): string {
    if (bytes(value) <= SECURE_STORE_VALUE_LIMIT) return value;
    let session: Session | undefined;
    try {
      session = JSON.parse(value) as Session;
    } catch {}
    const shrunk =
      session?.refreshToken === undefined
        ? value
        : // Expired at receipt: the client refreshes at start rather than hand out nothing.
          JSON.stringify({ ...session, accessToken: '', expiresAt: session.receivedAt });
    if (bytes(shrunk) > SECURE_STORE_VALUE_LIMIT) {
      throw new RangeError(`The value is larger than SecureStore's ${SECURE_STORE_VALUE_LIMIT} bytes`);
    }
    return shrunk;
  }

  return {
    async get(name) {
      const own = written.get(name);
      if (own !== undefined) return own;
      try {
        return await SecureStore.getItemAsync(keyOf(name), callOptions);
      } catch (cause) {
        await SecureStore.deleteItemAsync(keyOf(name), callOptions).catch(() => {});
        throw new Error(`SecureStore could not read "${name}"; it was deleted, starting clean`, { cause });
      }
    },
    async set(name, value) {
      const kept = atRest(value);
      written.delete(name);
      await SecureStore.setItemAsync(keyOf(name), kept, callOptions);
      written.set(name, value);
    },
    async remove(name) {
      written.delete(name);
      await SecureStore.deleteItemAsync(keyOf(name), callOptions);
    },
  };
}
