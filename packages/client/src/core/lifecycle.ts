/**
 * Listens to the page's lifecycle: `online`, `pageshow`, `focus` and a visible
 * `visibilitychange` call `onWake` (catch up on timers that slept in a background tab or a
 * closed laptop); `offline` calls `onOffline`. Returns the function that stops listening.
 * Outside a page (Node, React Native) there is nothing to listen to.
 */
export function listenToLifecycle(onWake: () => void, onOffline: () => void): () => void {
  if (typeof addEventListener !== 'function') return () => {};
  const stop = new AbortController();
  const options = { signal: stop.signal };
  for (const event of ['online', 'pageshow', 'focus']) addEventListener(event, onWake, options);
  addEventListener('offline', onOffline, options);
  if (typeof document !== 'undefined') {
    const onVisible = () => {
      if (document.visibilityState === 'visible') onWake();
    };
    document.addEventListener('visibilitychange', onVisible, options);
  }
  return () => stop.abort();
}
