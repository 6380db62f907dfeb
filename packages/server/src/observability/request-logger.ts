import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions, LevelWithSilentOrString } from 'pino';

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/**
 * Fastify gives every request a child logger bound to its id. pino's `child()` runs the redaction
 * over the bindings each time: about 2% of the token endpoint's event loop in a profile, for a
 * logger that, at the default `warn`, a successful request never writes to. This factory makes
 * the real child only when something is logged at an enabled level (or its level is changed),
 * so a line still carries the request id and passes through the same redaction.
 */
export function lazyChildLoggerFactory(
  logger: FastifyBaseLogger,
  bindings: Bindings,
  opts: ChildLoggerOptions,
): FastifyBaseLogger {
  // A route-level `logLevel` changes what is enabled: make the child at once.
  if (opts.level !== undefined) return logger.child(bindings, opts);
  return new LazyChild(logger, bindings, opts);
}

const ORDER: Record<Level, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };

class LazyChild implements FastifyBaseLogger {
  #child: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly opts: ChildLoggerOptions,
  ) {}

  private real(): FastifyBaseLogger {
    this.#child ??= this.parent.child(this.bindings, this.opts);
    return this.#child;
  }

  private enabled(level: Level): boolean {
    const current = this.#child?.level ?? this.parent.level;
    const threshold = ORDER[current as Level];
    // 'silent' or a custom level name: let pino decide.
    return threshold === undefined ? current !== 'silent' : ORDER[level] >= threshold;
  }

  /** Writes through the real child, made now if need be. */
  log(level: Level, args: unknown[]): void {
    if (!this.enabled(level)) return;
    (this.real()[level] as (...a: unknown[]) => void)(...args);
  }

  get level(): LevelWithSilentOrString {
    return this.#child?.level ?? this.parent.level;
  }

  set level(level: LevelWithSilentOrString) {
    this.real().level = level;
  }

  fatal(...args: unknown[]): void {
    this.log('fatal', args);
  }
  error(...args: unknown[]): void {
    this.log('error', args);
  }
  warn(...args: unknown[]): void {
    this.log('warn', args);
  }
  info(...args: unknown[]): void {
    this.log('info', args);
  }
  debug(...args: unknown[]): void {
    this.log('debug', args);
  }
  trace(...args: unknown[]): void {
    this.log('trace', args);
  }
  silent(): void {}

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.real().child(bindings, options);
  }
}
