// The HTTP API and event stream in-process, on an ephemeral loopback port, with a stand-in scorer.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { z } from 'zod';
import { configSchema, type ConfigInput } from '../../src/config/index.js';
import type { Scorer } from '../../src/scoring/scorer.js';
import { generationSchema, rankResponseSchema, scoreResponseSchema, startServer, type RunningServer } from '../../src/server/index.js';
import { Store } from '../../src/store/index.js';
import { generationDetectionsSchema } from '../../src/server/routes/generation-detections.js';
import { FAKE_DOG_BOX, FakeScorer, type FakeScorerOptions } from '../fixtures/server/fake-scorer.js';

const TOKEN = 'test-token-0123456789';
const running: RunningServer[] = [];
const cleanups: (() => void)[] = [];
afterEach(async () => {
  for (const server of running.splice(0)) await server.close();
  for (const cleanup of cleanups.splice(0)) cleanup();
});

interface Started {
  server: RunningServer;
  scorer: FakeScorer;
  home: string;
}

async function start(config: ConfigInput = {}, scorerOptions: FakeScorerOptions = {}, extra: { store?: Store; scorer?: Scorer | Promise<Scorer> } = {}): Promise<Started> {
  const home = config.home ?? mkdtempSync(join(tmpdir(), 'agiqa-server-'));
  const scorer = new FakeScorer(scorerOptions);
  const server = await startServer({
    config: configSchema.parse({ port: 0, logLevel: 'silent', ...config, home }),
    scorer: extra.scorer ?? scorer,
    store: extra.store,
    logger: pino({ level: 'silent' }),
    listPacks: async () => [{ name: 'fake', version: '1.0.0', aspects: ['quality'], embedded: true }],
  });
  running.push(server);
  return { server, scorer, home };
}

/** A distinct fake image; its last byte steers the stand-in scorer's MOS (byte % 50 / 10). */
function image(seed: number, mosTimesTen = 32): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(64);
  bytes.fill(seed % 256, 0, 32);
  bytes[1] = Math.floor(seed / 256);
  bytes[63] = mosTimesTen;
  return bytes;
}

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

async function postJson(server: RunningServer, path: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: response.status, headers: response.headers, body: (await response.json()) as any };
}

