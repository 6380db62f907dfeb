import { ADMIN_CSRF_HEADER } from '@tessera/protocol';
import { ERROR_SCHEMA } from '../http/route-schemas.js';
import { SERVER_VERSION } from '../version.js';

type Schema = Record<string, unknown>;

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: Schema, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});
const refused = (statuses: number[]) =>
  Object.fromEntries(
    statuses.map((s) => [
      String(s),
      json(
        ref('TesseraError'),
        {
          400: 'Bad input (invalid_request)',
          401: 'Not signed in (sign_in_required), or wrong username or password (invalid_credentials)',
          403: 'Not an administrator, or a state change without the CSRF token or from another origin (forbidden)',
          404: 'No such session, user or client (not_found)',
          413: 'The body or the token is too large (payload_too_large)',
          415: 'The body is not JSON (unsupported_media_type)',
          429: 'Too many sign-in attempts or open event streams (rate_limited); Retry-After says when',
          503: 'A store is unreachable (temporarily_unavailable)',
        }[s] ?? 'Refused',
      ),
    ]),
  );
const signedIn = [{ adminSession: [] }];
const changesState = [{ adminSession: [], csrf: [] }];
const idParam = (description: string) => ({
  name: 'id',
  in: 'path',
  required: true,
  schema: { type: 'string' },
  description,
});
const q = (name: string, description: string, schema: Schema = { type: 'string' }) => ({
  name,
  in: 'query',
  required: false,
  schema,
  description,
});
const reasonBody = {
  required: true,
  content: {
    'application/json': {
      schema: {
        type: 'object',
        required: ['reason'],
        properties: { reason: { type: 'string', minLength: 1, maxLength: 500 } },
      },
    },
  },
};
const revokedAnswer = json(
  {
    type: 'object',
    required: ['revoked'],
    properties: { revoked: { type: 'array', items: { type: 'string' } } },
  },
  'The ids of the sessions this call ended (empty when they had already ended)',
);

const EVENT_FILTERS = [
  q('type', 'Event type'),
  q('user', 'Username or user id'),
  q('client', 'Client id'),
  q('session', 'Session id'),
];
const TIME_RANGE = [
  q('from', 'Only events at or after (ms since the epoch)', { type: 'integer', minimum: 0 }),
  q('to', 'Only events before (ms since the epoch)', { type: 'integer', minimum: 0 }),
];

const EVENT: Schema = {
  type: 'object',
  required: ['id', 'at', 'type'],
  properties: {
    id: { type: 'integer' },
    at: { type: 'integer', description: 'ms since the epoch' },
    type: { type: 'string' },
    familyId: { type: ['string', 'null'], description: 'The session id' },
    userId: { type: ['string', 'null'] },
    clientId: { type: ['string', 'null'] },
    reason: { type: ['string', 'null'] },
    data: { type: 'object', description: 'Never a token value' },
    device: { type: 'string', description: 'Parsed from data.userAgent, when the event has one' },
  },
};

const SERIES = (description: string): Schema => ({
  type: 'object',
  description,
  additionalProperties: { type: 'array', items: { type: 'integer' } },
});
const OVERVIEW: Schema = {
  type: 'object',
  required: ['generatedAt', 'from', 'to', 'stepMs', 'tiles', 'times', 'series'],
  properties: {
    generatedAt: { type: 'integer' },
    from: { type: 'integer' },
    to: { type: 'integer' },
    stepMs: { type: 'integer' },
    tiles: {
      type: 'object',
      required: [
        'activeSessions',
        'refreshSuccessRate',
        'reuseDetected24h',
        'failedLogins24h',
        'signingKeyAgeSeconds',
        'tokenEndpointP95Ms',
      ],
      properties: {
        activeSessions: { type: 'integer', description: 'Active and not past their absolute expiry' },
        refreshSuccessRate: {
          type: ['number', 'null'],
          description: '(rotated + grace) / all refreshes, 0 to 1; null without refreshes',
        },
        reuseDetected24h: { type: 'integer' },
        failedLogins24h: { type: 'integer' },
        signingKeyAgeSeconds: { type: 'integer', description: 'Age of the current JWT signing key' },
        tokenEndpointP95Ms: {
          type: ['integer', 'null'],
          description: 'Login, refresh and token endpoint, last hour',
        },
      },
    },
    times: { type: 'array', items: { type: 'integer' } },
    series: {
      type: 'object',
      properties: {
        refreshes: SERIES('By result: rotated, grace, failed'),
        failures: SERIES('Failed refreshes by error code'),
        graceReuses: SERIES('Grace-window reuses (harmless races) by client'),
        reuseDetected: SERIES('Detected reuse (possible theft) by client'),
        revocations: SERIES('Sessions ended by revocation, by initiator (user, client, admin, system, cli)'),
        failedLogins: { type: 'array', items: { type: 'integer' } },
        tokenEndpointP95Ms: { type: 'array', items: { type: ['integer', 'null'] } },
      },
    },
  },
};

