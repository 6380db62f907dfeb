import { useState } from 'preact/hooks';
import { api, type Inspection } from '../api.js';
import { ErrorBox, StatusBadge } from '../components.js';
import { time } from '../format.js';
import { href } from '../router.js';

const yesNo = (v: boolean | null) => (v === null ? '–' : v ? 'yes' : 'no');

/**
 * Paste a token, see what it is. The value goes to the server in a POST body only, is cleared from
 * the page once sent, and is never shown back: the answer holds the decoded claims, not the token.
 */
export function Inspector() {
  const [token, setToken] = useState('');
  const [result, setResult] = useState<Inspection | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const value = token.trim();
    if (!value) return;
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      setResult(await api.inspect(value));
    } catch (err) {
      setError(err);
    } finally {
      setToken('');
      setBusy(false);
    }
  };
  return (
    <section>
      <h1>Token inspector</h1>
      <form class="inspector" onSubmit={submit}>
        <label>
          A token (JWT, PASETO, opaque access token or refresh token)
          <textarea
            name="token"
            rows={5}
            spellcheck={false}
            autocomplete="off"
            autocapitalize="off"
            value={token}
            onInput={(e) => setToken((e.target as HTMLTextAreaElement).value)}
          />
        </label>
        <p class="muted">
          Sent to the server in a POST body, never logged or stored; the field is emptied once sent and the
          answer shows only what the token says.
        </p>
        <button type="submit" disabled={busy || token.trim() === ''}>
          Inspect
        </button>
      </form>
      <ErrorBox error={error} />
      {result ? <InspectionView r={result} /> : null}
    </section>
  );
}

function InspectionView({ r }: { r: Inspection }) {
  return (
    <div class="card" id="inspection">
      <dl class="facts">
        <dt>Format</dt>
        <dd>{r.format}</dd>
        <dt>Active</dt>
        <dd>{yesNo(r.active)}</dd>
        <dt>Signature valid</dt>
        <dd>{yesNo(r.signatureValid)}</dd>
        <dt>Expired</dt>
        <dd>{yesNo(r.expired)}</dd>
        <dt>Issued</dt>
        <dd>{time(r.issuedAt)}</dd>
        <dt>Expires</dt>
        <dd>{time(r.expiresAt)}</dd>
        <dt>Revoked</dt>
        <dd>{yesNo(r.revoked)}</dd>
        {r.key ? (
          <>
            <dt>Key</dt>
            <dd>
              <code>{r.key.kid}</code> ({r.key.ring}, {r.key.state})
            </dd>
          </>
        ) : null}
        {r.session ? (
          <>
            <dt>Session</dt>
            <dd>
              <a href={href(`sessions/${encodeURIComponent(r.session.id)}`)}>
                <code>{r.session.id}</code>
              </a>{' '}
              <StatusBadge status={r.session.status} reason={r.session.endReason} />
            </dd>
          </>
        ) : null}
      </dl>
      {r.notes.length > 0 ? (
        <ul class="notes">
          {r.notes.map((n) => (
            <li key={n}>{n}</li>
          ))}
        </ul>
      ) : null}
      {r.header ? (
        <>
          <h3>Header</h3>
          <pre>{JSON.stringify(r.header, null, 2)}</pre>
        </>
      ) : null}
      {r.claims ? (
        <>
          <h3>Claims</h3>
          <pre id="claims">{JSON.stringify(r.claims, null, 2)}</pre>
        </>
      ) : null}
    </div>
  );
}
