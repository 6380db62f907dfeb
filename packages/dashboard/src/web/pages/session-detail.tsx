import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { ConfirmDialog, type ConfirmRequest, ErrorBox, StatusBadge, useLoad } from '../components.js';
import { time } from '../format.js';
import { lineageSteps } from '../lineage.js';
import { href } from '../router.js';
import { revokeOne } from './revoke.js';

/** One session: the explain-logout sentence, its lineage as a timeline, its refresh tokens. */
export function SessionDetailPage({ id }: { id: string }) {
  const detail = useLoad(() => api.session(id), [id]);
  const [confirm, setConfirm] = useState<ConfirmRequest | null>(null);
  if (!detail.data) {
    return (
      <section>
        <h1>Session</h1>
        <ErrorBox error={detail.error} />
      </section>
    );
  }
  const { session: s, lineage, events, explanation } = detail.data;
  const steps = lineageSteps(s, events);
  return (
    <section>
      <p>
        <a href={href('sessions')}>← Sessions</a>
      </p>
      <h1>
        Session <code>{s.id}</code> <StatusBadge status={s.status} reason={s.endReason} />
      </h1>
      <ErrorBox error={detail.error} />
      <p class="explanation" id="explanation">
        {explanation}
      </p>
      <dl class="facts">
        <dt>User</dt>
        <dd>
          <a href={href(`users/${encodeURIComponent(s.username ?? s.userId)}`)}>{s.username ?? s.userId}</a>
        </dd>
        <dt>Client</dt>
        <dd>{s.clientId}</dd>
        <dt>Device</dt>
        <dd>{s.device ?? '–'}</dd>
        <dt>IP</dt>
        <dd>{s.ip ?? '–'}</dd>
        <dt>Started</dt>
        <dd>{time(s.startedAt)}</dd>
        <dt>Last refresh</dt>
        <dd>{time(s.lastRefreshAt)}</dd>
        <dt>Expires</dt>
        <dd>{time(s.expiresAt)}</dd>
        <dt>Rotations</dt>
        <dd>{s.rotations}</dd>
        {s.endedAt ? (
          <>
            <dt>Ended</dt>
            <dd>
              {time(s.endedAt)}
              {s.endedBy ? ` by ${s.endedBy}` : ''}
              {s.endNote ? ` — “${s.endNote}”` : ''}
            </dd>
          </>
        ) : null}
      </dl>
      {s.status === 'active' ? (
        <button
          type="button"
          class="danger"
          id="revoke-session"
          onClick={() => setConfirm(revokeOne(s, () => detail.reload()))}
        >
          Revoke session
        </button>
      ) : null}

      <h2>Lineage</h2>
      <ol class="timeline" id="lineage">
        {steps.map((step) => (
          <li key={step.id} class={`step step-${step.kind}`} data-kind={step.kind}>
            <div class="step-head">
              <span class="step-title">{step.title}</span>
              {step.generation !== null ? <span class="gen">#{step.generation}</span> : null}
              <time class="muted">{time(step.at)}</time>
            </div>
            {step.detail ? <div class="step-detail">{step.detail}</div> : null}
            <div class="step-where">
              {step.ip ? (
                <span
                  class={step.ipChanged ? 'changed' : ''}
                  title={step.ipChanged ? 'IP changed' : undefined}
                >
                  IP {step.ip}
                  {step.ipChanged ? ' (changed)' : ''}
                </span>
              ) : null}
              {step.device ? (
                <span class={step.deviceChanged ? 'changed' : ''}>
                  {step.device}
                  {step.deviceChanged ? ' (changed)' : ''}
                </span>
              ) : null}
              {step.instance ? <span>instance {step.instance}</span> : null}
            </div>
          </li>
        ))}
      </ol>

      <h2>Refresh tokens</h2>
      <div class="chips" id="generations">
        {lineage.map((t) => (
          <span key={t.generation} class={`chip chip-${t.status}`} title={`issued ${time(t.issuedAt)}`}>
            #{t.generation} {t.status}
          </span>
        ))}
      </div>
      <p class="muted">
        Each refresh replaces the refresh token with the next generation; token values are never shown.{' '}
        <a href={href('events', { session: s.id })}>All events of this session</a>
      </p>
      <ConfirmDialog request={confirm} close={() => setConfirm(null)} />
    </section>
  );
}