const KEY: Schema = {
  type: 'object',
  required: ['ring', 'kid', 'alg', 'state', 'createdAt', 'ageSeconds', 'verifiableTokens'],
  properties: {
    ring: { type: 'string', enum: ['jwt', 'paseto'] },
    kid: { type: 'string' },
    alg: { type: 'string' },
    state: { type: 'string', enum: ['next', 'current', 'retired'] },
    createdAt: { type: 'integer' },
    activatedAt: { type: ['integer', 'null'] },
    retiredAt: { type: ['integer', 'null'] },
    ageSeconds: { type: 'integer' },
    verifiableTokens: {
      type: 'integer',
      description:
        'Estimate: access tokens issued in this ring’s format while this key was current and within the longest access-token lifetime (whole minutes, so it errs high; revoked ones included)',
    },
    verifiesUntil: {
      type: ['integer', 'null'],
      description: 'A retired key: when the last token it signed expires (ms)',
    },
  },
};
const INSPECTION: Schema = {
  type: 'object',
  required: ['format', 'signatureValid', 'expired', 'revoked', 'active', 'notes'],
  properties: {
    format: { type: 'string', enum: ['jwt', 'paseto', 'opaque', 'refresh', 'unknown'] },
    header: { type: ['object', 'null'], description: 'JWT: alg, typ, kid; PASETO: the footer' },
    claims: {
      type: ['object', 'null'],
      description: 'Decoded claims (a refresh token: its session, generation and status)',
    },
    signatureValid: { type: ['boolean', 'null'], description: 'null: nothing to check (opaque tokens)' },
    expired: { type: ['boolean', 'null'] },
    expiresAt: { type: ['integer', 'null'] },
    issuedAt: { type: ['integer', 'null'] },
    revoked: { type: ['boolean', 'null'] },
    active: { type: 'boolean', description: 'Accepted now' },
    key: {
      type: ['object', 'null'],
      properties: {
        ring: { type: 'string' },
        kid: { type: 'string' },
        state: { type: ['string', 'null'] },
      },
    },
    session: { oneOf: [ref('Session'), { type: 'null' }] },
    notes: { type: 'array', items: { type: 'string' } },
  },
};

const SESSION_VIEW: Schema = {
  type: 'object',
  properties: {
    id: { type: 'string', description: 'The session id: the access token’s sid claim' },
    userId: { type: 'string' },
    username: { type: ['string', 'null'] },
    clientId: { type: 'string' },
    status: { type: 'string', enum: ['active', 'revoked', 'expired'] },
    device: { type: ['string', 'null'], description: 'Parsed from the user agent' },
    ip: { type: ['string', 'null'] },
    startedAt: { type: 'integer' },
    lastRefreshAt: { type: ['integer', 'null'] },
    expiresAt: { type: 'integer' },
    rotations: { type: 'integer' },
    endedAt: { type: ['integer', 'null'] },
    endReason: { type: ['string', 'null'], description: 'SESSION_END_REASONS of @tessera/protocol' },
    endedBy: { type: ['string', 'null'] },
    endNote: { type: ['string', 'null'] },
  },
};
const ADMIN_SESSION: Schema = {
  type: 'object',
  required: ['username', 'csrfToken', 'csrfHeader', 'expiresAt'],
  properties: {
    username: { type: 'string' },
    csrfToken: {
      type: 'string',
      description: `Send it back in ${ADMIN_CSRF_HEADER} on every state-changing call`,
    },
    csrfHeader: { type: 'string', const: ADMIN_CSRF_HEADER },
    expiresAt: { type: 'integer', description: 'When the admin session ends if unused (ms since the epoch)' },
  },
};

