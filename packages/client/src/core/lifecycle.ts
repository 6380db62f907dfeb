/** Page events after which timers may have slept or the network may be back. */
const WAKE = ['online', 'pageshow', 'focus'];

/**
 * Listens to the page's lifecycle: `online`, `pageshow`, `focus` and a visible
 * `visibilitychange` call `onWake` (catch up on timers that slept in a background tab or a
 * closed laptop); `offline` calls `onOffline`. Returns the function that stops listening.
 * Outside a page (Node, React Native) there is nothing to listen to.
 */
export function listenToLifecycle(onWake: () => void, onOffline: () => void): () => void {
  if (typeof addEventListener !== 'function') return () => {};
  const doc = typeof document === 'undefined' ? undefined : document;
  const onVisible = () => {
    if (doc?.visibilityState === 'visible') onWake();
  };
  for (const event of WAKE) addEventListener(event, onWake);
  addEventListener('offline', onOffline);
  doc?.addEventListener('visibilitychange', onVisible);
  return () => {
    for (const event of WAKE) removeEventListener(event, onWake);
    removeEventListener('offline', onOffline);
    doc?.removeEventListener('visibilitychange', onVisible);
  };
}
