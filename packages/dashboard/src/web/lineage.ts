/**
 * A session's lineage as timeline steps, from its events (oldest first): each rotation with its
 * generation, grace reuses, detected reuse, failures and the end, with the IP, device and serving
 * instance of each step, and whether the IP or the device changed from the step before.
 */
import type { LifecycleEvent } from '@tessera/protocol';
import type { SessionView } from './api.js';
import { endReason } from './format.js';

export type StepKind = 'issued' | 'rotated' | 'grace' | 'reuse' | 'failed' | 'ended' | 'admin' | 'other';

export interface Step {
  id: number;
  at: number;
  kind: StepKind;
  title: string;
  detail: string | null;
  generation: number | null;
  ip: string | null;
  device: string | null;
  instance: string | null;
  ipChanged: boolean;
  deviceChanged: boolean;
}

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' ? v : null);

/**
 * The device of a step: the one the server parsed from the user agent (`device` beside the event's
 * fields, or in its data), else the start of the raw user agent (a server that parses none).
 */
function deviceOf(e: LifecycleEvent & { device?: unknown }): string | null {
  const d = e.data ?? {};
  return str(e.device) ?? str(d.device) ?? (str(d.userAgent)?.slice(0, 60) || null);
}

export function lineageSteps(session: SessionView, events: readonly LifecycleEvent[]): Step[] {
  const steps: Step[] = [];
  let lastIp: string | null = session.ip;
  let lastDevice: string | null = null;
  for (const e of events) {
    const d = e.data ?? {};
    const step = describe(e, d);
    if (!step) continue;
    // The sign-in's own IP and device are the session's (its event does not repeat them).
    const ip = str(d.ip) ?? (step.kind === 'issued' ? session.ip : null);
    const own = deviceOf(e);
    const device = own ?? (step.kind === 'issued' ? session.device : null);
    steps.push({
      id: e.id,
      at: e.at,
      ...step,
      ip,
      device,
      instance: str(d.instance),
      ipChanged: ip !== null && lastIp !== null && ip !== lastIp,
      // Compared only between events' own devices: the session's is parsed, an older event's may be raw.
      deviceChanged: own !== null && lastDevice !== null && own !== lastDevice,
    });
    if (ip !== null) lastIp = ip;
    if (own !== null) lastDevice = own;
  }
  return steps;
}

function describe(
  e: LifecycleEvent,
  d: Record<string, unknown>,
): Pick<Step, 'kind' | 'title' | 'detail' | 'generation'> | null {
  const gen = num(d.generation);
  switch (e.type) {
    case 'token.issued':
      return {
        kind: 'issued',
        title: 'Signed in',
        detail: `refresh token #${gen ?? 0} issued${e.reason ? ` (${e.reason})` : ''}`,
        generation: gen ?? 0,
      };
    case 'token.refreshed':
      return {
        kind: 'rotated',
        title: 'Refreshed',
        detail: gen === null ? 'rotated' : `refresh token #${gen - 1} replaced by #${gen}`,
        generation: gen,
      };
    case 'token.grace_reuse':
      return {
        kind: 'grace',
        title: 'Grace reuse',
        detail: `refresh token #${gen ?? '?'} presented again within the grace window: a harmless race, answered with the same tokens`,
        generation: gen,
      };
    case 'token.reuse.detected': {
      const presented = num(d.presentedGeneration);
      const current = num(d.currentGeneration);
      return {
        kind: 'reuse',
        title: 'Reuse detected',
        detail: `refresh token #${presented ?? '?'} used again after it had been replaced${current === null ? '' : ` (the current one was #${current})`}`,
        generation: presented,
      };
    }
    case 'token.refresh_failed':
      return {
        kind: 'failed',
        title: 'Refresh refused',
        detail: e.reason ?? null,
        generation: gen,
      };
    case 'session.ended': {
      const by = str(d.by);
      const note = str(d.note);
      return {
        kind: 'ended',
        title: 'Session ended',
        detail: [endReason(e.reason), by ? `by ${by}` : null, note ? `“${note}”` : null]
          .filter(Boolean)
          .join(' · '),
        generation: gen,
      };
    }
    case 'admin.session_revoked':
      return {
        kind: 'admin',
        title: 'Revoked by an administrator',
        detail: [str(d.admin), str(d.reason) ? `“${str(d.reason)}”` : null].filter(Boolean).join(' · '),
        generation: null,
      };
    case 'token.revoked':
      return { kind: 'ended', title: 'Token revoked', detail: e.reason ?? null, generation: gen };
    case 'dpop.key_mismatch':
      return { kind: 'failed', title: 'DPoP key mismatch', detail: e.reason ?? null, generation: gen };
    default:
      return { kind: 'other', title: e.type, detail: e.reason ?? null, generation: gen };
  }
}