/** The OpenAPI 3.1 document of the admin API, with its paths under `prefix`. */
export function ADMIN_API_DOCUMENT(prefix: string): Schema {
  const p = (path: string) => `${prefix}${path}`;
  return {
    openapi: '3.1.0',
    info: {
      title: 'Tessera admin API',
      version: SERVER_VERSION,
      description:
        'What the Token Health Dashboard uses: admin sign-in, sessions, lineage and explain-logout, events, users and keys. Every refusal has the one error shape (TesseraError).',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    components: {
      schemas: {
        TesseraError: { ...ERROR_SCHEMA, $id: undefined },
        Session: SESSION_VIEW,
        Event: EVENT,
        Overview: OVERVIEW,
        Key: KEY,
        Inspection: INSPECTION,
        AdminSession: ADMIN_SESSION,
      },
      securitySchemes: {
        adminSession: {
          type: 'apiKey',
          in: 'cookie',
          name: 'tessera_admin',
          description: '__Host-tessera_admin over https',
        },
        csrf: { type: 'apiKey', in: 'header', name: ADMIN_CSRF_HEADER },
      },
    },
    paths: {
      [p('/session')]: {
        post: {
          summary: 'Sign in as an administrator',
          security: [],
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['username', 'password'],
                  properties: { username: { type: 'string' }, password: { type: 'string' } },
                },
              },
            },
          },
          responses: {
            200: json(ref('AdminSession'), 'Signed in; the cookie is set'),
            ...refused([400, 401, 403, 415, 429, 503]),
          },
        },
        get: {
          summary: 'The current admin session and its CSRF token',
          security: signedIn,
          responses: { 200: json(ref('AdminSession'), 'Signed in'), ...refused([401, 403]) },
        },
        delete: {
          summary: 'Sign out',
          security: changesState,
          responses: { 204: { description: 'Signed out' }, ...refused([401, 403]) },
        },
      },
      [p('/sessions')]: {
        get: {
          summary: 'Sessions, newest first (keyset paging)',
          security: signedIn,
          parameters: [
            q('user', 'Username or user id'),
            q('client', 'Client id'),
            q('status', 'active, revoked or expired', {
              type: 'string',
              enum: ['active', 'revoked', 'expired'],
            }),
            q('since', 'Only sessions started at or after (ms since the epoch)', { type: 'integer' }),
            q('cursor', 'The `next` of the previous page'),
            q('limit', '1 to 200 (default 50)', { type: 'integer', minimum: 1, maximum: 200 }),
          ],
          responses: {
            200: json(
              {
                type: 'object',
                properties: {
                  items: { type: 'array', items: ref('Session') },
                  next: { type: ['string', 'null'] },
                },
              },
              'One page',
            ),
            ...refused([400, 401, 403]),
          },
        },
      },
      [p('/sessions/{id}')]: {
        get: {
          summary: 'A session with its lineage, its events and the explain-logout sentence',
          security: signedIn,
          parameters: [idParam('The session id (sid)')],
          responses: {
            200: json(
              {
                type: 'object',
                properties: {
                  session: ref('Session'),
                  lineage: { type: 'array', items: { type: 'object' } },
                  events: { type: 'array', items: ref('Event') },
                  explanation: { type: 'string' },
                },
              },
              'The session',
            ),
            ...refused([401, 403, 404]),
          },
        },
      },
      [p('/sessions/{id}/revoke')]: {
        post: {
          summary: 'End one session, with a reason (recorded as admin.session_revoked)',
          security: changesState,
          parameters: [idParam('The session id (sid)')],
          requestBody: reasonBody,
          responses: { 200: revokedAnswer, ...refused([400, 401, 403, 404, 415]) },
        },
      },
      [p('/users/{id}/revoke-sessions')]: {
        post: {
          summary: 'End every active session of a user, with a reason',
          security: changesState,
          parameters: [idParam('Username or user id')],
          requestBody: reasonBody,
          responses: { 200: revokedAnswer, ...refused([400, 401, 403, 404, 415]) },
        },
      },
      [p('/clients/{id}/revoke-sessions')]: {
        post: {
          summary: 'End every active session of a client, with a reason',
          security: changesState,
          parameters: [idParam('Client id')],
          requestBody: reasonBody,
          responses: { 200: revokedAnswer, ...refused([400, 401, 403, 404, 415]) },
        },
      },
      [p('/events')]: {
        get: {
          summary: 'Lifecycle events in id order, oldest or newest first',
          security: signedIn,
          parameters: [
            ...EVENT_FILTERS,
            ...TIME_RANGE,
            q('order', '`asc` (default): oldest first; `desc`: newest first', {
              type: 'string',
              enum: ['asc', 'desc'],
            }),
            q('after', 'Only events after this id (oldest first: the `next` of the previous page)', {
              type: 'integer',
            }),
            q('before', 'Only events before this id (newest first: the `next` of the previous page)', {
              type: 'integer',
            }),
            q('limit', '1 to 1000 (default 100)', { type: 'integer', minimum: 1, maximum: 1000 }),
          ],
          responses: {
            200: json(
              {
                type: 'object',
                required: ['items', 'next'],
                properties: {
                  items: { type: 'array', items: ref('Event') },
                  next: {
                    type: ['integer', 'null'],
                    description:
                      'Pass as `after` (oldest first) or `before` (newest first) for the next page',
                  },
                },
              },
              'One page',
            ),
            ...refused([400, 401, 403]),
          },
        },
      },
      [p('/events/stream')]: {
        get: {
          summary: 'The live tail of lifecycle events (Server-Sent Events)',
          description:
            'Frames `id: <event id>`, `event: lifecycle`, `data: <Event JSON>`; a `: heartbeat` comment every 15 s. Resume with the `Last-Event-ID` header (EventSource sends it) or `after`: the events since are read from the store first. A reader too slow for its buffer gets `event: overflow` with `{lastId}` and the stream ends; reconnecting resumes. Without a resume id only new events are sent.',
          security: signedIn,
          parameters: [
            ...EVENT_FILTERS,
            q('after', 'Resume after this event id (as Last-Event-ID)', { type: 'integer', minimum: 0 }),
            {
              name: 'Last-Event-ID',
              in: 'header',
              required: false,
              schema: { type: 'string', pattern: '^[0-9]{1,15}$' },
              description: 'Resume after this event id',
            },
          ],
          responses: {
            200: {
              description:
                'With `Accept: text/event-stream` (EventSource sends it), the stream; otherwise a snapshot: the newest event id and at most 100 events after the resume id',
              content: {
                'text/event-stream': { schema: { type: 'string' } },
                'application/json': {
                  schema: {
                    type: 'object',
                    required: ['lastEventId', 'items'],
                    properties: {
                      lastEventId: { type: 'integer' },
                      items: { type: 'array', items: ref('Event') },
                    },
                  },
                },
              },
            },
            ...refused([400, 401, 403, 429, 503]),
          },
        },
      },
      [p('/events/export')]: {
        get: {
          summary: 'A filtered range of events as NDJSON or CSV, streamed (a download)',
          description:
            'In event-id order, read from the store in batches. CSV columns: id, at (ms), time (ISO 8601), type, session, user, client, reason, data (JSON); RFC 4180 quoting, and a cell that starts like a formula gets a leading apostrophe.',
          security: signedIn,
          parameters: [
            q('format', 'ndjson (default) or csv', { type: 'string', enum: ['ndjson', 'csv'] }),
            ...EVENT_FILTERS,
            ...TIME_RANGE,
          ],
          responses: {
            200: {
              description: 'The events; Content-Disposition names a file',
              headers: { 'Content-Disposition': { schema: { type: 'string' } } },
              content: {
                'application/x-ndjson': { schema: { type: 'string' } },
                'text/csv': { schema: { type: 'string' } },
              },
            },
            ...refused([400, 401, 403]),
          },
        },
      },
      [p('/overview')]: {
        get: {
          summary: 'Tiles and charts, from the per-minute counters (never a scan of the events)',
          description:
            'Tiles cover the last 24 hours (the token-endpoint p95: the last hour) whatever range the charts show. Each series is aligned with `times` (the start of each step). The latency is the bound of the histogram bucket that holds the 95th percentile.',
          security: signedIn,
          parameters: [
            q('from', 'Start of the charts (ms; default 24 h before `to`)', { type: 'integer', minimum: 0 }),
            q('to', 'End of the charts (ms; default now)', { type: 'integer', minimum: 0 }),
            q('step', 'Minutes per point: 1, 5, 15 or 60 (default: at most 288 points)', {
              type: 'integer',
              enum: [1, 5, 15, 60],
            }),
          ],
          responses: { 200: json(ref('Overview'), 'The overview'), ...refused([400, 401, 403, 503]) },
        },
      },
      [p('/users')]: {
        get: {
          summary: 'Search users by name',
          security: signedIn,
          parameters: [q('q', 'Part of a username, or an id')],
          responses: { 200: json({ type: 'object' }, 'At most 100 users'), ...refused([401, 403]) },
        },
      },
      [p('/keys')]: {
        get: {
          summary:
            'Signing keys of both rings (next, current, retired) with their age and the tokens each still verifies',
          security: signedIn,
          responses: {
            200: json(
              {
                type: 'object',
                required: ['items'],
                properties: { items: { type: 'array', items: ref('Key') } },
              },
              'The key rings',
            ),
            ...refused([401, 403]),
          },
        },
      },
      [p('/keys/rotate')]: {
        post: {
          summary:
            'Rotate a ring: next becomes current, current retires, a new next is published (recorded as key.rotated)',
          security: changesState,
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['reason'],
                  properties: {
                    reason: { type: 'string', minLength: 1, maxLength: 500 },
                    ring: { type: 'string', enum: ['jwt', 'paseto'], default: 'jwt' },
                    force: {
                      type: 'string',
                      enum: ['true', 'false'],
                      description: 'Rotate even though the next key may not be in every JWKS cache yet',
                    },
                  },
                },
              },
            },
          },
          responses: {
            200: json(
              {
                type: 'object',
                required: ['ring', 'rotated', 'previous', 'current', 'next'],
                properties: {
                  ring: { type: 'string' },
                  rotated: { type: 'boolean', description: 'False when another instance rotated first' },
                  previous: { type: 'string' },
                  current: { type: 'string' },
                  next: { type: ['string', 'null'] },
                },
              },
              'Rotated',
            ),
            ...refused([400, 401, 403, 415, 429]),
          },
        },
      },
      [p('/tokens/inspect')]: {
        post: {
          summary: 'Inspect a pasted token: format, decoded claims, signature, expiry, revocation, session',
          description:
            'The token is sent in the body only; it is never answered back, logged or stored. Claims of a token whose signature fails are shown decoded, with signatureValid false.',
          security: changesState,
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['token'],
                  properties: { token: { type: 'string', maxLength: 16384 } },
                },
              },
            },
          },
          responses: {
            200: json(ref('Inspection'), 'What the server knows of it'),
            ...refused([400, 401, 403, 413, 415, 503]),
          },
        },
      },
    },
  };
}
