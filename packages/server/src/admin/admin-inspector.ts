import { OPAQUE_ACCESS_TOKEN_PREFIX, REFRESH_TOKEN_PREFIX, TesseraError } from '@tessera/protocol';
import type { FastifyInstance } from 'fastify';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { LIMITS } from '../config/limits.js';
import { hashToken, parseRefreshToken } from '../crypto/refresh-token.js';
import type { TesseraContext } from '../domain/context.js';
import { bodyOfType, required } from '../http/parse-body.js';
import type { FamilyRecord } from '../ports/index.js';
import type { AccessTokenClaims } from '../tokens/token-format.js';
import { type SessionView, toSessionView } from './session-view.js';

export const TOKEN_FORMATS = ['jwt', 'paseto', 'opaque', 'refresh', 'unknown'] as const;
export type InspectedFormat = (typeof TOKEN_FORMATS)[number];

/** What the inspector says about a token: never the token itself. */
export interface Inspection {
  format: InspectedFormat;
  header: Record<string, unknown> | null;
  claims: Record<string, unknown> | null;
  /** The signature (a refresh token: its tag) verifies with a key of ours; null when there is none to check. */
  signatureValid: boolean | null;
  expired: boolean | null;
  expiresAt: number | null;
  issuedAt: number | null;
  revoked: boolean | null;
  /** A resource server would accept it now (or, a refresh token, the token endpoint would rotate it). */
  active: boolean;
  key: { ring: string; kid: string; state: string | null } | null;
  session: SessionView | null;
  /** Plain sentences for the page. */
  notes: string[];
}

const PASETO_PREFIX = 'v4.public.';
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

const blank = (format: InspectedFormat): Inspection => ({
  format,
  header: null,
  claims: null,
  signatureValid: null,
  expired: null,
  expiresAt: null,
  issuedAt: null,
  revoked: null,
  active: false,
  key: null,
  session: null,
  notes: [],
});

/**
 * `POST /tokens/inspect` with `{token}`: its format, decoded claims, whether its signature holds,
 * whether it has expired or was revoked, and its session. The token is read from the body only,
 * held for this call only: never answered back, logged (the logger redacts `token`; bodies are
 * never logged) or stored.
 */
export function inspectorRoutes(app: FastifyInstance, ctx: TesseraContext): void {
  app.post(
    '/tokens/inspect',
    // A JSON body a little larger than the largest token taken: refused before it is parsed.
    { bodyLimit: LIMITS.inspectTokenMaxBytes + 256 },
    async (request) => {
      const token = required(bodyOfType(request, 'application/json'), 'token').trim();
      if (token.length > LIMITS.inspectTokenMaxBytes) throw new TesseraError('payload_too_large');
      return inspectToken(ctx, token);
    },
  );
}

/** Inspects one token (see `inspectorRoutes`). */
export async function inspectToken(ctx: TesseraContext, token: string): Promise<Inspection> {
  const now = ctx.clock.now();
  if (token.startsWith(REFRESH_TOKEN_PREFIX)) return inspectRefreshToken(ctx, token, now);
  if (token.startsWith(OPAQUE_ACCESS_TOKEN_PREFIX)) {
    const out = blank('opaque');
    const claims = (await ctx.formats.get('opaque')?.verify(token)) ?? undefined;
    if (!claims) {
      out.notes.push(
        'No such opaque access token here: it was never issued, or it has expired and was removed.',
      );
      return out;
    }
    out.notes.push('Opaque tokens are not signed: the server found its claims by the token’s hash.');
    return judgeAccessToken(ctx, out, claims, now);
  }
  if (token.startsWith(PASETO_PREFIX)) {
    const out = blank('paseto');
    const decoded = decodePaseto(token);
    if (!decoded) {
      out.notes.push('It starts like a PASETO v4.public token, but it does not decode.');
      return out;
    }
    out.header = decoded.footer;
    out.claims = decoded.payload;
    const kid = typeof decoded.footer?.kid === 'string' ? decoded.footer.kid : undefined;
    out.key = kid === undefined ? null : await keyOf(ctx, 'paseto', kid);
    const verified = await ctx.formats.get('paseto')?.verify(token);
    out.signatureValid = verified !== undefined;
    if (!verified) {
      out.notes.push(noSignatureNote(out.key));
      out.expiresAt = isoMs(decoded.payload.exp);
      out.issuedAt = isoMs(decoded.payload.iat);
      out.expired = out.expiresAt === null ? null : out.expiresAt <= now;
      return out;
    }
    return judgeAccessToken(ctx, out, verified, now);
  }
  if (JWT_SHAPE.test(token)) {
    const out = blank('jwt');
    let header: Record<string, unknown>;
    let payload: Record<string, unknown>;
    try {
      header = decodeProtectedHeader(token) as Record<string, unknown>;
      payload = decodeJwt(token) as Record<string, unknown>;
    } catch {
      out.notes.push('It has the shape of a JWT, but its header or claims are not JSON.');
      return out;
    }
    out.header = pick(header, ['alg', 'typ', 'kid']);
    out.claims = payload;
    const kid = typeof header.kid === 'string' ? header.kid : undefined;
    out.key = kid === undefined ? null : await keyOf(ctx, 'jwt', kid);
    const verified = await ctx.formats.get('jwt')?.verify(token);
    out.signatureValid = verified !== undefined;
    if (!verified) {
      out.notes.push(noSignatureNote(out.key));
      out.expiresAt = typeof payload.exp === 'number' ? payload.exp * 1000 : null;
      out.issuedAt = typeof payload.iat === 'number' ? payload.iat * 1000 : null;
      out.expired = out.expiresAt === null ? null : out.expiresAt <= now;
      return out;
    }
    return judgeAccessToken(ctx, out, verified, now);
  }
  const out = blank('unknown');
  out.notes.push('Not a token format this server issues (JWT, PASETO v4.public, opaque tsa_, refresh tsr_).');
  return out;
}

