/** The Web Storage API over a Map (Node has no localStorage); `full` makes setItem throw as a full quota does. */
export class MapStorage implements Storage {
  readonly #values = new Map<string, string>();
  full = false;
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
    if (this.full) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    this.#values.set(key, String(value));
  }
}
