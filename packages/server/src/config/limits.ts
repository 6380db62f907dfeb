/**
 * The server's internal limits: fixed numbers that are not settings (changing them would change
 * the protocol, a security margin or a measured trade-off), declared once with the reason for
 * each. Code imports `LIMITS.x` instead of writing the number; the README lists them
 * (`npm run docs:config`). Settings an operator may change live in `schema.ts`.
 */
export const LIMIT_TABLE = {
  // --- Tokens and keys
  maxAccessTokenBytes: {
    value: 8 * 1024,
    doc: 'Access tokens longer than this are refused before any parsing; ours are under 1 KiB.',
  },
  revocationNoticeLeewayMs: {
    value: 60_000,
    doc: 'A revocation notice or revoked `jti` outlives the last access token it concerns by this, for clock skew.',
  },
  retiredKeyMarginMs: {
    value: 5 * 60_000,
    doc: 'A retired signing key stays published this long past the longest access-token lifetime (skew, caches).',
  },
  jwksMaxAgeSeconds: {
    value: 60,
    doc: '`max-age` of the JWKS; a next key is published at least this long (plus the key-ring refresh) before it signs.',
  },
  metadataMaxAgeSeconds: {
    value: 300,
    doc: '`max-age` of the RFC 8414 metadata, which changes only with the configuration.',
  },
  rsaModulusBits: {
    value: 2048,
    doc: 'Size of new RS256 keys: the common floor that every JOSE library accepts.',
  },
  // --- Refresh
  rotationAttempts: {
    value: 3,
    doc: 'A rotation that lost a race to another instance reads the state again this often before `rotation_in_progress`.',
  },
  nonceMinLength: {
    value: 16,
    doc: 'Shortest refresh `nonce`: 16 characters of randomness cannot be guessed into a collision.',
  },
  nonceMaxLength: {
    value: 256,
    doc: 'Longest refresh `nonce`, so a nonce cannot be used to fill the replay store.',
  },
  // --- DPoP
  dpopProofMaxBytes: {
    value: 8 * 1024,
    doc: 'A `DPoP` header longer than this is refused before any parsing; an RSA-4096 proof is about 1.5 KiB.',
  },
  dpopJtiMaxLength: {
    value: 256,
    doc: 'Longest DPoP proof `jti` accepted, so a proof cannot be used to fill the replay store.',
  },
  dpopRsaMinModulusBits: {
    value: 2048,
    doc: 'Smallest RSA key a DPoP proof may be signed with.',
  },
  // --- Input
  maxUsernameLength: {
    value: 256,
    doc: 'Longer usernames are refused at login before any lookup.',
  },
  minPasswordLength: {
    value: 8,
    doc: 'Shortest password `tessera users add` accepts (NIST SP 800-63B minimum).',
  },
  maxPasswordLength: {
    value: 1024,
    doc: 'Longest password hashed; scrypt of megabytes would be a cheap way to burn CPU.',
  },
  maxUserAgentLength: {
    value: 512,
    doc: 'A session keeps at most this much of the `User-Agent` it started with (shown on the dashboard).',
  },
  minClientSecretLength: {
    value: 16,
    doc: 'Shortest client secret given by hand; generated ones are 32 random bytes.',
  },
  // --- Rate limits and memory bounds
  rateLimitWindowMs: {
    value: 60_000,
    doc: 'The per-IP rate limits (`rateLimitLogin`, `rateLimitRefresh`) and `rateLimitClientAuth` count per minute.',
  },
  rateLimitEntries: {
    value: 100_000,
    doc: 'Rate-limit and lockout counters (IPs, client ids, usernames) kept in memory; past it, ended windows and then the oldest go.',
  },
  recentRefreshEntries: {
    value: 50_000,
    doc: 'Tokens remembered as being rotated (exempt from the refresh rate limit); the oldest go first.',
  },
  directoryCacheEntries: {
    value: 10_000,
    doc: 'Client and user records cached in memory at most; past it the cache starts over.',
  },
  // --- Listings and the revocation feed
  listDefault: {
    value: 100,
    doc: 'Sessions or events returned by a listing that names no limit.',
  },
  listMax: {
    value: 10_000,
    doc: 'Most sessions or events one listing returns, whatever it asks for.',
  },
  revocationPollBatch: {
    value: 1000,
    doc: 'Notices the revocation feed reads per poll; more wait for the next poll a second later.',
  },
  revocationBacklogMax: {
    value: 10_000,
    doc: 'Notices sent to a subscriber when it connects (snapshot or resumed stream).',
  },
  feedRetryMs: {
    value: 2000,
    doc: 'SSE `retry:` hint of the revocation feed; the middleware uses its own backoff anyway.',
  },
  connectionsCheckIntervalMs: {
    value: 1000,
    doc: 'How often Node checks open connections against `headersTimeout` and `requestTimeout` (its default, 30 s, would let a timed-out slow client stay that much longer).',
  },
  shutdownTimeoutMs: {
    value: 10_000,
    doc: 'At shutdown, requests in flight get this long to finish; then the remaining connections are closed.',
  },
  // --- The dashboard
  eventTailPollMs: {
    value: 1000,
    doc: 'The live event tail reads the store this often while someone watches (an event another instance wrote shows within 2 s without Redis); a local event, or a Redis signal, wakes it at once.',
  },
  eventSignalMinIntervalMs: {
    value: 250,
    doc: 'Recorded events wake the live tails (a Redis PUBLISH with several instances) at most this often, not once per refresh.',
  },
  eventTailBatch: {
    value: 1000,
    doc: 'Events the live tail reads per query; a poll reads at most ten such pages.',
  },
  eventTailGapWaitMs: {
    value: 5000,
    doc: 'A missing event id (a transaction still committing on PostgreSQL) is waited for this long before the tail moves past it.',
  },
  eventStreamBufferMax: {
    value: 1000,
    doc: 'Events queued for one slow event-stream reader; past it the stream ends with an `overflow` event and the browser resumes from its Last-Event-ID.',
  },
  eventStreamCatchUpMax: {
    value: 10_000,
    doc: 'Events a resumed event stream replays from the store before it goes live.',
  },
  eventStreamsMax: {
    value: 50,
    doc: 'Open event streams per instance; more are refused 429, as each holds a connection and a buffer.',
  },
  eventStreamsPerAdminMax: {
    value: 5,
    doc: 'Open event streams per admin session (a few tabs).',
  },
  eventStreamHeartbeatMs: {
    value: 15_000,
    doc: 'Comment line sent on an idle event stream, under the idle timeouts of common proxies.',
  },
  eventExportBatch: {
    value: 1000,
    doc: 'Events read from the store per query while an export streams (keyset on the event id).',
  },
  eventExportMax: {
    value: 5_000_000,
    doc: 'Most events one export writes; narrow the range for more.',
  },
  eventPruneBatch: {
    value: 10_000,
    doc: 'Events deleted per transaction by retention, so the write lock is held a few ms at a time.',
  },
  eventPruneBatchesMax: {
    value: 1000,
    doc: 'Batches one cleanup run deletes at most; the next run continues.',
  },
  counterFlushMs: {
    value: 15_000,
    doc: 'The dashboard counters of this instance are added to the store this often (one upsert).',
  },
  counterPendingMax: {
    value: 50_000,
    doc: 'Counter rows kept in memory while the store cannot take them; past it new rows are not counted.',
  },
  inspectTokenMaxBytes: {
    value: 16 * 1024,
    doc: 'Largest token the inspector accepts; access tokens are refused past 8 KiB anyway.',
  },
  // --- SQLite
  sqliteBusyTimeoutMs: {
    value: 5000,
    doc: 'How long a write waits for another process (the CLI, a second instance) to release the database; then 503, retryable.',
  },
  sqliteBusyPollMs: {
    value: 5,
    doc: "The serving connection's own busy timeout, during which SQLite blocks the thread; longer waits for a lock are asynchronous.",
  },
  sqliteWalSizeLimitBytes: {
    value: 64 * 1024 * 1024,
    doc: 'Size a WAL file is truncated to after a checkpoint restarts it.',
  },
  checkpointIntervalMs: {
    value: 1000,
    doc: 'How often the checkpointer thread copies the WAL into the database, off the request path.',
  },
  walRestartFrames: {
    value: 16_384,
    doc: 'WAL size (4 KiB frames, 64 MiB) past which the checkpointer briefly holds writes to restart it.',
  },
  walRestartIntervalMs: {
    value: 10_000,
    doc: 'At most one WAL restart (a hold of 5-35 ms) per this interval.',
  },
  checkpointCatchUpFrames: {
    value: 256,
    doc: 'Frames left to copy below which the checkpointer holds writes for its last pass.',
  },
  checkpointMaxHoldMs: {
    value: 200,
    doc: 'A hold of the writes for a WAL restart never lasts longer, whatever the checkpointer does.',
  },
  checkpointerBusyTimeoutMs: {
    value: 1000,
    doc: "The checkpointer connection's busy timeout; a busy checkpoint simply tries again a second later.",
  },
  checkpointerStopTimeoutMs: {
    value: 2000,
    doc: 'How long closing waits for the checkpointer thread to close its connection before ending it.',
  },
} as const satisfies Record<string, { value: number; doc: string }>;

export type LimitKey = keyof typeof LIMIT_TABLE;

/** The limits' values: `LIMITS.maxAccessTokenBytes`. */
export const LIMITS = Object.freeze(
  Object.fromEntries(Object.entries(LIMIT_TABLE).map(([k, v]) => [k, v.value])),
) as { readonly [K in LimitKey]: number };
