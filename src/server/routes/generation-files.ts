// PUT /v1/generations/:id/file: a client that saved a scored image (ComfyUI's *Save image with score*
// writes the file after the score, its name holding the MOS) links the file to its generation, so
// `/v1/generations` shows where the image went (external.filename, image.file).
import { Router } from 'express';
import { z } from 'zod';
import { agiqaError, zodIssues } from '../../errors/index.js';
import type { Store } from '../../store/index.js';
import { readJsonBody } from './json-body.js';

const MAX_BODY_BYTES = 16 * 1024;

export const generationFileSchema = z
  .object({
    filename: z.string().min(1).max(1_000).describe('the file name as saved, e.g. ComfyUI_3.81_00001_.png'),
    file: z.string().min(1).max(4_096).optional().describe('where it is, for people reading the history (a path or URL)'),
  })
  .strict();

function invalid(where: string, issues: string[]) {
  return agiqaError('AGQ_ERR_INVALID_INPUT', { where, issues }, { details: { issues } });
}

export function generationFilesRouter(store: Store): Router {
  const router = Router();
  router.put('/v1/generations/:id/file', async (request, response) => {
    const raw = String(request.params.id);
    if (!/^\d+$/.test(raw) || Number(raw) < 1) throw invalid('path', [`id: expected a positive whole number, received "${raw}"`]);
    const parsed = generationFileSchema.safeParse(await readJsonBody(request, MAX_BODY_BYTES));
    if (!parsed.success) throw invalid('request body', zodIssues(parsed.error));
    const id = Number(raw);
    if (!(await store.linkFile(id, { filename: parsed.data.filename, fileRef: parsed.data.file }))) throw agiqaError('AGQ_ERR_SERVER_GENERATION_NOT_FOUND', { id });
    response.json(await store.getGeneration(id));
  });
  return router;
}
