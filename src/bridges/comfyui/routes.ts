// The bridge's HTTP surface inside the agiqa server: `GET /v1/comfyui/prompts/:promptId/ranking[?k=N]`
// returns a prompt's outputs per node, best first, and the top-k. Mounted by the server after its
// access checks; errors go to the server's error handler (one error shape).
import { Router } from 'express';
import { agiqaError } from '../../errors/index.js';
import type { Policy } from '../../policy/index.js';
import type { Store } from '../../store/index.js';
import { promptRanking } from './rerank.js';

export function comfyRouter(store: Store, policy: Pick<Policy, 'topK'>): Router {
  const router = Router();
  router.get('/v1/comfyui/prompts/:promptId/ranking', async (request, response) => {
    const promptId = String(request.params.promptId);
    const rawK = request.query.k;
    let k: number | undefined;
    if (rawK !== undefined) {
      if (typeof rawK !== 'string' || !/^\d+$/.test(rawK) || Number(rawK) < 1) {
        throw agiqaError('AGQ_ERR_INVALID_INPUT', { where: 'query', issues: [`k: expected a positive whole number, received "${String(rawK)}"`] });
      }
      k = Number(rawK);
    }
    const ranking = await promptRanking(store, promptId, policy, k);
    if (ranking === null) throw agiqaError('AGQ_ERR_COMFYUI_PROMPT_UNKNOWN', { promptId });
    response.json(ranking);
  });
  return router;
}
