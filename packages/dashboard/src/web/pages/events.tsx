import { EVENT_TYPES, type LifecycleEvent } from '@tessera/protocol';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, apiUrl } from '../api.js';
import { ErrorBox, useLoad } from '../components.js';
import { secondsTime } from '../format.js';
import { href, navigate } from '../router.js';

/** At most this many live events are kept on the page (the oldest go). */
const TAIL_MAX = 500;

type Filters = { type: string; user: string; client: string; session: string };

/** Events: a live tail over Server-Sent Events, the filtered history, and export links. */
export function Events({ query }: { query: URLSearchParams }) {
  const filters: Filters = {
    type: query.get('type') ?? '',
    user: query.get('user') ?? '',
    client: query.get('client') ?? '',
    session: query.get('session') ?? '',
  };
  // Newest first: a page ends at the smallest id it shows, the next page starts below it.
  const before = query.get('before') ?? undefined;
  const history = useLoad(
    () => api.events({ ...filters, order: 'desc', before, limit: 50 }),
    [filters.type, filters.user, filters.client, filters.session, before],
  );
  const apply = (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.target as HTMLFormElement);
    navigate('events', {
      type: String(form.get('type') ?? ''),
      user: String(form.get('user') ?? '').trim(),
      client: String(form.get('client') ?? '').trim(),
      session: String(form.get('session') ?? '').trim(),
    });
  };
  return (
    <section>
      <h1>Events</h1>
      <form class="filters" onSubmit={apply} key={JSON.stringify(filters)}>
        <label>
          Type
          <select name="type" value={filters.type}>
            <option value="">any</option>
            {EVENT_TYPES.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </label>
        <label>
          User <input name="user" value={filters.user} placeholder="username or id" />
        </label>
        <label>
          Client <input name="client" value={filters.client} />
        </label>
        <label>
          Session <input name="session" value={filters.session} />
        </label>
        <button type="submit">Filter</button>
      </form>
      <ExportLinks filters={filters} />
      <LiveTail filters={filters} />
      <h2>History, newest first</h2>
      <ErrorBox error={history.error} />
      <EventTable items={history.data?.items ?? []} id="history" />
      <div class="pager">
        {before ? (
          <a class="button secondary" href={href('events', { ...filters })}>
            Newest
          </a>
        ) : null}
        {history.data?.next ? (
          <a class="button secondary" href={href('events', { ...filters, before: history.data.next })}>
            Older
          </a>
        ) : null}
      </div>
    </section>
  );
}

function ExportLinks({ filters }: { filters: Filters }) {
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const range = {
    ...filters,
    from: from ? Date.parse(`${from}Z`) : undefined,
    to: to ? Date.parse(`${to}Z`) : undefined,
  };
  return (
    <div class="export">
      <label>
        From (UTC){' '}
        <input type="datetime-local" value={from} onInput={(e) => setFrom(e.currentTarget.value)} />
      </label>
      <label>
        To (UTC) <input type="datetime-local" value={to} onInput={(e) => setTo(e.currentTarget.value)} />
      </label>
      <a
        class="button secondary"
        id="export-ndjson"
        href={apiUrl('events/export', { ...range, format: 'ndjson' })}
      >
        Export NDJSON
      </a>
      <a class="button secondary" id="export-csv" href={apiUrl('events/export', { ...range, format: 'csv' })}>
        Export CSV
      </a>
    </div>
  );
}

type TailState = 'connecting' | 'live' | 'reconnecting' | 'unavailable' | 'paused';

/** New events as they happen (EventSource resumes by itself with Last-Event-ID after a drop). */
function LiveTail({ filters }: { filters: Filters }) {
  const [events, setEvents] = useState<LifecycleEvent[]>([]);
  const [state, setState] = useState<TailState>('connecting');
  const [paused, setPaused] = useState(false);
  const key = JSON.stringify(filters);
  const seen = useRef(new Set<number>());
  useEffect(() => {
    setEvents([]);
    seen.current = new Set();
    if (paused) {
      setState('paused');
      return;
    }
    setState('connecting');
    const source = new EventSource(apiUrl('events/stream', filters));
    source.onopen = () => setState('live');
    source.addEventListener('lifecycle', (msg) => {
      let event: LifecycleEvent;
      try {
        event = JSON.parse((msg as MessageEvent<string>).data) as LifecycleEvent;
      } catch {
        return;
      }
      if (seen.current.has(event.id)) return;
      seen.current.add(event.id);
      setEvents((list) => [event, ...list].slice(0, TAIL_MAX));
    });
    source.onerror = () => {
      // CLOSED: the server refused the stream (no such endpoint, signed out); otherwise the browser retries.
      setState(source.readyState === EventSource.CLOSED ? 'unavailable' : 'reconnecting');
    };
    return () => source.close();
  }, [key, paused]);
  return (
    <div class="card tail">
      <h2>
        Live{' '}
        <span class={`badge tail-${state}`} id="tail-state" data-state={state}>
          {state}
        </span>
        <button type="button" class="secondary small" onClick={() => setPaused((p) => !p)}>
          {paused ? 'Resume' : 'Pause'}
        </button>
      </h2>
      {state === 'unavailable' ? (
        <p class="muted">The live tail is not available (the server refused the stream).</p>
      ) : null}
      {events.length === 0 ? (
        <p class="muted">New events appear here as they happen.</p>
      ) : (
        <EventTable items={events} id="tail" />
      )}
    </div>
  );
}

export function EventTable({ items, id }: { items: LifecycleEvent[]; id?: string }) {
  if (items.length === 0) return <p class="muted empty">No events.</p>;
  return (
    <div class="table-wrap">
      <table class="events" id={id}>
        <thead>
          <tr>
            <th class="num">#</th>
            <th>Time (UTC)</th>
            <th>Type</th>
            <th>Session</th>
            <th>User</th>
            <th>Client</th>
            <th>Reason</th>
            <th>Details</th>
          </tr>
        </thead>
        <tbody>
          {items.map((e) => (
            <tr key={e.id} data-type={e.type} data-event={e.id}>
              <td class="num">{e.id}</td>
              <td>{secondsTime(e.at)}</td>
              <td>
                <code>{e.type}</code>
              </td>
              <td>
                {e.familyId ? (
                  <a href={href(`sessions/${encodeURIComponent(e.familyId)}`)}>
                    <code>{e.familyId.slice(0, 12)}</code>
                  </a>
                ) : (
                  '–'
                )}
              </td>
              <td>{e.userId ?? '–'}</td>
              <td>{e.clientId ?? '–'}</td>
              <td>{e.reason ?? ''}</td>
              <td class="data">{details(e)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/**
 * The event's data as short `key=value` pairs (events never hold token values), the raw user agent
 * replaced by the device the server parsed from it when it did.
 */
function details(e: LifecycleEvent & { device?: unknown }): string {
  const data = e.data ?? {};
  const device = typeof e.device === 'string' ? e.device : undefined;
  return Object.entries(data)
    .filter(([k]) => k !== 'jti' && !(k === 'userAgent' && device !== undefined))
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .concat(device === undefined ? [] : [`device=${device}`])
    .join(' ');
}
