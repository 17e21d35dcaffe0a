// Starts the scoring server: refuses an unsafe bind, opens the store, serves HTTP and the event
// stream, and shuts down gracefully (stop accepting, finish and store admitted work, close the DB).
import { readFileSync } from 'node:fs';
import { createServer, STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import type { Registry } from 'prom-client';
import { WebSocketServer } from 'ws';
import { isLoopbackHost, SettingsHolder, type AgiqaConfig } from '../config/index.js';
import { agiqaError, isAgiqaError, type AgiqaError } from '../errors/index.js';
import { listPacks } from '../model/packs.js';
import { ScoringPipeline } from '../pipeline/index.js';
import type { Scorer } from '../scoring/index.js';
import { Store } from '../store/index.js';
import { createApp, type PackInfo } from './app.js';
import { isAuthorized, refuseRequest, type AccessPolicy } from './auth.js';
import { EventsHub } from './events-hub.js';
import { createMetrics } from './metrics.js';
import { resolveRoots } from './roots.js';
import { ThumbnailCache } from './thumbnails.js';

export const DATABASE_FILE = 'agiqa.db';

export interface StartServerOptions {
  config: AgiqaConfig;
  /** Any Scorer; a promise lets the server answer /v1/health ("starting") while the pack loads. */
  scorer: Scorer | Promise<Scorer>;
  /** Defaults to $home/agiqa.db. */
  store?: Store;
  logger?: Logger;
  listPacks?: () => Promise<PackInfo[]>;
  /** Registers more metrics in this server's /metrics registry (the cascade's counters). */
  registerMetrics?: (registry: Registry) => void;
  /** The live settings (policy, ComfyUI targets); default: from the config and $home/settings.json. */
  settings?: SettingsHolder;
}

export interface RunningServer {
  /** http://host:port with the port actually bound (useful with port 0). */
  url: string;
  port: number;
  /** The scoring pipeline; bridges started beside the server score through it too. */
  service: ScoringPipeline;
  store: Store;
  hub: EventsHub;
  settings: SettingsHolder;
  thumbnails: ThumbnailCache;
  /** Graceful shutdown; resolves when everything admitted was answered or stored and the DB is closed. */
  close(): Promise<void>;
}

function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

function refuseUpgrade(socket: Duplex, error: AgiqaError): void {
  const body = JSON.stringify({ error: { code: error.code, message: error.message, details: error.details ?? null } });
  socket.end(
    `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? 'Bad Request'}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** Throws AGQ_ERR_SERVER_TOKEN_REQUIRED when `host` is reachable from the network and no token is set. */
export function assertSafeBind(config: Pick<AgiqaConfig, 'host' | 'token'>): void {
  if (!isLoopbackHost(config.host) && config.token === undefined) throw agiqaError('AGQ_ERR_SERVER_TOKEN_REQUIRED', { host: config.host });
}

/**
 * Validates the bind, opens the store and listens. Throws AGQ_ERR_SERVER_TOKEN_REQUIRED (non-loopback
 * host without a token) and AGQ_ERR_SERVER_LISTEN; a broken database does not stop it (health reports it).
 */
export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const { config } = options;
  assertSafeBind(config);
  const loopback = isLoopbackHost(config.host);
  const logger = options.logger ?? pino({ level: config.logLevel, base: { service: 'agiqa' } });
  const store = options.store ?? (await Store.open(join(config.home, DATABASE_FILE), { busyTimeoutMs: config.store.busyTimeoutMs }));
  const storeHealth = await store.health();
  if (!storeHealth.ok) logger.error({ code: storeHealth.error.code }, storeHealth.error.message);

  const access: AccessPolicy = { token: config.token, corsOrigins: config.corsOrigins, loopback };
  const roots = resolveRoots(config.roots);
  if (roots.length < config.roots.length) logger.warn({ configured: config.roots, usable: roots }, 'some roots do not exist and allow nothing');
  const hub = new EventsHub(store, logger);
  const settings = options.settings ?? SettingsHolder.fromConfig(config);
  let service: ScoringPipeline | undefined;
  const thumbnails = new ThumbnailCache({ dir: join(config.home, 'thumbnails'), store, logger, maxPixels: config.limits.maxImagePixels, busy: () => service?.isBusy ?? false, saturated: () => (service?.load.queued ?? 0) > 0 });
  const metrics = createMetrics(() => {
    return service?.load ?? { inFlight: 0, queued: 0, running: 0 };
  });
  options.registerMetrics?.(metrics.registry);
  service = new ScoringPipeline({
    scorer: options.scorer,
    store,
    policy: () => settings.policy,
    thumbnails,
    capacity: config.queue.maxQueue + config.queue.workers,
    timeoutMs: config.queue.timeoutMs,
    limits: { maxBytes: config.limits.maxImageBytes, maxPixels: config.limits.maxImagePixels },
    metrics,
    publish: (events) => hub.publish(events),
    logger,
  });
  const app = createApp({
    service,
    store,
    metrics,
    access,
    roots,
    limits: { maxBodyBytes: config.limits.maxBodyBytes, maxImageBytes: config.limits.maxImageBytes, maxImagePixels: config.limits.maxImagePixels, bodyTimeoutMs: config.http.bodyTimeoutMs },
    maxRequestsPerClient: config.http.maxRequestsPerClient,
    logger,
    version: packageVersion(),
    listPacks: options.listPacks ?? (() => listPacks(config.home)),
    rankingTopK: config.policy.topK,
    dashboard: { settings, thumbnails },
  });

  // Explicit connection timeouts instead of Node's (300 s per request): a client that sends its headers
  // or body slowly is cut off. The per-request body deadline (408 with a code) is the app's; Node's
  // requestTimeout stays a little above it as the backstop for anything else.
  const httpServer: Server = createServer(
    {
      headersTimeout: config.http.headersTimeoutMs,
      requestTimeout: config.http.bodyTimeoutMs + config.http.headersTimeoutMs + 5_000,
      keepAliveTimeout: config.http.keepAliveTimeoutMs,
      connectionsCheckingInterval: Math.min(1_000, config.http.headersTimeoutMs),
    },
    app,
  );
  httpServer.setTimeout(config.http.idleTimeoutMs);
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  httpServer.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (url.pathname !== '/v1/events') return refuseUpgrade(socket, agiqaError('AGQ_ERR_SERVER_NOT_FOUND', { method: 'GET', path: url.pathname }));
    const refused = refuseRequest(access, request);
    if (refused !== null) return refuseUpgrade(socket, refused);
    if (!isAuthorized(access, request, url)) return refuseUpgrade(socket, agiqaError('AGQ_ERR_SERVER_UNAUTHORIZED', {}));
    const sinceText = url.searchParams.get('since');
    if (sinceText !== null && !/^\d+$/.test(sinceText)) {
      return refuseUpgrade(socket, agiqaError('AGQ_ERR_INVALID_INPUT', { where: 'query', issues: [`since: expected an event id (whole number), received "${sinceText}"`] }));
    }
    const since = sinceText === null ? null : Number(sinceText);
    // A cursor ahead of the newest event (another or a reset database) would silently skip the next
    // events: refused with the cursor to resume from instead.
    void (since === null ? Promise.resolve(null) : store.lastEventId()).then(
      (lastId) => {
        if (since !== null && lastId !== null && since > lastId) {
          return refuseUpgrade(socket, agiqaError('AGQ_ERR_SERVER_EVENTS_CURSOR_AHEAD', { since, lastId }, { details: { lastId } }));
        }
        wss.handleUpgrade(request, socket, head, (ws) => {
          void hub.attach(ws, since);
        });
      },
      (error: unknown) => refuseUpgrade(socket, isAgiqaError(error) ? error : agiqaError('AGQ_ERR_SERVER_INTERNAL', { detail: String(error) })),
    );
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => reject(agiqaError('AGQ_ERR_SERVER_LISTEN', { host: config.host, port: config.port, detail: error.code ?? error.message }, { cause: error }));
    httpServer.once('error', onError);
    httpServer.listen(config.port, config.host, () => {
      httpServer.off('error', onError);
      resolve();
    });
  }).catch(async (error: unknown) => {
    hub.close();
    store.close();
    throw error;
  });
  const port = (httpServer.address() as AddressInfo).port;
  const hostForUrl = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${hostForUrl}:${port}`;
  logger.info({ url, pack: config.pack, home: config.home, auth: config.token !== undefined }, 'agiqa server listening');

  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      // Everything below shares one grace period: admitted work that finishes in it is stored and
      // answered; a job still running at its end (a stuck worker) is terminated and fails, unstored
      // and so never acknowledged.
      const graceMs = config.queue.shutdownGraceMs;
      const deadline = Date.now() + graceMs;
      const left = () => Math.max(0, deadline - Date.now());
      logger.info({ graceMs }, 'shutting down: no new requests, finishing admitted work');
      const stopped = new Promise<void>((resolve) => httpServer.close(() => resolve()));
      httpServer.closeIdleConnections();
      // Admitted work is finished and stored; its responses are written right after.
      await service.drain(left());
      // Connections whose last response has now been written are idle: close them too, then give
      // responses still being written a moment before cutting what is left.
      const idleSweep = setInterval(() => httpServer.closeIdleConnections(), 25);
      await Promise.race([stopped, new Promise((resolve) => setTimeout(resolve, Math.min(2_000, left())).unref())]);
      clearInterval(idleSweep);
      httpServer.closeAllConnections();
      // Thumbnails are never acknowledged (the feed shows a blank without one): they get what is left of
      // the grace, like everything else here, and one still being made past it is given up.
      await Promise.race([thumbnails.settled(), new Promise((resolve) => setTimeout(resolve, left()).unref())]);
      hub.close();
      wss.close();
      const state = service.scorer;
      if (state.state === 'ready') await state.scorer.close(left());
      else void Promise.resolve(options.scorer).then((scorer) => scorer.close(0), () => undefined);
      store.close();
      logger.info('shut down');
    })();
    return closing;
  };

  return { url, port, service, store, hub, settings, thumbnails, close };
}
