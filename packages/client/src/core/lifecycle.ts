/**
 * Calls `onEvent` on the page's lifecycle events after which timers may have slept or the
 * network may have come or gone: `online`, `offline`, `pageshow`, `focus`, `visibilitychange`.
 * Returns the function that stops listening. Outside a page or worker (Node, React Native)
 * there is nothing to listen to.
 */
export function listenToLifecycle(onEvent: () => void): () => void {
  if (typeof addEventListener !== 'function') return () => {};
  // The controller serves as the listener options: its `signal` removes every listener at once.
  const stop = new AbortController();
  for (const type of ['online', 'offline', 'pageshow', 'focus']) addEventListener(type, onEvent, stop);
  globalThis.document?.addEventListener('visibilitychange', onEvent, stop);
  return () => stop.abort();
}
