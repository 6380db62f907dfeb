import { useState } from 'preact/hooks';
import { api, type SessionView } from '../api.js';
import { ConfirmDialog, type ConfirmRequest, ErrorBox, StatusBadge, useLoad } from '../components.js';
import { shortTime } from '../format.js';
import { href, navigate } from '../router.js';
import { revokeAllOfClient, revokeAllOfUser, revokeOne } from './revoke.js';

const STATUSES = ['', 'active', 'revoked', 'expired'] as const;

/** Sessions, newest first: filters in the URL, keyset paging, revoke one / all of a user / all of a client. */
export function Sessions({ query }: { query: URLSearchParams }) {
  const filters = {
    user: query.get('user') ?? '',
    client: query.get('client') ?? '',
    status: query.get('status') ?? '',
    since: query.get('since') ?? '',
  };
  const cursor = query.get('cursor') ?? undefined;
  // The cursors of the pages before this one, for "Previous" (keyset paging only goes forward).
  const back = (query.get('back') ?? '').split(',').filter((c) => c !== '');
  const [confirm, setConfirm] = useState<ConfirmRequest | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const page = useLoad(
    () =>
      api.sessions({
        ...filters,
        since: filters.since ? Date.parse(`${filters.since}Z`) : undefined,
        cursor,
        limit: 25,
      }),
    [filters.user, filters.client, filters.status, filters.since, cursor],
  );
  const after = (what: string) => (result: unknown) => {
    const n = (result as { revoked: string[] }).revoked.length;
    setDone(`${what}: ${n} session${n === 1 ? '' : 's'} ended.`);
    page.reload();
  };

  const apply = (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.target as HTMLFormElement);
    navigate('sessions', {
      user: String(form.get('user') ?? '').trim(),
      client: String(form.get('client') ?? '').trim(),
      status: String(form.get('status') ?? ''),
      since: String(form.get('since') ?? ''),
    });
  };

  return (
    <section>
      <h1>Sessions</h1>
      <form class="filters" onSubmit={apply} key={JSON.stringify(filters)}>
        <label>
          User <input name="user" value={filters.user} placeholder="username or id" />
        </label>
        <label>
          Client <input name="client" value={filters.client} placeholder="client id" />
        </label>
        <label>
          Status
          <select name="status" value={filters.status}>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s === '' ? 'any' : s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Started after (UTC) <input name="since" type="datetime-local" value={filters.since} />
        </label>
        <button type="submit">Filter</button>
        {filters.user ? (
          <button
            type="button"
            class="danger"
            id="revoke-user"
            onClick={() => setConfirm(revokeAllOfUser(filters.user, after(`All of ${filters.user}`)))}
          >
            Revoke all of {filters.user}
          </button>
        ) : null}
        {filters.client ? (
          <button
            type="button"
            class="danger"
            id="revoke-client"
            onClick={() => setConfirm(revokeAllOfClient(filters.client, after(`All of ${filters.client}`)))}
          >
            Revoke all of client {filters.client}
          </button>
        ) : null}
      </form>
      {done ? (
        <p class="notice" role="status">
          {done}
        </p>
      ) : null}
      <ErrorBox error={page.error} />
      <SessionTable
        items={page.data?.items ?? []}
        loading={page.loading}
        onRevoke={(s) => setConfirm(revokeOne(s, after('Revoked')))}
      />
      <div class="pager">
        {back.length > 0 || cursor ? (
          <a
            class="button secondary"
            href={href('sessions', {
              ...filters,
              cursor: back.at(-1) === '-' ? undefined : back.at(-1),
              back: back.slice(0, -1).join(','),
            })}
          >
            Previous
          </a>
        ) : null}
        {page.data?.next ? (
          <a
            class="button secondary"
            id="next-page"
            href={href('sessions', {
              ...filters,
              cursor: page.data.next,
              back: [...back, cursor ?? '-'].join(','),
            })}
          >
            Next
          </a>
        ) : null}
      </div>
      <ConfirmDialog request={confirm} close={() => setConfirm(null)} />
    </section>
  );
}

export function SessionTable({
  items,
  loading,
  onRevoke,
}: {
  items: SessionView[];
  loading: boolean;
  onRevoke?: (s: SessionView) => void;
}) {
  if (!loading && items.length === 0) return <p class="muted empty">No sessions match.</p>;
  return (
    <div class="table-wrap">
      <table class="sessions" aria-busy={loading}>
        <thead>
          <tr>
            <th>Session</th>
            <th>User</th>
            <th>Client</th>
            <th>Device</th>
            <th>IP</th>
            <th>Started (UTC)</th>
            <th>Last refresh</th>
            <th>Expires</th>
            <th class="num">Rotations</th>
            <th>Status</th>
            {onRevoke ? <th /> : null}
          </tr>
        </thead>
        <tbody>
          {items.map((s) => (
            <tr key={s.id} data-session={s.id}>
              <td>
                <a href={href(`sessions/${encodeURIComponent(s.id)}`)}>
                  <code title={s.id}>{s.id.slice(0, 10)}</code>
                </a>
              </td>
              <td>
                <a href={href(`users/${encodeURIComponent(s.username ?? s.userId)}`)}>
                  {s.username ?? s.userId}
                </a>
              </td>
              <td>{s.clientId}</td>
              <td class="wrap">{s.device ?? '–'}</td>
              <td>{s.ip ?? '–'}</td>
              <td>{shortTime(s.startedAt)}</td>
              <td>{shortTime(s.lastRefreshAt)}</td>
              <td>{shortTime(s.expiresAt)}</td>
              <td class="num">{s.rotations}</td>
              <td class="status">
                <StatusBadge status={s.status} reason={s.endReason} stacked />
              </td>
              {onRevoke ? (
                <td>
                  {s.status === 'active' ? (
                    <button type="button" class="danger small" onClick={() => onRevoke(s)}>
                      Revoke
                    </button>
                  ) : null}
                </td>
              ) : null}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
