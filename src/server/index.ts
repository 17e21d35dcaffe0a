// The scoring server: HTTP API, WebSocket event stream, auth, metrics, OpenAPI.
export { startServer, assertSafeBind, DATABASE_FILE, type StartServerOptions, type RunningServer } from './server.js';
export { createApp, type AppContext, type PackInfo } from './app.js';
export { ScoringPipeline, type ScoringPipelineOptions, type ScorerState } from '../pipeline/index.js';
export { EventsHub } from './events-hub.js';
export { openApiDocument } from './openapi.js';
export { tokenMatches, isAuthorized, refuseRequest, corsHeaders, type AccessPolicy } from './auth.js';
export { resolveInsideRoots, resolveRoots } from './roots.js';
export * from './schemas.js';
