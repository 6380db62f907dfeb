import pino, { type DestinationStream, type Logger } from 'pino';

/**
 * Paths redacted from every log line: tokens, secrets, cookies and passwords never reach a log
 * (see docs/security.md). Request bodies are never logged at all; these paths catch what code might add.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers.dpop',
  'res.headers["set-cookie"]',
  '*.password',
  '*.client_secret',
  '*.refresh_token',
  '*.access_token',
  '*.token',
  '*.nonce',
  'password',
  'client_secret',
  'refresh_token',
  'access_token',
  'token',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      serializers: {
        // Only what helps an operator; never the query string of a URL (it may carry a token).
        req: (req: { method?: string; url?: string; ip?: string; id?: string }) => ({
          id: req.id,
          method: req.method,
          path: req.url?.split('?')[0],
          ip: req.ip,
        }),
        res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
      },
    },
    destination,
  );
}
