/** Pieces every page uses: the error box, the confirmation dialog, loading data, status badges. */
import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from './api.js';
import { endReason } from './format.js';

/** A refusal in the server's words: its description, its code, and whether trying again may help. */
export function ErrorBox({ error }: { error: unknown }) {
  if (error === null || error === undefined) return null;
  if (error instanceof ApiError) {
    return (
      <div class="error-box" role="alert" data-error-code={error.code}>
        <strong>{error.body.error_description || error.body.error}</strong>
        <span class="muted">
          {' '}
          {error.status > 0 ? `${error.status} · ` : ''}
          <code>{error.code}</code>
          {error.body.session_end_reason ? (
            <>
              {' '}
              · session ended: <code>{error.body.session_end_reason}</code>
            </>
          ) : null}
          {error.body.retryable
            ? error.retryAfter
              ? ` · try again in ${error.retryAfter} s`
              : ' · try again'
            : ''}
        </span>
      </div>
    );
  }
  return (
    <div class="error-box" role="alert">
      <strong>{error instanceof Error ? error.message : String(error)}</strong>
    </div>
  );
}

export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/** Loads `load()` when `deps` change; a newer load wins over an older one still under way. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({
    data: undefined,
    error: null,
    loading: true,
  });
  const [tick, setTick] = useState(0);
  const seq = useRef(0);
  useEffect(() => {
    const mine = ++seq.current;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => mine === seq.current && setState({ data, error: null, loading: false }),
      (error: unknown) => mine === seq.current && setState((s) => ({ data: s.data, error, loading: false })),
    );
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

export function StatusBadge({
  status,
  reason,
  stacked = false,
}: {
  status: string;
  reason?: string | null;
  /** The end reason on a line of its own under the badge (narrow table cells). */
  stacked?: boolean;
}) {
  if (stacked) {
    return (
      <>
        <span class={`badge badge-${status}`} data-status={status}>
          {status}
        </span>
        {reason ? <span class="reason">{endReason(reason)}</span> : null}
      </>
    );
  }
  return (
    <span class={`badge badge-${status}`} data-status={status}>
      {status}
      {reason ? ` · ${endReason(reason)}` : ''}
    </span>
  );
}

export interface ConfirmRequest {
  title: string;
  /** What will happen, in words. */
  body: ComponentChildren;
  action: string;
  /** Runs with the reason the admin typed; a refusal is shown in the dialog. */
  run: (reason: string) => Promise<unknown>;
  /** Called after `run` succeeded. */
  done?: (result: unknown) => void;
}

/**
 * Every destructive action goes through here: it says what will happen, asks for a reason (kept
 * with the target and the event), and runs only on an explicit confirmation.
 */
export function ConfirmDialog({ request, close }: { request: ConfirmRequest | null; close: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  const [reason, setReason] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (request && !dialog.open) {
      setReason('');
      setError(null);
      setBusy(false);
      dialog.showModal();
    } else if (!request && dialog.open) dialog.close();
  }, [request]);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!request || busy) return;
    setBusy(true);
    setError(null);
    try {
      const result = await request.run(reason.trim());
      close();
      request.done?.(result);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <dialog ref={ref} class="confirm" onClose={close} aria-labelledby="confirm-title">
      {request ? (
        <form method="dialog" onSubmit={submit}>
          <h2 id="confirm-title">{request.title}</h2>
          <div class="confirm-body">{request.body}</div>
          <label>
            Reason (kept with the session and the event)
            <textarea
              name="reason"
              required
              maxLength={500}
              rows={3}
              value={reason}
              onInput={(e) => setReason((e.target as HTMLTextAreaElement).value)}
            />
          </label>
          <ErrorBox error={error} />
          <div class="actions">
            <button type="button" class="secondary" onClick={close}>
              Cancel
            </button>
            <button type="submit" class="danger" disabled={busy || reason.trim() === ''}>
              {request.action}
            </button>
          </div>
        </form>
      ) : null}
    </dialog>
  );
}

/** A 404 from an endpoint: this server does not have it (an older version). */
export function isMissing(err: unknown): boolean {
  return err instanceof ApiError && err.status === 404 && err.code === 'not_found';
}
