// Who may talk to the server: the bearer token (compared in constant time), web origins (CORS and
// cross-site request refusal) and, on loopback, the Host header (against DNS rebinding).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isLoopbackHost } from '../config/index.js';
import { agiqaError, type AgiqaError } from '../errors/index.js';

export interface AccessPolicy {
  token: string | undefined;
  corsOrigins: string[];
  /** True when the server listens on a loopback address. */
  loopback: boolean;
}

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/** Constant-time token check: both sides are hashed first so that their lengths never leak either. */
export function tokenMatches(expected: string, presented: string): boolean {
  return timingSafeEqual(digest(expected), digest(presented));
}

function bearerOf(request: IncomingMessage, url: URL | null): string | null {
  const header = request.headers.authorization;
  if (typeof header === 'string') {
    const match = /^Bearer\s+(.+)$/i.exec(header.trim());
    return match ? match[1]!.trim() : null;
  }
  // Browsers cannot set headers on a WebSocket handshake, so the stream also accepts ?token=.
  return url?.searchParams.get('token') ?? null;
}

export function isAuthorized(policy: AccessPolicy, request: IncomingMessage, url: URL | null = null): boolean {
  if (policy.token === undefined) return true;
  const presented = bearerOf(request, url);
  return presented !== null && tokenMatches(policy.token, presented);
}

function hostnameOf(hostHeader: string): string {
  // "[::1]:8420" → "::1", "localhost:8420" → "localhost"
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(hostHeader);
  if (bracketed) return bracketed[1]!;
  return hostHeader.replace(/:\d+$/, '');
}

/**
 * The error a request must be refused with before any route runs, or null to let it through.
 * Unauthenticated requests are not refused here: routes decide (health answers them briefly).
 */
export function refuseRequest(policy: AccessPolicy, request: IncomingMessage): AgiqaError | null {
  if (policy.loopback && policy.token === undefined) {
    const host = request.headers.host ?? '';
    if (!isLoopbackHost(hostnameOf(host))) return agiqaError('AGQ_ERR_SERVER_HOST_FORBIDDEN', { host });
  }
  const origin = request.headers.origin;
  // A browser page on another origin could otherwise POST to a local server without a preflight.
  // The dashboard this server serves is its own origin: the Host it was reached by (checked above).
  if (typeof origin === 'string' && !policy.corsOrigins.includes(origin) && !isSameOrigin(origin, request.headers.host)) {
    return agiqaError('AGQ_ERR_SERVER_ORIGIN_FORBIDDEN', { origin });
  }
  return null;
}

/** True when `origin` names the host the request was sent to (a page this server served). */
export function isSameOrigin(origin: string, host: string | undefined): boolean {
  if (host === undefined || host === '') return false;
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return false;
  }
  return (parsed.protocol === 'http:' || parsed.protocol === 'https:') && parsed.origin === origin && parsed.host === host.toLowerCase();
}

/** Response headers that let an allowed origin read responses; none for anyone else. */
export function corsHeaders(policy: AccessPolicy, origin: string | undefined): Record<string, string> {
  if (origin === undefined || !policy.corsOrigins.includes(origin)) return {};
  return {
    'Access-Control-Allow-Origin': origin,
    'Access-Control-Allow-Methods': 'GET, POST, PUT, OPTIONS',
    'Access-Control-Allow-Headers': 'Authorization, Content-Type',
    'Access-Control-Max-Age': '600',
    Vary: 'Origin',
  };
}
