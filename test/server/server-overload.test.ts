// The server under hostile clients and stuck jobs, in-process on an ephemeral loopback port: slow
// uploads hold no scoring slot, one address cannot take every connection, a refused body is not
// read, a stuck job is cancelled and its worker replaced, shutdown keeps its grace, a cached image
// needs no slot. Each case states its time bound and the code it expects.
import Database from 'better-sqlite3';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { configSchema, type ConfigInput } from '../../src/config/index.js';
import type { Scorer } from '../../src/scoring/scorer.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { FakeScorer, type FakeScorerOptions } from '../fixtures/server/fake-scorer.js';
import { poolScorer } from '../fixtures/server/pool-scorer.js';
import { rawRequest, type RawRequest } from '../fixtures/server/raw-http.js';
import { wsRefusal } from '../fixtures/server/ws-refusal.js';

const running: RunningServer[] = [];
const sockets: RawRequest[] = [];
afterEach(async () => {
  for (const { socket } of sockets.splice(0)) socket.destroy();
  for (const server of running.splice(0)) await server.close();
});

interface Started {
  server: RunningServer;
  home: string;
  logs: { level: number; msg: string; code?: string }[];
}

async function start(config: ConfigInput = {}, scorer: Scorer = new FakeScorer()): Promise<Started> {
  const home = config.home ?? mkdtempSync(join(tmpdir(), 'agiqa-overload-'));
  const logs: Started['logs'] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) logs.push(JSON.parse(line));
      done();
    },
  });
  const server = await startServer({
    config: configSchema.parse({ port: 0, logLevel: 'info', ...config, home }),
    scorer,
    logger: pino({ level: 'info' }, sink),
    listPacks: async () => [],
  });
  running.push(server);
  return { server, home, logs };
}

/** A distinct small "image" (the stand-in scorers read only its bytes). */
function image(seed: number, prefix = 'IMG!'): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(64);
  bytes.set(Buffer.from(prefix, 'latin1'));
  bytes.fill(seed % 256, 4, 32);
  bytes[32] = Math.floor(seed / 256);
  bytes[63] = 32;
  return bytes;
}

const postRaw = (server: RunningServer, bytes: Uint8Array<ArrayBuffer>) =>
  fetch(`${server.url}/v1/score`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: bytes });

/** The four ways a score request can carry its image; the file is written under `root` for the path form. */
function encodings(root: string) {
  return {
    raw: (server: RunningServer, bytes: Uint8Array<ArrayBuffer>) => postRaw(server, bytes),
    multipart: (server: RunningServer, bytes: Uint8Array<ArrayBuffer>) => {
      const form = new FormData();
      form.append('image', new Blob([bytes], { type: 'image/png' }), 'upload.png');
      return fetch(`${server.url}/v1/score`, { method: 'POST', body: form });
    },
    base64: (server: RunningServer, bytes: Uint8Array<ArrayBuffer>) =>
      fetch(`${server.url}/v1/score`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ image: Buffer.from(bytes).toString('base64') }) }),
    path: (server: RunningServer, bytes: Uint8Array<ArrayBuffer>) => {
      const file = join(root, `image-${bytes[4]}-${bytes[32]}.png`);
      writeFileSync(file, bytes);
      return fetch(`${server.url}/v1/score`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ path: file }) });
    },
  };
}

