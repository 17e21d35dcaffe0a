// The dashboard's reads: GET /v1/feed (paged, filtered, sorted), GET /v1/prompts/:id (every attempt at
// that generation's prompt), GET /v1/thumbnails/:sha256 (small WebP made by the server), and
// POST /v1/comfyui/verdicts (the stored verdicts of the files a ComfyUI page shows, in one request).
import { Router, type Request } from 'express';
import { agiqaError, zodIssues } from '../../errors/index.js';
import type { Store } from '../../store/index.js';
import { comfyVerdictsRequestSchema, feedQuerySchema } from '../dashboard-schemas.js';
import { buildPromptView } from '../prompt-view.js';
import type { ThumbnailCache } from '../thumbnails.js';
import { readJsonBody } from './json-body.js';

function query(request: Request): Record<string, string> {
  return Object.fromEntries(new URL(request.originalUrl, 'http://localhost').searchParams);
}

function invalid(where: string, issues: string[]) {
  return agiqaError('AGQ_ERR_INVALID_INPUT', { where, issues }, { details: { issues } });
}

function positiveId(raw: string) {
  if (!/^\d+$/.test(raw) || Number(raw) < 1) throw invalid('path', [`id: expected a positive whole number, received "${raw}"`]);
  return Number(raw);
}

export function dashboardRouter(store: Store, thumbnails: ThumbnailCache): Router {
  const router = Router();

  router.get('/v1/feed', async (request, response) => {
    const parsed = feedQuerySchema.safeParse(query(request));
    if (!parsed.success) throw invalid('query', zodIssues(parsed.error));
    const { offset, limit, order, ...filter } = parsed.data;
    const limitValue = limit === undefined ? 50 : Number(limit);
    if (limitValue < 1 || limitValue > 200) throw invalid('query', [`limit: expected 1–200, received ${limit}`]);
    const offsetValue = offset === undefined ? 0 : Number(offset);
    const page = await store.dashboard.feed({ ...filter, descending: order !== 'asc', offset: offsetValue, limit: limitValue });
    response.json({ items: page.items, nextOffset: page.hasMore ? offsetValue + page.items.length : null });
  });

  router.get('/v1/prompts/:id', async (request, response) => {
    const id = positiveId(String(request.params.id));
    const found = await store.dashboard.promptAttempts(id);
    if (found === null) throw agiqaError('AGQ_ERR_SERVER_GENERATION_NOT_FOUND', { id });
    response.json(buildPromptView(found.promptKey, found.attempts));
  });

  router.get('/v1/thumbnails/:sha256', async (request, response, next) => {
    const sha256 = String(request.params.sha256);
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw invalid('path', [`sha256: expected 64 lowercase hex digits, received "${sha256.slice(0, 80)}"`]);
    const file = await thumbnails.fileWhenMade(sha256);
    if (file === null) throw agiqaError('AGQ_ERR_SERVER_NOT_FOUND', { method: 'GET', path: request.path });
    // Named by content hash: the bytes behind a name never change.
    response.set({ 'Content-Type': 'image/webp', 'Cache-Control': 'private, max-age=31536000, immutable' });
    response.sendFile(file, (error) => {
      if (error) next(agiqaError('AGQ_ERR_SERVER_NOT_FOUND', { method: 'GET', path: request.path }));
    });
  });

  router.post('/v1/comfyui/verdicts', async (request, response) => {
    const parsed = comfyVerdictsRequestSchema.safeParse(await readJsonBody(request, 256 * 1024));
    if (!parsed.success) throw invalid('body', zodIssues(parsed.error));
    response.json({ verdicts: await store.dashboard.comfyVerdicts(parsed.data.files) });
  });

  return router;
}
