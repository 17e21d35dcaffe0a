// GET /v1/generations/:id/detections: the object boxes behind a generation's latest score (the lite
// detector's, from the lite pack or beside a CLIP pack), in the image's pixels, for drawing over it.
import { Router } from 'express';
import { z } from 'zod';
import { agiqaError } from '../../errors/index.js';
import { detectionSchema } from '../../scoring/score-result.js';
import type { Store } from '../../store/index.js';

export const generationDetectionsSchema = z
  .object({
    generationId: z.number().int(),
    scoreId: z.number().int(),
    pack: z.object({ name: z.string(), version: z.string() }).strict(),
    /** The boxes are in these pixels (the image as scored). */
    image: z.object({ width: z.number().int().nullable(), height: z.number().int().nullable() }).strict(),
    /** Most confident first; empty when the pack ran no detector for this image (no checkable prompt). */
    detections: z.array(detectionSchema),
  })
  .strict();

export function generationDetectionsRouter(store: Store): Router {
  const router = Router();
  router.get('/v1/generations/:id/detections', async (request, response) => {
    const raw = String(request.params.id);
    if (!/^\d+$/.test(raw) || Number(raw) < 1) {
      const issues = [`id: expected a positive whole number, received "${raw.slice(0, 80)}"`];
      throw agiqaError('AGQ_ERR_INVALID_INPUT', { where: 'path', issues }, { details: { issues } });
    }
    const found = await store.getDetections(Number(raw));
    if (found === null) throw agiqaError('AGQ_ERR_SERVER_GENERATION_NOT_FOUND', { id: Number(raw) });
    response.json(generationDetectionsSchema.parse(found));
  });
  return router;
}
