/**
 * A pino-compatible logger (`logger.warn(obj, msg)`). The middleware never passes a token,
 * a client secret or an Authorization header to it.
 */
export interface Logger {
  debug?(obj: Record<string, unknown>, msg: string): void;
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
  error(obj: Record<string, unknown>, msg: string): void;
}

/** Drops everything; the default. */
export const silentLogger: Logger = {
  info: () => {},
  warn: () => {},
  error: () => {},
};