/** Opens a slow-loris upload: the head and one byte of a body that claims `declared` bytes. */
async function loris(server: RunningServer, localAddress: string, contentType = 'image/png', declared = 1000): Promise<RawRequest> {
  const request = await rawRequest(server.url, { path: '/v1/score', headers: { 'Content-Type': contentType, 'Content-Length': declared }, firstBytes: new Uint8Array([0x89]), localAddress });
  sockets.push(request);
  return request;
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('slow clients', () => {
  it('slow-loris uploads hold no scoring slot: real requests in every encoding are scored beside them', async () => {
    const root = mkdtempSync(join(tmpdir(), 'agiqa-root-'));
    // Capacity 2; four slow uploads from another address (within the default per-client limit).
    const { server } = await start({ roots: [root], queue: { maxQueue: 1, workers: 1 } });
    for (let i = 0; i < 4; i++) await loris(server, '127.0.0.2');
    await wait(100);
    let seed = 10;
    for (const [encoding, send] of Object.entries(encodings(root))) {
      const started = Date.now();
      const response = await send(server, image(seed++));
      expect({ encoding, status: response.status }).toEqual({ encoding, status: 200 });
      expect(Date.now() - started).toBeLessThan(2_000);
    }
  });

  it('cuts a body that does not arrive within http.bodyTimeoutMs: 408 with a code, connection closed', async () => {
    const { server, logs } = await start({ http: { bodyTimeoutMs: 400 } });
    const contentTypes = ['image/png', 'application/json', 'multipart/form-data; boundary=xyz'];
    const slow = await Promise.all(contentTypes.map((type) => loris(server, '127.0.0.2', type)));
    for (const [index, { answer }] of slow.entries()) {
      const answered = await answer;
      expect(answered, contentTypes[index]).toMatchObject({ status: 408, headers: { connection: 'close' }, body: { error: { code: 'AGQ_ERR_SERVER_BODY_TIMEOUT' } } });
      // Bound: the deadline plus scheduling slack, far below Node's 300 s default.
      expect(answered!.elapsedMs).toBeLessThan(400 + 1_500);
    }
    expect(logs.filter((entry) => entry.level >= 50)).toEqual([]);
    expect((await postRaw(server, image(1))).status).toBe(200);
  });

  it('caps the requests one address has in progress: 429 with a code at once, without reading the body', async () => {
    const { server } = await start({ http: { maxRequestsPerClient: 3, bodyTimeoutMs: 10_000 } });
    const held = await Promise.all([0, 1, 2].map(() => loris(server, '127.0.0.3')));
    await wait(100);
    const refused = await loris(server, '127.0.0.3');
    const answer = await refused.answer;
    expect(answer).toMatchObject({ status: 429, headers: { connection: 'close', 'retry-after': '1' }, body: { error: { code: 'AGQ_ERR_SERVER_CLIENT_BUSY' } } });
    expect(answer!.elapsedMs).toBeLessThan(1_000);
    // Another address is not affected, and health is exempt for everyone.
    expect((await postRaw(server, image(2))).status).toBe(200);
    const health = await rawRequest(server.url, { method: 'GET', path: '/v1/health', headers: { Connection: 'close' }, localAddress: '127.0.0.3' });
    expect(await health.answer).toMatchObject({ status: 200 });
    // A held client that finishes frees its place.
    held[0]!.socket.destroy();
    await wait(100);
    const again = await rawRequest(server.url, { method: 'GET', path: '/v1/generations', headers: { Connection: 'close' }, localAddress: '127.0.0.3' });
    expect(await again.answer).toMatchObject({ status: 200 });
  });

  it('refuses an oversized Content-Length before the body in every encoding, and closes the connection', async () => {
    // Under maxBodyBytes (64 MiB) but more than one 1 MiB image can need: raw bytes, or base64 plus fields.
    const { server } = await start({ limits: { maxImageBytes: 1024 * 1024 } });
    const cases = [
      { type: 'image/png', declared: 2 * 1024 * 1024, code: 'AGQ_ERR_IMAGE_TOO_LARGE' },
      { type: 'application/json', declared: 10 * 1024 * 1024, code: 'AGQ_ERR_SERVER_BODY_TOO_LARGE' },
      { type: 'multipart/form-data; boundary=xyz', declared: 10 * 1024 * 1024, code: 'AGQ_ERR_SERVER_BODY_TOO_LARGE' },
    ];
    for (const { type, declared, code } of cases) {
      // Nothing but the head is sent: an answer proves the server did not wait for the body.
      const request = await rawRequest(server.url, { path: '/v1/score', headers: { 'Content-Type': type, 'Content-Length': declared } });
      sockets.push(request);
      const answer = await request.answer;
      expect(answer, type).toMatchObject({ status: 413, headers: { connection: 'close' }, body: { error: { code } } });
      expect(answer!.elapsedMs).toBeLessThan(1_000);
    }
    expect((await postRaw(server, image(3))).status).toBe(200);
  });

  it('logs a client that abandons its upload as what it is (info, with a code), not as an internal error', async () => {
    const { server, logs } = await start();
    for (const type of ['image/png', 'application/json', 'multipart/form-data; boundary=xyz']) {
      const request = await rawRequest(server.url, { path: '/v1/score', headers: { 'Content-Type': type, 'Content-Length': 5000 }, firstBytes: new Uint8Array(100) });
      await wait(50);
      request.socket.destroy();
    }
    await wait(300);
    expect(logs.filter((entry) => entry.level >= 50)).toEqual([]);
    expect(logs.filter((entry) => entry.code === 'AGQ_ERR_SERVER_REQUEST_ABORTED').map((entry) => entry.level)).toEqual([30, 30, 30]);
    expect((await postRaw(server, image(4))).status).toBe(200);
  });
});

describe('admission', () => {
  it('answers an image already scored without an admission slot, while the queue is full', async () => {
    const { server } = await start({ queue: { maxQueue: 1, workers: 1 } }, new FakeScorer({ delayMs: 1_500 }));
    const first = (await (await postRaw(server, image(5))).json()) as { generationId: number };
    const slow = [postRaw(server, image(6)), postRaw(server, image(7))];
    await wait(150);
    const busy = await postRaw(server, image(8));
    expect(busy.status).toBe(503);
    expect(busy.headers.get('connection')).toBe('close');
    expect(((await busy.json()) as any).error.code).toBe('AGQ_ERR_QUEUE_FULL');
    const started = Date.now();
    const cached = await postRaw(server, image(5));
    expect(cached.status).toBe(200);
    expect(await cached.json()).toMatchObject({ cached: true, generationId: first.generationId });
    expect(Date.now() - started).toBeLessThan(1_000);
    await Promise.all(slow);
  });
});

describe('stuck scoring jobs', () => {
  it('cancels a job past queue.jobTimeoutMs (504 with a code), counts it, reports health, and scores the next image', async () => {
    const jobTimeoutMs = 800;
    const { server } = await start({ queue: { workers: 1, maxQueue: 4, jobTimeoutMs } }, await poolScorer({ workers: 1, maxQueue: 4, jobTimeoutMs }));
    const started = Date.now();
    const stuck = postRaw(server, image(1, 'SPIN'));
    await wait(jobTimeoutMs * 0.75);
    // Past half its deadline the only worker is stalled: health says so instead of "ok".
    const health = await fetch(`${server.url}/v1/health`);
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({ status: 'unhealthy', ready: false, checks: { scorer: { ok: false, code: 'AGQ_ERR_SCORE_STALLED' } } });
    const answer = await stuck;
    expect(answer.status).toBe(504);
    expect(((await answer.json()) as any).error.code).toBe('AGQ_ERR_SCORE_CANCELLED');
    expect(Date.now() - started).toBeLessThan(jobTimeoutMs + 2_000);
    // The replacement worker scores the next real image.
    const next = await postRaw(server, image(2));
    expect(next.status).toBe(200);
    expect((await fetch(`${server.url}/v1/health`)).status).toBe(200);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/^agiqa_scoring_jobs_cancelled_total 1$/m);
    expect(metrics).toMatch(/^agiqa_scoring_workers 1$/m);
    // Nothing was stored for the cancelled image.
    const generations = (await (await fetch(`${server.url}/v1/generations`)).json()) as { generations: unknown[] };
    expect(generations.generations).toHaveLength(1);
  });

  it('shuts down within queue.shutdownGraceMs with a stuck worker, keeping what was acknowledged', async () => {
    const { server, home } = await start({ queue: { workers: 1, maxQueue: 4, jobTimeoutMs: 60_000, shutdownGraceMs: 500 } }, await poolScorer({ workers: 1, maxQueue: 4, jobTimeoutMs: 60_000 }));
    expect((await postRaw(server, image(3))).status).toBe(200);
    const stuck = postRaw(server, image(4, 'SPIN')).then(
      (response) => response.status,
      () => 'connection closed',
    );
    await wait(100);
    const started = Date.now();
    await server.close();
    running.splice(running.indexOf(server), 1);
    // Bound: the grace plus the moment responses get to flush.
    expect(Date.now() - started).toBeLessThan(500 + 1_500);
    expect(await stuck).not.toBe(200);
    const db = new Database(join(home, 'agiqa.db'), { readonly: true });
    expect((db.prepare('SELECT COUNT(*) AS n FROM generations').get() as { n: number }).n).toBe(1);
    db.close();
  });
});

describe('event stream cursor', () => {
  it('refuses ?since= ahead of the last event id with a code and the id to resume from', async () => {
    const { server } = await start();
    await postRaw(server, image(9));
    const refusal = await wsRefusal(`${server.url.replace('http', 'ws')}/v1/events?since=999`);
    expect(refusal.status).toBe(409);
    expect(refusal.body.error.code).toBe('AGQ_ERR_SERVER_EVENTS_CURSOR_AHEAD');
    const lastId = refusal.body.error.details.lastId as number;
    expect(lastId).toBeGreaterThan(0);
    expect(refusal.body.error.message).toContain(`last event id ${lastId}`);
    // Resuming from the id given streams normally.
    const ready = await new Promise<any>((resolve, reject) => {
      const socket = new WebSocket(`${server.url.replace('http', 'ws')}/v1/events?since=${lastId}`);
      socket.on('message', (data) => {
        resolve(JSON.parse(String(data)));
        socket.close();
      });
      socket.on('error', reject);
    });
    expect(ready).toMatchObject({ type: 'stream.ready', lastId });
  });
});