async function inspectRefreshToken(ctx: TesseraContext, token: string, now: number): Promise<Inspection> {
  const out = blank('refresh');
  const parsed = parseRefreshToken(ctx.keys, token);
  out.signatureValid = parsed !== undefined;
  if (!parsed) {
    out.notes.push(
      'It has the refresh-token prefix, but its tag does not verify: this server never issued it.',
    );
    return out;
  }
  const state = await ctx.stores.sessions.findToken(parsed.familyId, hashToken(ctx.keys, token));
  const family = state?.family ?? (await ctx.stores.sessions.findFamily(parsed.familyId));
  out.session = family ? await sessionOf(ctx, family, now) : null;
  if (!state) {
    out.notes.push(
      family
        ? 'Issued here, but no longer stored: it expired, or was replaced long enough ago to be pruned.'
        : 'Issued here, but its session is gone (past its absolute lifetime).',
    );
    out.expired = true;
    return out;
  }
  const { token: rt, family: current } = state;
  out.claims = {
    sid: current.id,
    sub: current.userId,
    client_id: current.clientId,
    scope: current.scope,
    generation: rt.generation,
    status: rt.status,
  };
  out.issuedAt = rt.issuedAt;
  out.expiresAt = Math.min(rt.expiresAt, current.expiresAt);
  out.expired = now >= out.expiresAt;
  out.revoked = rt.status === 'revoked' || current.status === 'revoked';
  out.active = !out.expired && !out.revoked && rt.status === 'active' && current.status === 'active';
  if (rt.status === 'rotated') {
    out.notes.push(
      `Replaced by generation ${rt.generation + 1}${rt.rotatedAt === null ? '' : ` at ${new Date(rt.rotatedAt).toISOString()}`}: presented again after the grace period, it ends the session (reuse).`,
    );
  }
  return out;
}

/** Expiry, revocation (the `jti`, or the session) and the session of a verified access token. */
async function judgeAccessToken(
  ctx: TesseraContext,
  out: Inspection,
  claims: AccessTokenClaims,
  now: number,
): Promise<Inspection> {
  out.claims ??= { ...claims };
  out.expiresAt = claims.exp * 1000;
  out.issuedAt = claims.iat * 1000;
  out.expired = out.expiresAt <= now;
  const family = claims.sid === undefined ? null : await ctx.stores.sessions.findFamily(claims.sid);
  const jtiRevoked = await ctx.stores.accessTokens.isJtiRevoked(claims.jti, now);
  out.revoked = jtiRevoked || (family !== null && family.status === 'revoked');
  out.session = family ? await sessionOf(ctx, family, now) : null;
  out.active = !out.expired && !out.revoked && (family === null || out.session?.status === 'active');
  if (jtiRevoked) out.notes.push('This access token was revoked by its id (jti).');
  if (family && family.status !== 'active') out.notes.push('Its session has ended.');
  if (claims.sid !== undefined && !family) out.notes.push('Its session is no longer stored.');
  return out;
}

async function sessionOf(ctx: TesseraContext, family: FamilyRecord, now: number): Promise<SessionView> {
  const username = (await ctx.stores.directory.findUserById(family.userId))?.username ?? null;
  return toSessionView(family, username, now);
}

async function keyOf(ctx: TesseraContext, ring: string, kid: string): Promise<Inspection['key']> {
  const record = (await ctx.stores.keys.listKeys(ring)).find((k) => k.kid === kid);
  return { ring, kid, state: record?.state ?? null };
}

function noSignatureNote(key: Inspection['key']): string {
  if (!key) return 'It names no key: the signature cannot be checked.';
  if (key.state === null) return `Its key (${key.kid}) is not one of this server’s, or was dropped long ago.`;
  return 'The signature does not verify with the key it names (altered, or not issued by this server).';
}

/** A v4.public token's claims and footer, decoded without verifying; undefined when malformed. */
function decodePaseto(
  token: string,
): { payload: Record<string, unknown>; footer: Record<string, unknown> | null } | undefined {
  const [, , body, footer] = token.split('.');
  if (!body) return undefined;
  try {
    const raw = Buffer.from(body, 'base64url');
    // Ed25519: the last 64 bytes are the signature.
    if (raw.length <= 64) return undefined;
    const payload = JSON.parse(raw.subarray(0, raw.length - 64).toString('utf8')) as unknown;
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return undefined;
    let parsedFooter: Record<string, unknown> | null = null;
    if (footer) {
      const f = JSON.parse(Buffer.from(footer, 'base64url').toString('utf8')) as unknown;
      if (typeof f === 'object' && f !== null && !Array.isArray(f))
        parsedFooter = f as Record<string, unknown>;
    }
    return { payload: payload as Record<string, unknown>, footer: parsedFooter };
  } catch {
    return undefined;
  }
}

const isoMs = (value: unknown): number | null => {
  if (typeof value !== 'string') return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : ms;
};

function pick(o: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => o[k] !== undefined).map((k) => [k, o[k]]));
}
