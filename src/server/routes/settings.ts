// GET/PUT /v1/settings: the live policy and ComfyUI targets. PUT replaces them whole, validated with the
// config's schemas, persisted under AGIQA_HOME and applied at once (the holder tells its readers).
import { Router } from 'express';
import type { SettingsHolder } from '../../config/index.js';
import { readJsonBody } from './json-body.js';

const MAX_SETTINGS_BYTES = 64 * 1024;

export function settingsRouter(settings: SettingsHolder): Router {
  const router = Router();
  router.get('/v1/settings', (_request, response) => {
    response.json(settings.current);
  });
  router.put('/v1/settings', async (request, response) => {
    response.json(settings.replace(await readJsonBody(request, MAX_SETTINGS_BYTES)));
  });
  return router;
}
