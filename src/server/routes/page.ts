// The dashboard page at the server's root and its built assets (dist/dashboard, made by
// `npm run build` with esbuild from web/dashboard). Every URL in the page is relative, so it also
// works behind a reverse proxy on a sub-path. The page holds no data: the API routes do, behind the token.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import express, { Router } from 'express';
import { agiqaError } from '../../errors/index.js';

/** dist/dashboard, from src/server/routes (tsx) and from dist/server/routes (built) alike. */
export const DASHBOARD_DIR = fileURLToPath(new URL('../../../dist/dashboard/', import.meta.url));

/** Paths anyone may fetch without the token: the page shell and its scripts (no data in them). */
export function isPagePath(path: string): boolean {
  return path === '/' || path.startsWith('/assets/');
}

export function pageRouter(dir: string = DASHBOARD_DIR): Router {
  const router = Router();
  router.get('/', (request, response, next) => {
    const index = `${dir}index.html`;
    if (!existsSync(index)) return next(agiqaError('AGQ_ERR_SERVER_NOT_FOUND', { method: 'GET', path: '/ (the dashboard is not built: run `npm run build`)' }));
    response.set({ 'Cache-Control': 'no-cache', 'Content-Security-Policy': "default-src 'self'; img-src 'self' blob: data:; connect-src 'self' ws: wss:; style-src 'self' 'unsafe-inline'" });
    response.sendFile(index);
  });
  router.use('/assets', express.static(`${dir}assets`, { index: false, fallthrough: true, maxAge: '1h' }));
  return router;
}
