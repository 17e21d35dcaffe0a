// The express application: access checks, the /v1 routes, metrics and the one error shape
// {error:{code,message,details}}. It receives its collaborators, so tests and bridges can pass any Scorer.
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { comfyRouter } from '../bridges/comfyui/index.js';
import { AgiqaError, agiqaError, isAgiqaError, zodIssues, type ErrorCode } from '../errors/index.js';
import type { EarlyScores, ScoringPipeline } from '../pipeline/index.js';
import type { Store } from '../store/index.js';
import { corsHeaders, isAuthorized, refuseRequest, type AccessPolicy } from './auth.js';
import { ClientGate } from './client-gate.js';
import { refuseDeclaredBody, readRankRequest, readScoreRequest } from './image-input.js';
import type { InputLimits } from './request-body.js';
import type { ServerMetrics } from './metrics.js';
import { openApiDocument } from './openapi.js';
import { generationsQuerySchema, type HealthResponse } from './schemas.js';
import { dashboardRouter } from './routes/dashboard.js';
import { isPagePath, pageRouter } from './routes/page.js';
import { generationDetectionsRouter } from './routes/generation-detections.js';
import { generationFilesRouter } from './routes/generation-files.js';
import { settingsRouter } from './routes/settings.js';
import type { SettingsHolder } from '../config/index.js';
import type { ThumbnailCache } from './thumbnails.js';

export interface PackInfo {
  name: string;
  version: string;
  aspects: string[];
  embedded: boolean;
}

export interface AppContext {
  /** The scoring pipeline every entrance shares (the bridges call the same one). */
  service: ScoringPipeline;
  store: Store;
  metrics: ServerMetrics;
  access: AccessPolicy;
  /** Real paths of the roots `{path}` requests may read from. */
  roots: string[];
  limits: InputLimits;
  /** Requests one client address may have in progress at once (429 beyond). */
  maxRequestsPerClient: number;
  logger: Logger;
  version: string;
  listPacks: () => Promise<PackInfo[]>;
  /** The default top-k of GET /v1/comfyui/prompts/:promptId/ranking (the policy's). */
  rankingTopK?: number | undefined;
  /** The dashboard: live settings, thumbnails, and where its built page is (default dist/dashboard). */
  dashboard?: { settings: SettingsHolder; thumbnails: ThumbnailCache; pageDir?: string | undefined } | undefined;
}

/** Seconds a client should wait before retrying each kind of 503. */
const RETRY_AFTER: Partial<Record<ErrorCode, number>> = {
  AGQ_ERR_QUEUE_FULL: 1,
  AGQ_ERR_SHUTTING_DOWN: 5,
  AGQ_ERR_SERVER_NOT_READY: 2,
  AGQ_ERR_STORE_LOCKED: 1,
  AGQ_ERR_SERVER_CLIENT_BUSY: 1,
  AGQ_ERR_SCORE_STALLED: 5,
};

/** Refusals after which the connection is closed rather than kept alive (the client is overloading it, or the body was not read). */
const CLOSE_AFTER = new Set([408, 413, 429, 503]);

/** AGQ_ERR_SCORE_STALLED when no worker can take an image (all stuck or being replaced), else null. */
function stalledWorkers(load: ScoringPipeline['load']): AgiqaError | null {
  const { size, workers, stalled } = load;
  if (size === undefined || workers === undefined || stalled === undefined) return null;
  return workers - stalled > 0 ? null : agiqaError('AGQ_ERR_SCORE_STALLED', { size, workers, stalled });
}

function queryOf(request: Request): URLSearchParams {
  return new URL(request.originalUrl, 'http://localhost').searchParams;
}

function invalidQuery(issues: string[]): AgiqaError {
  return agiqaError('AGQ_ERR_INVALID_INPUT', { where: 'query', issues }, { details: { issues } });
}

