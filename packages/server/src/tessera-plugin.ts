import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { Logger } from 'pino';
import { loadConfig, type TesseraConfig } from './config/load-config.js';
import type { TesseraContext } from './domain/context.js';
import { registerTessera } from './http/build-app.js';
import { REDACT_PATHS } from './observability/logger.js';
import { type CreateTesseraOptions, isConfig, openTesseraState } from './tessera.js';

/** Options of the `tessera()` plugin: those of `createTessera`, without the ones for listening. */
export type TesseraPluginOptions = Omit<CreateTesseraOptions, 'versions'>;

/** The plugin `tessera()` returns; after registration, `context` is its server's state. */
export interface TesseraPlugin extends FastifyPluginAsync {
  /** The mounted server's context (stores, keys, configuration) for `createUser`, `saveClient`, …. */
  readonly context: TesseraContext;
}

/**
 * The authorization server as a Fastify plugin, to mount inside an existing app. It is
 * encapsulated: its body parsers, cookies, hooks, rate limits and error handler apply to its own
 * routes only, never to the host's. With a `prefix`, the routes sit under it and the issuer (and
 * so every URL in the metadata, the tokens' `iss`, the cookie path) ends with it. The stores
 * close when the host app closes.
 *
 * @example
 * const app = Fastify();
 * const auth = tessera({ config: { overrides: { issuer: 'https://api.example.com' } } });
 * await app.register(auth, { prefix: '/auth' }); // issuer https://api.example.com/auth
 * await saveClient(auth.context, { id: 'web', public: true });
 */
export function tessera(options: TesseraPluginOptions = {}): TesseraPlugin {
  let context: TesseraContext | undefined;
  const plugin = async function tesseraPlugin(instance: FastifyInstance): Promise<void> {
    if (context) throw new Error('a tessera() plugin is registered once; call tessera() for another');
    const loaded = isConfig(options.config) ? options.config : loadConfig(options.config);
    const config = withPrefix(loaded, instance.prefix);
    // The host's logger, with this server's redaction of tokens, secrets, cookies and passwords.
    const log =
      options.logger ??
      (instance.log.child(
        { component: 'tessera' },
        { redact: { paths: [...REDACT_PATHS], censor: '[redacted]' } },
      ) as Logger);
    const { ctx, stops } = await openTesseraState(options, config, log);
    context = ctx;
    instance.addHook('onClose', async () => {
      for (const stop of stops) stop();
      await ctx.counters.flush();
      await ctx.stores.close();
    });
    await registerTessera(instance, ctx, {
      ...(options.onNotice ? { onNotice: options.onNotice } : {}),
      ...(options.openapi !== undefined ? { openapi: options.openapi } : {}),
    });
  };
  return Object.defineProperty(plugin, 'context', {
    get(): TesseraContext {
      if (!context)
        throw new Error('tessera(): register the plugin (and await it) before reading its context');
      return context;
    },
  }) as typeof plugin & { readonly context: TesseraContext };
}

/**
 * The issuer of a server mounted at `prefix`: the configured issuer (the host's public origin)
 * with the prefix appended, unless it already ends with it. The audience follows the issuer when
 * it was the issuer's default.
 */
export function withPrefix(config: Readonly<TesseraConfig>, prefix: string): Readonly<TesseraConfig> {
  const path = prefix.replace(/\/+$/, '');
  if (path === '' || new URL(config.issuer).pathname.replace(/\/+$/, '').endsWith(path)) return config;
  const issuer = `${config.issuer}${path}`;
  return Object.freeze({
    ...config,
    issuer,
    audience: config.audience === config.issuer ? issuer : config.audience,
  });
}
