import type { AppStateLike, SecureStoreLike, SecureStoreOptionsLike } from '../../src/react-native/index.js';

/**
 * expo-secure-store as its documentation and source describe it: keys must match
 * `^[\w.-]+$` (else it throws), values must be strings, a value over 2048 bytes "may fail"
 * (this fake fails, as the documentation warns a future version will), `keychainService`
 * separates namespaces, a missing key reads as null and deletes quietly. `invalidate` makes an
 * item unreadable, as Android does when the Keystore key is gone after a restored backup.
 */
export class FakeSecureStore implements SecureStoreLike {
  readonly AFTER_FIRST_UNLOCK = 0;
  readonly WHEN_UNLOCKED = 5;
  readonly items = new Map<string, string>();
  readonly broken = new Set<string>();
  readonly calls: { op: string; key: string; options: SecureStoreOptionsLike | undefined }[] = [];

  #id(key: string, options?: SecureStoreOptionsLike): string {
    if (typeof key !== 'string' || !/^[\w.-]+$/.test(key)) {
      throw new Error(
        `Invalid key provided to SecureStore. Keys must not be empty and contain only alphanumeric characters, ".", "-", and "_".`,
      );
    }
    return `${options?.keychainService ?? 'app'}/${key}`;
  }

  async getItemAsync(key: string, options?: SecureStoreOptionsLike): Promise<string | null> {
    const id = this.#id(key, options);
    this.calls.push({ op: 'get', key, options });
    if (this.broken.has(id)) throw new Error('Could not decrypt the value for key');
    return this.items.get(id) ?? null;
  }

  async setItemAsync(key: string, value: string, options?: SecureStoreOptionsLike): Promise<void> {
    const id = this.#id(key, options);
    this.calls.push({ op: 'set', key, options });
    if (typeof value !== 'string')
      throw new Error('Invalid value provided to SecureStore. Values must be strings');
    if (new TextEncoder().encode(value).length > 2048)
      throw new Error('Value being stored in SecureStore is larger than 2048 bytes');
    this.broken.delete(id);
    this.items.set(id, value);
  }

  async deleteItemAsync(key: string, options?: SecureStoreOptionsLike): Promise<void> {
    const id = this.#id(key, options);
    this.calls.push({ op: 'delete', key, options });
    this.broken.delete(id);
    this.items.delete(id);
  }

  invalidate(key: string): void {
    this.broken.add(`app/${key}`);
  }
}

/** React Native's AppState: `currentState`, and `change` events to subscriptions with `remove()`. */
export class FakeAppState implements AppStateLike {
  currentState: string = 'active';
  readonly #listeners = new Set<(state: string) => void>();

  addEventListener(_type: 'change', listener: (state: string) => void) {
    this.#listeners.add(listener);
    return { remove: () => void this.#listeners.delete(listener) };
  }

  /** The app moves to `state` (`active`, `background`, `inactive`). */
  go(state: string): void {
    this.currentState = state;
    for (const listener of [...this.#listeners]) listener(state);
  }

  get listeners(): number {
    return this.#listeners.size;
  }
}