export function createApp(context: AppContext): express.Express {
  const { service, store, metrics, access, logger } = context;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.use((request, response, next) => {
    const stop = metrics.duration.startTimer();
    response.on('finish', () => {
      // The matched route pattern, never the raw URL, so ids in paths do not explode label counts.
      const route = request.route ? `${request.baseUrl}${String(request.route.path)}` : 'unmatched';
      stop({ method: request.method, route });
      metrics.requests.inc({ method: request.method, route, status: String(response.statusCode) });
      // 503 is expected back-pressure (queue full, starting): logging each would flood the log under load.
      const level = response.statusCode >= 500 && response.statusCode !== 503 ? 'warn' : 'debug';
      logger[level]({ method: request.method, url: request.originalUrl, status: response.statusCode }, 'request');
    });
    next();
  });

  // One client address may hold only so many requests: slow uploads from one place cannot take every
  // socket and body buffer. Health stays exempt so that supervisors can always probe.
  const gate = new ClientGate(context.maxRequestsPerClient);
  app.use((request, response, next) => {
    if (request.path === '/v1/health') return next();
    const address = request.socket.remoteAddress ?? 'unknown';
    if (!gate.enter(address)) return next(agiqaError('AGQ_ERR_SERVER_CLIENT_BUSY', { address, limit: context.maxRequestsPerClient }));
    response.once('close', () => gate.leave(address));
    next();
  });

  app.use((request, response, next) => {
    const refused = refuseRequest(access, request);
    if (refused !== null) return next(refused);
    response.set(corsHeaders(access, request.headers.origin));
    if (request.method === 'OPTIONS') return response.status(204).end();
    // Health answers everyone (briefly) so that supervisors can probe it without the secret.
    if (request.path !== '/v1/health' && !isPagePath(request.path) && !isAuthorized(access, request)) {
      response.set('WWW-Authenticate', 'Bearer');
      return next(agiqaError('AGQ_ERR_SERVER_UNAUTHORIZED', {}));
    }
    next();
  });

  // Admission comes after the body: a client that uploads slowly holds no scoring slot, and a stored
  // score is answered without one. What can be refused from the headers is refused before reading.
  app.post('/v1/score', async (request, response) => {
    refuseDeclaredBody(request, 'score', context.limits);
    const { ticket, leave } = service.enter();
    try {
      const parsed = await readScoreRequest(request, queryOf(request), { roots: context.roots, limits: context.limits });
      response.json(await service.scoreOne(parsed.input, parsed.metadata, ticket));
    } finally {
      leave();
    }
  });

  app.post('/v1/rank', async (request, response) => {
    refuseDeclaredBody(request, 'rank', context.limits);
    const { ticket, leave } = service.enter();
    // Raw frames start scoring as they arrive; a refused request gives up the ones it started.
    const streamed: { early: EarlyScores | null } = { early: null };
    try {
      const parsed = await readRankRequest(request, { roots: context.roots, limits: context.limits }, (metadata) => (streamed.early = service.earlyScores(metadata, ticket)));
      const ranked = await service.rankBatch(parsed.inputs, parsed.metadata, { topK: parsed.topK, keepAtLeast: parsed.keepAtLeast, early: streamed.early }, ticket);
      const items = ranked.items.map(({ index, rank, generationId, cached, result, verdict }) => ({ index, rank, generationId, cached, result, verdict }));
      response.json({ ...ranked, items });
    } finally {
      void streamed.early?.abandon();
      leave();
    }
  });

  app.get('/v1/generations', async (request, response) => {
    const parsed = generationsQuerySchema.safeParse(Object.fromEntries(queryOf(request)));
    if (!parsed.success) throw invalidQuery(zodIssues(parsed.error));
    const { prompt, verdict, promptId, node, since, limit } = parsed.data;
    const limitValue = limit === undefined ? 50 : Number(limit);
    if (limitValue < 1 || limitValue > 500) throw invalidQuery([`limit: expected 1–500, received ${limit}`]);
    const sinceValue = since === undefined ? undefined : /^\d+$/.test(since) ? Number(since) : since;
    response.json({ generations: await store.listGenerations({ prompt, verdict, promptId, node, since: sinceValue, limit: limitValue }) });
  });

  app.get('/v1/generations/:id', async (request, response) => {
    const raw = String(request.params.id);
    if (!/^\d+$/.test(raw) || Number(raw) < 1) throw agiqaError('AGQ_ERR_INVALID_INPUT', { where: 'path', issues: [`id: expected a positive whole number, received "${raw}"`] });
    const generation = await store.getGeneration(Number(raw));
    if (generation === null) throw agiqaError('AGQ_ERR_SERVER_GENERATION_NOT_FOUND', { id: Number(raw) });
    response.json(generation);
  });

  app.get('/v1/packs', async (_request, response) => {
    const state = service.scorer;
    const installed = (await context.listPacks()).map(({ name, version, aspects, embedded }) => ({ name, version, aspects, embedded }));
    response.json({ active: state.state === 'ready' ? state.scorer.pack : null, installed });
  });

  app.get('/v1/health', async (request, response) => {
    const state = service.scorer;
    const storeHealth = await store.health();
    const stalled = stalledWorkers(service.load);
    const ready = state.state === 'ready' && storeHealth.ok && !service.isClosing && stalled === null;
    const status: HealthResponse['status'] = ready ? 'ok' : state.state === 'loading' && storeHealth.ok ? 'starting' : 'unhealthy';
    const body: HealthResponse = { status, ready, pack: state.state === 'ready' ? state.scorer.pack : null };
    if (isAuthorized(access, request)) {
      body.checks = {
        scorer:
          state.state === 'ready'
            ? stalled === null
              ? { ok: true }
              : { ok: false, code: stalled.code, message: stalled.message }
            : state.state === 'loading'
              ? { ok: false, message: 'the model pack is loading' }
              : { ok: false, code: state.error.code, message: state.error.message },
        store: storeHealth.ok ? { ok: true } : { ok: false, code: storeHealth.error.code, message: storeHealth.error.message },
      };
      const load = service.load;
      body.queue = { inFlight: load.inFlight, capacity: load.capacity };
    }
    response.status(ready ? 200 : 503).json(body);
  });

  app.get('/metrics', async (_request, response) => {
    response.set('Content-Type', metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  app.get('/v1/openapi.json', (_request, response) => {
    response.json(openApiDocument(context.version));
  });

  // The ComfyUI bridge's stored batch rankings (empty until a bridge has scored something).
  app.use(comfyRouter(store, { topK: context.rankingTopK }));
  app.use(generationFilesRouter(store));
  app.use(generationDetectionsRouter(store));
  if (context.dashboard !== undefined) {
    app.use(settingsRouter(context.dashboard.settings));
    app.use(dashboardRouter(store, context.dashboard.thumbnails));
    app.use(pageRouter(context.dashboard.pageDir));
  }

  app.use((request: Request, _response: Response, next: NextFunction) => {
    next(agiqaError('AGQ_ERR_SERVER_NOT_FOUND', { method: request.method, path: request.path }));
  });

  app.use((error: unknown, request: Request, response: Response, _next: NextFunction) => {
    let failure: AgiqaError;
    if (isAgiqaError(error)) {
      failure = error;
      // A client that went away mid-upload is no fault of the server's: noted, not alarmed about.
      if (failure.code === 'AGQ_ERR_SERVER_REQUEST_ABORTED') logger.info({ code: failure.code, url: request.originalUrl }, failure.message);
      if (failure.code === 'AGQ_ERR_SERVER_BODY_TIMEOUT') logger.warn({ code: failure.code, url: request.originalUrl, address: request.socket.remoteAddress }, failure.message);
    }
    else if (typeof (error as { status?: unknown })?.status === 'number' && (error as { status: number }).status < 500) {
      // express's own 4xx (a malformed URL escape, …)
      failure = agiqaError('AGQ_ERR_INVALID_INPUT', { where: 'request', issues: [(error as Error).message] });
    } else {
      failure = agiqaError('AGQ_ERR_SERVER_INTERNAL', { detail: error instanceof Error ? error.message : String(error) }, { cause: error });
      logger.error({ err: error, url: request.originalUrl }, 'unexpected error');
    }
    if (response.headersSent || failure.code === 'AGQ_ERR_SERVER_REQUEST_ABORTED') {
      response.destroy();
      return;
    }
    const retryAfter = RETRY_AFTER[failure.code];
    if (retryAfter !== undefined) response.set('Retry-After', String(retryAfter));
    // Overload and size refusals are not read further: closing the connection discards the rest of
    // the body, where keep-alive would make the server drain it first. Other refusals (401, 415, …)
    // keep the connection, so a client still sending its body can read the answer.
    if (CLOSE_AFTER.has(failure.status)) response.set('Connection', 'close');
    const send = () => {
      if (!response.headersSent && !response.destroyed) response.status(failure.status).json({ error: { code: failure.code, message: failure.message, details: failure.details ?? null } });
    };
    // Other refusals (401, 415, …) come before a body the client is still sending: answered once it
    // has arrived (within the body deadline), else a client that sends `Connection: close` (urllib)
    // meets a reset mid-upload and never reads why it was refused.
    if (CLOSE_AFTER.has(failure.status) || request.complete || request.readableEnded) return send();
    const timer = setTimeout(send, context.limits.bodyTimeoutMs ?? 30_000);
    request.once('end', () => {
      clearTimeout(timer);
      send();
    });
    request.once('close', () => clearTimeout(timer));
    request.resume();
  });

  return app;
}
