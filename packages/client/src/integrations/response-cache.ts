/** Header set on a response served from the offline cache. */
export const STALE_HEADER = 'x-tessera-stale';

interface Entry {
  body: ArrayBuffer;
  status: number;
  statusText: string;
  headers: [string, string][];
}

/** A read-only, in-memory cache of GET responses served while the network is down. */
export interface ResponseCache {
  put(url: string, response: Response): void;
  /** The cached response flagged with `x-tessera-stale: 1`, or undefined. */
  get(url: string): Response | undefined;
  clear(): void;
}

/**
 * Keeps the last `maxEntries` successful GET answers in memory (least recently stored first out).
 * Answers marked `Cache-Control: no-store` are never kept; nothing is written to disk.
 */
export function createResponseCache(maxEntries = 100): ResponseCache {
  const entries = new Map<string, Entry>();
  return {
    put(url, response) {
      if (!response.ok || /no-store/i.test(response.headers.get('cache-control') ?? '')) return;
      const copy = response.clone();
      void copy.arrayBuffer().then(
        (body) => {
          entries.delete(url);
          entries.set(url, {
            body,
            status: copy.status,
            statusText: copy.statusText,
            headers: [...copy.headers],
          });
          if (entries.size > maxEntries) entries.delete(entries.keys().next().value as string);
        },
        () => {},
      );
    },
    get(url) {
      const entry = entries.get(url);
      if (!entry) return undefined;
      const headers = new Headers(entry.headers);
      headers.set(STALE_HEADER, '1');
      return new Response(entry.body.slice(0), {
        status: entry.status,
        statusText: entry.statusText,
        headers,
      });
    },
    clear: () => entries.clear(),
  };
}
