// The server's, the store's and the configuration's errors: part of the one catalog (catalog.ts
// spreads them in; docs/errors.md lists them with the rest).
import { entry } from './catalog-entry.js';

export const serverErrors = {
  // ── server / store / config ──────────────────────────────────────────────────────────────────
  AGQ_ERR_CONFIG_NOT_FOUND: entry<{ file: string; from: string }>(
    500,
    (p) => `Config file ${p.file} (from ${p.from}) does not exist`,
    'Fix the path given with --config or AGIQA_CONFIG, or remove it to use agiqa.config.json in the current directory (optional).',
  ),
  AGQ_ERR_CONFIG_UNREADABLE: entry<{ file: string; detail: string }>(
    500,
    (p) => `Config file ${p.file} cannot be read as JSON: ${p.detail}`,
    'Fix the JSON syntax (no comments, no trailing commas); `agiqa config print` shows the effective config once it parses.',
  ),
  AGQ_ERR_CONFIG_INVALID: entry<{ source: string; issues: string[] }>(
    500,
    (p) => `Invalid configuration in ${p.source}: ${p.issues.join('; ')}`,
    'Fix every listed key (unknown keys are refused so that typos do not pass silently); see docs/server.md for the keys and their types.',
  ),
  AGQ_ERR_CLI_SERVER_UNREACHABLE: entry<{ url: string; detail: string }>(503, (p) => `Cannot reach the agiqa server at ${p.url} (${p.detail})`,
    'Start it in another terminal with `npx agiqa serve` (it listens on http://127.0.0.1:8420), or fix the URL given to --server.'),
  AGQ_ERR_SETTINGS_WRITE: entry<{ file: string; detail: string }>(500, (p) => `The settings could not be saved to ${p.file}: ${p.detail}`,
    'Make AGIQA_HOME writable for the user running the server (the settings were not changed).'),
  AGQ_ERR_SERVER_TOKEN_REQUIRED: entry<{ host: string }>(
    500,
    (p) => `Refusing to listen on ${p.host} without a token: any address other than loopback is reachable from the network`,
    'Set a token of at least 16 characters (AGIQA_TOKEN or "token" in agiqa.config.json; clients send `Authorization: Bearer <token>`), or bind 127.0.0.1.',
  ),
  AGQ_ERR_SERVER_LISTEN: entry<{ host: string; port: number; detail: string }>(
    500,
    (p) => `Cannot listen on ${p.host}:${p.port}: ${p.detail}`,
    'Choose another port (--port, 0 picks a free one) or stop the process that holds it.',
  ),
  AGQ_ERR_SERVER_UNAUTHORIZED: entry<Record<string, never>>(
    401,
    () => 'Missing or wrong bearer token',
    'Send `Authorization: Bearer <token>` with the token configured on the server (for WebSocket clients that cannot set headers: `?token=`).',
  ),
  AGQ_ERR_SERVER_ORIGIN_FORBIDDEN: entry<{ origin: string }>(
    403,
    (p) => `Requests from the web origin ${p.origin} are not allowed`,
    'Add the origin (scheme://host:port) to `corsOrigins` in agiqa.config.json if that web page should use the server.',
  ),
  AGQ_ERR_SERVER_HOST_FORBIDDEN: entry<{ host: string }>(
    403,
    (p) => `The Host header "${p.host}" is not a loopback name; refused to prevent DNS rebinding`,
    'Address the server as 127.0.0.1, localhost or [::1]; to serve other hosts, bind another address with a token.',
  ),
  AGQ_ERR_SERVER_NOT_FOUND: entry<{ method: string; path: string }>(
    404,
    (p) => `No endpoint ${p.method} ${p.path}`,
    'See GET /v1/openapi.json for the endpoints this server offers.',
  ),
  AGQ_ERR_SERVER_MALFORMED_JSON: entry<{ detail: string }>(
    400,
    (p) => `The request body is not valid JSON: ${p.detail}`,
    'Send a JSON object with `Content-Type: application/json`; check quoting and commas.',
  ),
  AGQ_ERR_SERVER_BODY_TOO_LARGE: entry<{ maxBytes: number }>(
    413,
    (p) => `The request body is larger than the limit of ${p.maxBytes} bytes`,
    'Send smaller images (or fewer at once), or raise `limits.maxBodyBytes` in agiqa.config.json.',
  ),
  AGQ_ERR_SERVER_BODY_TIMEOUT: entry<{ timeoutMs: number; received: number }>(
    408,
    (p) => `The request body did not arrive within ${p.timeoutMs} ms (${p.received} bytes received); the connection is closed`,
    'Send the whole body at once (a slow or stalled upload is cut); on a slow link raise `http.bodyTimeoutMs`.',
  ),
  AGQ_ERR_SERVER_CLIENT_BUSY: entry<{ address: string; limit: number }>(
    429,
    (p) => `${p.address} already has ${p.limit} requests in progress (the per-client limit)`,
    'Wait for your earlier requests to finish (send images in /v1/rank batches rather than many parallel uploads), or raise `http.maxRequestsPerClient`.',
  ),
  AGQ_ERR_SERVER_REQUEST_ABORTED: entry<{ received: number }>(
    400,
    (p) => `The client closed the connection before its request body was complete (${p.received} bytes received)`,
    'Nothing to do on the server: the client gave up (a cancelled upload, a timeout on its side). Retry from the client if the image still needs a score.',
  ),
  AGQ_ERR_SERVER_EVENTS_CURSOR_AHEAD: entry<{ since: number; lastId: number }>(
    409,
    (p) => `since=${p.since} is ahead of the last event id ${p.lastId}: this server never sent that event (a different or reset database)`,
    'Reconnect with ?since=<lastId> given here (or without since for live events only), and re-read history with GET /v1/generations if the database was reset.',
  ),
  AGQ_ERR_SERVER_UNSUPPORTED_MEDIA_TYPE: entry<{ contentType: string; accepted: string[] }>(
    415,
    (p) => `Content-Type "${p.contentType}" is not accepted here (accepted: ${p.accepted.join(', ')})`,
    'Send multipart/form-data with an `image` file, raw bytes with an image/* type, or JSON with `image` (base64) or `path`.',
  ),
  AGQ_ERR_SERVER_PATH_OUTSIDE_ROOTS: entry<{ path: string; roots: string[] }>(
    403,
    (p) =>
      p.roots.length === 0
        ? `Scoring by file path is disabled (no roots configured); refused ${p.path}`
        : `${p.path} is outside the allowed roots (${p.roots.join(', ')}) once resolved (".." and symlinks are followed before checking)`,
    'Upload the image instead, or add its folder to `roots` in agiqa.config.json.',
  ),
  AGQ_ERR_SERVER_GENERATION_NOT_FOUND: entry<{ id: number }>(
    404,
    (p) => `No generation with id ${p.id}`,
    'List generations with GET /v1/generations to find valid ids.',
  ),
  AGQ_ERR_SERVER_TIMEOUT: entry<{ timeoutMs: number }>(
    504,
    (p) => `Scoring took longer than ${p.timeoutMs} ms; the result will still be stored when it completes`,
    'Retry the same request later (the stored result is returned without rescoring), or raise `queue.timeoutMs`.',
  ),
  AGQ_ERR_SERVER_NOT_READY: entry<{ detail: string }>(
    503,
    (p) => `The server is not ready: ${p.detail}`,
    'Wait until GET /v1/health reports ready; if it stays unhealthy, read its `checks` and the server log.',
  ),
  AGQ_ERR_SERVER_INTERNAL: entry<{ detail: string }>(
    500,
    (p) => `Internal server error: ${p.detail}`,
    'This is a bug: report it with the server log around the time of the request (run with logLevel "debug" for more).',
  ),
  AGQ_ERR_STORE_OPEN: entry<{ file: string; detail: string }>(
    503,
    (p) => `The database ${p.file} cannot be opened: ${p.detail}`,
    'Check that AGIQA_HOME exists and is writable, and that the file is an agiqa SQLite database; move it away to start fresh.',
  ),
  AGQ_ERR_STORE_READ_ONLY: entry<{ file: string }>(
    503,
    (p) => `The database ${p.file} is read-only; scores cannot be stored`,
    'Make the file and its folder writable by the server user (and not immutable), or point AGIQA_HOME at a writable folder.',
  ),
  AGQ_ERR_STORE_LOCKED: entry<{ file: string; waitedMs: number }>(
    503,
    (p) => `The database ${p.file} stayed locked by another process for ${p.waitedMs} ms`,
    'Close other programs writing to this database (one server per AGIQA_HOME), then retry.',
  ),
  AGQ_ERR_STORE_SCHEMA_TOO_NEW: entry<{ file: string; version: number; known: number }>(
    503,
    (p) => `The database ${p.file} has schema version ${p.version}, newer than this agiqa knows (${p.known})`,
    'Upgrade agiqa, or use another AGIQA_HOME for this version.',
  ),
  AGQ_ERR_STORE_FAILED: entry<{ file: string; detail: string }>(
    500,
    (p) => `The database ${p.file} failed: ${p.detail}`,
    'Check free disk space and the server log; run `sqlite3 <file> "PRAGMA integrity_check"` if it persists.',
  ),
} as const;
