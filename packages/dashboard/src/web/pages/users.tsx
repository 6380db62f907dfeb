import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { ConfirmDialog, type ConfirmRequest, ErrorBox, useLoad } from '../components.js';
import { time } from '../format.js';
import { href, navigate } from '../router.js';
import { EventTable } from './events.js';
import { revokeAllOfUser } from './revoke.js';
import { SessionTable } from './sessions.js';

/** Search users; one user's sessions and recent events; revoke all of theirs. */
export function Users({ query, name }: { query: URLSearchParams; name?: string }) {
  if (name) return <UserPage name={name} />;
  const q = query.get('q') ?? '';
  const found = useLoad(() => api.users(q), [q]);
  return (
    <section>
      <h1>Users</h1>
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          navigate('users', { q: String(new FormData(e.target as HTMLFormElement).get('q') ?? '').trim() });
        }}
      >
        <label>
          Search <input name="q" value={q} placeholder="part of a username, or an id" key={q} />
        </label>
        <button type="submit">Search</button>
      </form>
      <ErrorBox error={found.error} />
      {found.data && found.data.items.length === 0 ? <p class="muted">No users match.</p> : null}
      <div class="table-wrap">
        <table id="users">
          <thead>
            <tr>
              <th>Username</th>
              <th>Roles</th>
              <th>Created</th>
              <th>Status</th>
            </tr>
          </thead>
          <tbody>
            {(found.data?.items ?? []).map((u) => (
              <tr key={u.id}>
                <td>
                  <a href={href(`users/${encodeURIComponent(u.username)}`)}>{u.username}</a>
                </td>
                <td>{u.roles.join(', ')}</td>
                <td>{time(u.createdAt)}</td>
                <td>{u.disabled ? 'disabled' : 'enabled'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function UserPage({ name }: { name: string }) {
  const sessions = useLoad(() => api.sessions({ user: name, limit: 50 }), [name]);
  const events = useLoad(() => api.events({ user: name, limit: 100 }), [name]);
  const [confirm, setConfirm] = useState<ConfirmRequest | null>(null);
  const [done, setDone] = useState<string | null>(null);
  return (
    <section>
      <p>
        <a href={href('users')}>← Users</a>
      </p>
      <h1>{name}</h1>
      <button
        type="button"
        class="danger"
        id="revoke-user"
        onClick={() =>
          setConfirm(
            revokeAllOfUser(name, (r) => {
              const n = (r as { revoked: string[] }).revoked.length;
              setDone(`${n} session${n === 1 ? '' : 's'} ended.`);
              sessions.reload();
              events.reload();
            }),
          )
        }
      >
        Revoke all sessions of {name}
      </button>
      {done ? (
        <p class="notice" role="status">
          {done}
        </p>
      ) : null}
      <h2>Sessions</h2>
      <ErrorBox error={sessions.error} />
      <SessionTable items={sessions.data?.items ?? []} loading={sessions.loading} />
      {sessions.data?.next ? (
        <p>
          <a href={href('sessions', { user: name })}>More sessions</a>
        </p>
      ) : null}
      <h2>Events</h2>
      <ErrorBox error={events.error} />
      <EventTable items={events.data?.items ?? []} />
      <p>
        <a href={href('events', { user: name })}>All events of {name}</a>
      </p>
      <ConfirmDialog request={confirm} close={() => setConfirm(null)} />
    </section>
  );
}
