/**
 * Which URLs get the access token. Default: the page's own origin in a browser (a token must
 * never leak to a third-party API or CDN), every URL outside a browser (a Node client is built
 * for one API). Pass `attachTo` to list your API origins.
 */
export function attachPolicy(attachTo?: (url: URL) => boolean): (url: URL) => boolean {
  if (attachTo) return attachTo;
  const origin = typeof location === 'undefined' ? undefined : location.origin;
  return (url) => origin === undefined || url.origin === origin;
}
