import { TesseraError } from '@tessera/protocol';
import type { FastifyRequest } from 'fastify';
import type { TesseraContext } from '../domain/context.js';
import { bodyOfType } from '../http/parse-body.js';

const MAX_REASON = 500;

/** A user by username, else by id; undefined when neither names one. */
export async function findUser(ctx: TesseraContext, nameOrId: string) {
  const { directory } = ctx.stores;
  return (await directory.findUserByUsername(nameOrId)) ?? (await directory.findUserById(nameOrId));
}

/** The query string as single strings (a repeated parameter is refused); empty means absent. */
export function query(request: FastifyRequest): Record<string, string | undefined> {
  const q = request.query as Record<string, unknown>;
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(q)) {
    if (typeof v !== 'string') throw new TesseraError('duplicate_parameter');
    out[k] = v === '' ? undefined : v;
  }
  return out;
}

/** An integer parameter within bounds, or the fallback when absent. */
export function intParam(value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new TesseraError('invalid_request', `A number from ${min} to ${max} was expected`);
  }
  return n;
}

/** A destructive action's reason: required, plain text, bounded. */
export function reasonOf(request: FastifyRequest): string {
  const params = bodyOfType(request, 'application/json');
  const reason = params.reason?.trim();
  if (!reason)
    throw new TesseraError('invalid_request', 'Give a reason: it is kept with the session and the event');
  if (reason.length > MAX_REASON)
    throw new TesseraError('invalid_request', `The reason is at most ${MAX_REASON} characters`);
  return reason;
}