async function get(server: RunningServer, path: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${server.url}${path}`, { headers });
  const text = await response.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {
    // metrics are text
  }
  return { status: response.status, headers: response.headers, body };
}

/** POSTs raw PNG bytes written as separate pieces (node:http, so the framing headers are ours to choose). */
function postPieces(server: RunningServer, pieces: Uint8Array[], headers: Record<string, string>): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(`${server.url}/v1/score`, { method: 'POST', headers: { 'content-type': 'image/png', ...headers } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
    });
    request.on('error', reject);
    for (const piece of pieces) request.write(piece);
    request.end();
  });
}

describe('POST /v1/score', () => {
  it('scores a base64 JSON image, stores it, and returns the stored result the second time', async () => {
    const { server, scorer } = await start();
    const first = await postJson(server, '/v1/score', { image: b64(image(1)), prompt: 'a red car', external: { promptId: 'abc', node: '9' } });
    expect(first.status).toBe(200);
    expect(scoreResponseSchema.parse(first.body).cached).toBe(false);
    const again = await postJson(server, '/v1/score', { image: b64(image(1)), prompt: 'a red car' });
    expect(again.body).toMatchObject({ cached: true, generationId: first.body.generationId });
    expect(scorer.calls).toBe(1);
    const stored = await get(server, `/v1/generations/${first.body.generationId}`);
    expect(generationSchema.parse(stored.body)).toMatchObject({ prompt: 'a red car', external: { promptId: 'abc', node: '9' } });
  });

  it('accepts a multipart upload with fields', async () => {
    const { server } = await start();
    const form = new FormData();
    form.append('image', new Blob([image(2)], { type: 'image/png' }), 'ComfyUI_0001.png');
    form.append('prompt', 'a boat');
    form.append('source', 'comfyui');
    form.append('parentId', '1');
    const first = await postJson(server, '/v1/score', { image: b64(image(3)) });
    const response = await fetch(`${server.url}/v1/score`, { method: 'POST', body: form });
    const body = (await response.json()) as any;
    expect(response.status).toBe(200);
    const generation = (await get(server, `/v1/generations/${body.generationId}`)).body;
    expect(generation).toMatchObject({ source: 'comfyui', prompt: 'a boat', parentId: first.body.generationId, image: { file: 'ComfyUI_0001.png' } });
    // Hashed while it streamed in: the same hash as the whole file.
    expect(generation.image.sha256).toBe(createHash('sha256').update(image(2)).digest('hex'));
  });

  it('accepts raw image bytes with metadata in the query', async () => {
    const { server } = await start();
    const response = await fetch(`${server.url}/v1/score?prompt=a%20tree&name=tree.png`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: image(4) });
    const body = (await response.json()) as any;
    expect(response.status).toBe(200);
    expect((await get(server, `/v1/generations/${body.generationId}`)).body).toMatchObject({ prompt: 'a tree', image: { file: 'tree.png', bytes: 64 } });
  });

  it('reads a raw upload written in pieces, with a Content-Length and chunked, byte for byte', async () => {
    const { server } = await start({ limits: { maxBodyBytes: 300_000, maxImageBytes: 300_000, maxImagePixels: 1000 } });
    const bytes = new Uint8Array(200_000).map((_, i) => (i * 7919) % 251);
    bytes[bytes.length - 1] = 32; // the stand-in scorer reads its MOS from the last byte (3.2)
    const pieces = [bytes.subarray(0, 70_001), bytes.subarray(70_001, 140_000), bytes.subarray(140_000)];
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const declared = await postPieces(server, pieces, { 'content-length': String(bytes.length) });
    const chunked = await postPieces(server, pieces, { 'transfer-encoding': 'chunked' });
    for (const answer of [declared, chunked]) {
      expect(answer.status).toBe(200);
      const generation = (await get(server, `/v1/generations/${answer.body.generationId}`)).body;
      expect(generation.image).toMatchObject({ sha256, bytes: bytes.length });
    }
    // The second upload is the same image: answered from the store, not scored again.
    expect(chunked.body.generationId).toBe(declared.body.generationId);
    const tooLong = await postPieces(server, [bytes, bytes], { 'transfer-encoding': 'chunked' });
    expect(tooLong.status).toBe(413);
    expect(tooLong.body.error.code).toBe('AGQ_ERR_SERVER_BODY_TOO_LARGE');
  });

  it('answers malformed JSON with 400 AGQ_ERR_SERVER_MALFORMED_JSON', async () => {
    const { server } = await start();
    const response = await postJson(server, '/v1/score', '{"image": "abc",');
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('AGQ_ERR_SERVER_MALFORMED_JSON');
    expect(response.body.error.message).toContain('not valid JSON');
  });

  it('answers wrong types with every field named at once', async () => {
    const { server } = await start();
    const response = await postJson(server, '/v1/score', { image: 42, prompt: ['x'], parentId: 'one' });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('AGQ_ERR_INVALID_INPUT');
    for (const field of ['image', 'prompt', 'parentId']) expect(response.body.error.message).toContain(field);
    expect(response.body.error.details.issues).toHaveLength(3);
  });

  it('answers unknown fields with 400 naming them (JSON, multipart and query)', async () => {
    const { server } = await start();
    const json = await postJson(server, '/v1/score', { image: b64(image(5)), promt: 'typo' });
    expect(json.status).toBe(400);
    expect(json.body.error.message).toContain('promt');
    const form = new FormData();
    form.append('image', new Blob([image(5)]), 'a.png');
    form.append('colour', 'red');
    const multipart = await fetch(`${server.url}/v1/score`, { method: 'POST', body: form });
    expect(multipart.status).toBe(400);
    expect(((await multipart.json()) as any).error.message).toContain('colour');
    const raw = await fetch(`${server.url}/v1/score?promt=x`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: image(5) });
    expect(raw.status).toBe(400);
  });

  it('refuses bad base64 instead of decoding what it can', async () => {
    const { server } = await start();
    const response = await postJson(server, '/v1/score', { image: 'not base64!!' });
    expect(response.status).toBe(400);
    expect(response.body.error.message).toContain('base64');
  });

  it('answers an oversized body with 413 before reading it', async () => {
    const { server, scorer } = await start({ limits: { maxBodyBytes: 1024, maxImageBytes: 512, maxImagePixels: 1000 } });
    // Raw image bytes are one image: refused against maxImageBytes from Content-Length.
    const response = await fetch(`${server.url}/v1/score`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: new Uint8Array(4096) });
    expect(response.status).toBe(413);
    expect(response.headers.get('connection')).toBe('close');
    expect(((await response.json()) as any).error.code).toBe('AGQ_ERR_IMAGE_TOO_LARGE');
    const tooBigBody = await postJson(server, '/v1/score', { image: b64(new Uint8Array(2000)) });
    expect(tooBigBody.status).toBe(413);
    expect(tooBigBody.body.error.code).toBe('AGQ_ERR_SERVER_BODY_TOO_LARGE');
    const tooBigImage = await postJson(server, '/v1/score', { image: b64(new Uint8Array(600)) });
    expect(tooBigImage.status).toBe(413);
    expect(tooBigImage.body.error.code).toBe('AGQ_ERR_IMAGE_TOO_LARGE');
    expect(scorer.calls).toBe(0);
  });

  it('answers an unsupported content type with 415', async () => {
    const { server } = await start();
    const response = await fetch(`${server.url}/v1/score`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' });
    expect(response.status).toBe(415);
  });
});

describe('file paths', () => {
  function layout() {
    const base = mkdtempSync(join(tmpdir(), 'agiqa-roots-'));
    const root = join(base, 'images');
    mkdirSync(root);
    writeFileSync(join(root, 'inside.png'), image(10));
    writeFileSync(join(base, 'secret.png'), image(11));
    symlinkSync(join(base, 'secret.png'), join(root, 'escape.png'));
    return { base, root };
  }

  it('reads a file inside a root', async () => {
    const { root } = layout();
    const { server } = await start({ roots: [root] });
    const response = await postJson(server, '/v1/score', { path: join(root, 'inside.png') });
    expect(response.status).toBe(200);
    expect((await postJson(server, '/v1/score', { path: 'inside.png' })).body.cached).toBe(true);
  });

  it('refuses a path outside the roots, a ".." path and a symlink that escapes', async () => {
    const { base, root } = layout();
    const { server, scorer } = await start({ roots: [root] });
    for (const path of [join(base, 'secret.png'), `${root}/../secret.png`, '../secret.png', join(root, 'escape.png'), '/etc/passwd']) {
      const response = await postJson(server, '/v1/score', { path });
      expect(response.status, path).toBe(403);
      expect(response.body.error.code).toBe('AGQ_ERR_SERVER_PATH_OUTSIDE_ROOTS');
    }
    expect(scorer.calls).toBe(0);
  });

  it('refuses every path when no roots are configured', async () => {
    const { root } = layout();
    const { server } = await start();
    const response = await postJson(server, '/v1/score', { path: join(root, 'inside.png') });
    expect(response.status).toBe(403);
    expect(response.body.error.message).toContain('disabled');
  });
});

describe('security', () => {
  it('refuses to start on a non-loopback address without a token', async () => {
    await expect(start({ host: '0.0.0.0' })).rejects.toMatchObject({ code: 'AGQ_ERR_SERVER_TOKEN_REQUIRED' });
  });

  it('reports a port already in use as AGQ_ERR_SERVER_LISTEN', async () => {
    const { server } = await start();
    await expect(start({ port: server.port })).rejects.toMatchObject({ code: 'AGQ_ERR_SERVER_LISTEN' });
  });

  it('requires the bearer token when one is set; health answers briefly without it', async () => {
    const { server } = await start({ token: TOKEN });
    expect((await postJson(server, '/v1/score', { image: b64(image(20)) })).status).toBe(401);
    expect((await postJson(server, '/v1/score', { image: b64(image(20)) }, { authorization: 'Bearer wrong-token-0123456789' })).status).toBe(401);
    expect((await postJson(server, '/v1/score', { image: b64(image(20)) }, { authorization: `Bearer ${TOKEN}` })).status).toBe(200);
    const brief = await get(server, '/v1/health');
    expect(brief.status).toBe(200);
    expect(brief.body.checks).toBeUndefined();
    expect((await get(server, '/v1/health', { authorization: `Bearer ${TOKEN}` })).body.checks.store.ok).toBe(true);
    expect((await get(server, '/metrics')).status).toBe(401);
  });

  it('allows CORS only for configured origins and refuses other web origins', async () => {
    const { server } = await start({ corsOrigins: ['http://localhost:8188'] });
    const allowed = await get(server, '/v1/packs', { origin: 'http://localhost:8188' });
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('http://localhost:8188');
    const other = await get(server, '/v1/packs', { origin: 'http://evil.example' });
    expect(other.status).toBe(403);
    expect(other.body.error.code).toBe('AGQ_ERR_SERVER_ORIGIN_FORBIDDEN');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('refuses a non-loopback Host header on a loopback bind (DNS rebinding)', async () => {
    const { server } = await start();
    const { request } = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      request(`${server.url}/v1/packs`, { headers: { host: 'attacker.example:80' } }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      })
        .on('error', reject)
        .end();
    });
    expect(status).toBe(403);
  });
});

describe('load and faults', () => {
  it('answers every one of 200 concurrent requests against a queue of 32: a score or a 503 with Retry-After', async () => {
    // One client address sends all 200: the per-client limit is raised so the queue bound is what answers.
    const { server, scorer } = await start({ queue: { maxQueue: 32, workers: 2, timeoutMs: 30_000 }, http: { maxRequestsPerClient: 1_000 } }, { delayMs: 20, capacity: 34 });
    const responses = await Promise.all(
      Array.from({ length: 200 }, (_, index) =>
        fetch(`${server.url}/v1/score`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: image(1000 + index) }).then(async (response) => ({
          status: response.status,
          retryAfter: response.headers.get('retry-after'),
          body: (await response.json()) as any,
        })),
      ),
    );
    const ok = responses.filter((response) => response.status === 200);
    const busy = responses.filter((response) => response.status === 503);
    expect(ok.length + busy.length).toBe(200);
    expect(ok.length).toBeGreaterThanOrEqual(34);
    for (const response of busy) {
      expect(response.retryAfter).toBe('1');
      expect(response.body.error.code).toBe('AGQ_ERR_QUEUE_FULL');
    }
    expect(scorer.calls).toBe(ok.length);
    expect(new Set(ok.map((response) => response.body.generationId)).size).toBe(ok.length);
    expect(server.service.load.inFlight).toBe(0);
  });

  it('maps the scorer\'s own queue-full error to 503 + Retry-After', async () => {
    const { server } = await start({}, { capacity: 0 });
    const response = await postJson(server, '/v1/score', { image: b64(image(30)) });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('1');
  });

  it('answers 504 after queue.timeoutMs and still stores the score when it completes', async () => {
    const { server } = await start({ queue: { maxQueue: 4, workers: 1, timeoutMs: 50 } }, { delayMs: 300 });
    const response = await postJson(server, '/v1/score', { image: b64(image(31)) });
    expect(response.status).toBe(504);
    expect(response.body.error.code).toBe('AGQ_ERR_SERVER_TIMEOUT');
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect((await postJson(server, '/v1/score', { image: b64(image(31)) })).body.cached).toBe(true);
  });

  it('stays up with a read-only database: health 503 with the reason, scores refused with 503', async () => {
    const home = mkdtempSync(join(tmpdir(), 'agiqa-server-ro-'));
    const file = join(home, 'agiqa.db');
    (await Store.open(file)).close();
    if (process.getuid?.() === 0) {
      execFileSync('chattr', ['+i', file]);
      cleanups.push(() => execFileSync('chattr', ['-i', file]));
    } else chmodSync(file, 0o444);
    const { server, scorer } = await start({ home });
    const health = await get(server, '/v1/health');
    expect(health.status).toBe(503);
    expect(health.body).toMatchObject({ status: 'unhealthy', ready: false, checks: { store: { ok: false, code: 'AGQ_ERR_STORE_READ_ONLY' } } });
    const score = await postJson(server, '/v1/score', { image: b64(image(40)) });
    expect(score.status).toBe(503);
    expect(score.body.error.code).toBe('AGQ_ERR_STORE_READ_ONLY');
    expect(score.body.error.message).toContain('read-only');
    expect((await get(server, '/v1/packs')).status).toBe(200);
    expect(scorer.calls).toBeLessThanOrEqual(1);
  });

  it('stays up with a locked database and recovers when the lock goes', async () => {
    const { server, home } = await start({ store: { busyTimeoutMs: 100 } });
    const other = new Database(join(home, 'agiqa.db'));
    other.exec('BEGIN EXCLUSIVE');
    let locked = true;
    cleanups.push(() => {
      if (locked) other.exec('ROLLBACK');
      other.close();
    });
    const score = await postJson(server, '/v1/score', { image: b64(image(41)) });
    expect(score.status).toBe(503);
    expect(score.body.error.code).toBe('AGQ_ERR_STORE_LOCKED');
    expect(score.headers.get('retry-after')).toBe('1');
    expect((await get(server, '/v1/health')).body.checks.store.code).toBe('AGQ_ERR_STORE_LOCKED');
    other.exec('ROLLBACK');
    locked = false;
    expect((await get(server, '/v1/health')).status).toBe(200);
    expect((await postJson(server, '/v1/score', { image: b64(image(41)) })).status).toBe(200);
  });

  it('reports "starting" until the pack is loaded and refuses scores meanwhile', async () => {
    let resolveScorer!: (scorer: Scorer) => void;
    const pending = new Promise<Scorer>((resolve) => {
      resolveScorer = resolve;
    });
    const { server } = await start({}, {}, { scorer: pending });
    const health = await get(server, '/v1/health');
    expect(health.status).toBe(503);
    expect(health.body.status).toBe('starting');
    const score = await postJson(server, '/v1/score', { image: b64(image(42)) });
    expect(score.status).toBe(503);
    expect(score.body.error.code).toBe('AGQ_ERR_SERVER_NOT_READY');
    resolveScorer(new FakeScorer());
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect((await get(server, '/v1/health')).body).toMatchObject({ status: 'ok', ready: true, pack: { name: 'fake' } });
  });

  it('finishes admitted work on shutdown, then closes the store and the scorer', async () => {
    const { server, scorer } = await start({}, { delayMs: 200 });
    const inFlight = postJson(server, '/v1/score', { image: b64(image(43)) });
    // Shut down once the request is admitted (on a loaded machine a fixed wait may come first).
    while (server.service.load.inFlight === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    const closed = server.close();
    running.splice(running.indexOf(server), 1);
    expect((await inFlight).status).toBe(200);
    await closed;
    expect(scorer.closed).toBe(true);
    await expect(fetch(`${server.url}/v1/health`)).rejects.toThrow();
  });
});

describe('POST /v1/rank', () => {
  it('scores a batch as one batch and returns order, top-k and passing indices', async () => {
    const { server, scorer } = await start({ policy: { thresholds: { overall: 2.5 } } });
    const response = await postJson(server, '/v1/rank', {
      prompt: 'a cat',
      topK: 2,
      images: [{ image: b64(image(50, 10)) }, { image: b64(image(51, 40)) }, { image: b64(image(52, 30)) }, { image: b64(image(53, 35)) }],
    });
    expect(response.status).toBe(200);
    const body = rankResponseSchema.parse(response.body);
    expect(body.order).toEqual([1, 3, 2, 0]);
    expect(body.topK).toEqual([1, 3]);
    expect(body.passing).toEqual([1, 3]);
    expect(body.items[2]!.verdict.reasons[0]!.code).toBe('outside-top-k');
    expect(scorer.batchCalls).toBe(1);
    const history = await get(server, '/v1/generations?verdict=accept');
    expect(history.body.generations).toHaveLength(2);
  });

  it('accepts multipart with several image files and keepAtLeast', async () => {
    const { server } = await start({ policy: { thresholds: { overall: 4.9 } } });
    const form = new FormData();
    form.append('image', new Blob([image(60, 20)]), 'a.png');
    form.append('image', new Blob([image(61, 30)]), 'b.png');
    form.append('keepAtLeast', '1');
    const response = await fetch(`${server.url}/v1/rank`, { method: 'POST', body: form });
    const body = rankResponseSchema.parse(await response.json());
    expect(body.passing).toEqual([1]);
    const second = body.items.find((item) => item.index === 1)!;
    const stored = (await get(server, `/v1/generations/${second.generationId}`)).body;
    expect(stored.image.sha256).toBe(createHash('sha256').update(image(61, 30)).digest('hex'));
  });

  it('scores a batch larger than the whole queue capacity in slices instead of refusing it forever', async () => {
    // capacity = maxQueue + workers = 5; the scorer itself refuses a sixth image in flight.
    const { server, scorer } = await start({ queue: { maxQueue: 4, workers: 1, timeoutMs: 30_000 } }, { delayMs: 5, capacity: 5 });
    const images = Array.from({ length: 12 }, (_, index) => ({ image: b64(image(70 + index, 10 + index)) }));
    const response = await postJson(server, '/v1/rank', { prompt: 'a cat', images });
    expect(response.status).toBe(200);
    const body = rankResponseSchema.parse(response.body);
    expect(body.items).toHaveLength(12);
    expect(body.order).toEqual(Array.from({ length: 12 }, (_, index) => 11 - index));
    expect(scorer.batchCalls).toBe(3);
    expect(server.service.load.inFlight).toBe(0);
  });

  it("stores a JSON batch's prompt and node ids with each image, under the image's own file name", async () => {
    const { server } = await start();
    const response = await postJson(server, '/v1/rank', {
      external: { promptId: 'p-1', node: '9' },
      images: [{ image: b64(image(90, 10)), external: { filename: 'ComfyUI_0001.png' } }, { image: b64(image(91, 20)) }],
    });
    expect(response.status).toBe(200);
    const found = (await get(server, '/v1/generations?promptId=p-1')).body.generations.map((generation: any) => generation.external);
    expect(found).toEqual([
      { promptId: 'p-1', node: '9', filename: null },
      { promptId: 'p-1', node: '9', filename: 'ComfyUI_0001.png' },
    ]);
    expect((await postJson(server, '/v1/rank', { external: { filename: 'x.png' }, images: [{ image: b64(image(92)) }] })).status).toBe(400);
  });

  it('refuses an empty batch', async () => {
    const { server } = await start();
    expect((await postJson(server, '/v1/rank', { images: [] })).status).toBe(400);
  });
});

describe('history, packs, metrics, OpenAPI', () => {
  it('filters generations by prompt, verdict and since; 404 and 400 for bad ids', async () => {
    const { server } = await start({ policy: { thresholds: { overall: 2.5 } } });
    const a = await postJson(server, '/v1/score', { image: b64(image(70, 40)), prompt: 'red car' });
    await postJson(server, '/v1/score', { image: b64(image(71, 10)), prompt: 'blue car' });
    expect((await get(server, '/v1/generations?prompt=red')).body.generations.map((g: any) => g.id)).toEqual([a.body.generationId]);
    expect((await get(server, '/v1/generations?verdict=reject')).body.generations).toHaveLength(1);
    expect((await get(server, `/v1/generations?since=${a.body.generationId}`)).body.generations).toHaveLength(1);
    expect((await get(server, '/v1/generations?since=2020-01-01T00:00:00Z&limit=1')).body.generations).toHaveLength(1);
    expect((await get(server, '/v1/generations?limit=0')).status).toBe(400);
    expect((await get(server, '/v1/generations?colour=red')).status).toBe(400);
    expect((await get(server, '/v1/generations/999')).body.error.code).toBe('AGQ_ERR_SERVER_GENERATION_NOT_FOUND');
    expect((await get(server, '/v1/generations/abc')).status).toBe(400);
    expect((await get(server, '/v1/nothing')).body.error.code).toBe('AGQ_ERR_SERVER_NOT_FOUND');
  });

  it('serves the object boxes of a generation (migration 5), [] when no detector ran, 404 and 400 for bad ids', async () => {
    const { server } = await start();
    const dog = await postJson(server, '/v1/score', { image: b64(image(90, 40)), prompt: 'a dog on a sofa' });
    const plain = await postJson(server, '/v1/score', { image: b64(image(91, 40)), prompt: 'a castle' });
    const boxes = await get(server, `/v1/generations/${dog.body.generationId}/detections`);
    expect(boxes.status).toBe(200);
    expect(generationDetectionsSchema.parse(boxes.body)).toEqual({
      generationId: dog.body.generationId,
      scoreId: expect.any(Number),
      pack: { name: 'fake', version: '1.0.0' },
      image: { width: 64, height: 64 },
      detections: [FAKE_DOG_BOX],
    });
    expect((await get(server, `/v1/generations/${plain.body.generationId}/detections`)).body.detections).toEqual([]);
    expect((await get(server, '/v1/generations/999/detections')).body.error.code).toBe('AGQ_ERR_SERVER_GENERATION_NOT_FOUND');
    expect((await get(server, '/v1/generations/0/detections')).status).toBe(400);
    expect((await get(server, '/v1/feed')).body.items.map((item: any) => item.detections)).toEqual([[], [FAKE_DOG_BOX]]);
  });

  it('lists packs and exposes Prometheus metrics', async () => {
    const { server } = await start();
    await postJson(server, '/v1/score', { image: b64(image(80, 40)) });
    expect((await get(server, '/v1/packs')).body).toEqual({ active: { name: 'fake', version: '1.0.0' }, installed: [{ name: 'fake', version: '1.0.0', aspects: ['quality'], embedded: true }] });
    const metrics = (await get(server, '/metrics')).body as string;
    expect(metrics).toContain('agiqa_http_requests_total{method="POST",route="/v1/score",status="200"} 1');
    expect(metrics).toContain('agiqa_scores_total{verdict="accept"} 1');
    expect(metrics).toContain('agiqa_http_request_duration_seconds_bucket');
    expect(metrics).toContain('agiqa_queue_depth 0');
  });

  it('serves an OpenAPI document generated from the zod schemas', async () => {
    const { server } = await start();
    const document = (await get(server, '/v1/openapi.json')).body;
    expect(document.openapi).toBe('3.1.0');
    expect(Object.keys(document.paths).sort()).toEqual(['/metrics', '/v1/comfyui/prompts/{promptId}/ranking', '/v1/comfyui/verdicts', '/v1/events', '/v1/feed', '/v1/generations', '/v1/generations/{id}', '/v1/generations/{id}/detections', '/v1/generations/{id}/file', '/v1/health', '/v1/openapi.json', '/v1/packs', '/v1/prompts/{id}', '/v1/rank', '/v1/score', '/v1/settings', '/v1/thumbnails/{sha256}']);
    const { $schema: _drop, ...expected } = z.toJSONSchema(scoreResponseSchema, { io: 'output', unrepresentable: 'any' }) as Record<string, unknown>;
    expect(document.components.schemas.ScoreResponse).toEqual(expected);
  });
});

describe('WebSocket /v1/events', () => {
  function connect(server: RunningServer, query = ''): Promise<{ socket: WebSocket; messages: any[]; ready: Promise<void> }> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(`${server.url.replace('http', 'ws')}/v1/events${query}`);
      const messages: any[] = [];
      let markReady!: () => void;
      const ready = new Promise<void>((r) => {
        markReady = r;
      });
      socket.on('message', (data) => {
        const message = JSON.parse(String(data));
        if (message.type === 'stream.ready') markReady();
        else messages.push(message);
      });
      socket.once('open', () => resolve({ socket, messages, ready }));
      socket.once('unexpected-response', (_request, response) => reject(new Error(`status ${response.statusCode}`)));
      socket.once('error', reject);
    });
  }

  const until = async (check: () => boolean) => {
    for (let i = 0; i < 200 && !check(); i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
  };

  it('streams scored generations live and replays what a reconnecting client missed', async () => {
    const { server } = await start();
    const live = await connect(server);
    await live.ready;
    await postJson(server, '/v1/score', { image: b64(image(90)) });
    await until(() => live.messages.length === 1);
    expect(live.messages[0]).toMatchObject({ id: 1, type: 'generation.scored', data: { generationId: 1 } });
    live.socket.close();

    await postJson(server, '/v1/score', { image: b64(image(91)) });
    await postJson(server, '/v1/score', { image: b64(image(92)) });
    const resumed = await connect(server, '?since=1');
    await resumed.ready;
    expect(resumed.messages.map((message) => message.id)).toEqual([2, 3]);
    await postJson(server, '/v1/score', { image: b64(image(93)) });
    await until(() => resumed.messages.length === 3);
    expect(resumed.messages.map((message) => message.id)).toEqual([2, 3, 4]);
    resumed.socket.close();
  });

  it('refuses a bad cursor and a missing token', async () => {
    const { server } = await start({ token: TOKEN });
    await expect(connect(server, '?since=abc')).rejects.toThrow('status 401');
    await expect(connect(server, `?since=abc&token=${TOKEN}`)).rejects.toThrow('status 400');
    const ok = await connect(server, `?token=${TOKEN}`);
    ok.socket.close();
  });
});
