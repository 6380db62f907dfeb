import { describeStorageConformance } from '@tessera/client/testing';
import { webStorage } from '../../src/storage/web-storage.js';

/** The Web Storage API over a Map (Node has no localStorage); the real one runs in the browser test. */
class MapStorage implements Storage {
  readonly #values = new Map<string, string>();
  get length() {
    return this.#values.size;
  }
  clear() {
    this.#values.clear();
  }
  getItem(key: string) {
    return this.#values.get(key) ?? null;
  }
  key(index: number) {
    return [...this.#values.keys()][index] ?? null;
  }
  removeItem(key: string) {
    this.#values.delete(key);
  }
  setItem(key: string, value: string) {
    this.#values.set(key, String(value));
  }
}

describeStorageConformance('webStorage', () => webStorage(new MapStorage()));
