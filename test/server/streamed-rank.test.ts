// POST /v1/rank with raw frames streamed in one body: scoring starts with the first frame, and a refused
// body leaves nothing stored and no slot taken once the started work is done.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/index.js';
import { rankResponseSchema, startServer, type RunningServer } from '../../src/server/index.js';
import { FakeScorer } from '../fixtures/server/fake-scorer.js';
import { rawRequest } from '../fixtures/server/raw-http.js';

const running: RunningServer[] = [];
afterEach(async () => {
  for (const server of running.splice(0)) await server.close();
});

async function start(delayMs = 40) {
  const scorer = new FakeScorer({ apart: true, delayMs });
  const server = await startServer({
    config: configSchema.parse({ port: 0, logLevel: 'silent', home: mkdtempSync(join(tmpdir(), 'agiqa-streamed-')), policy: { thresholds: { overall: 2.5 } } }),
    scorer,
    logger: pino({ level: 'silent' }),
    listPacks: async () => [],
  });
  running.push(server);
  return { server, scorer };
}

// Each part is written with the delimiter that closes it, as the node pack sends them: the server knows a
// frame is complete as soon as its bytes are in, not when the next part begins.
const BOUNDARY = 'streamed-test';
const open = Buffer.from(`--${BOUNDARY}`);
const field = (name: string, value: string) => Buffer.from(`\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n--${BOUNDARY}`);
const frame = (name: string, bytes: Uint8Array) =>
  Buffer.concat([Buffer.from(`\r\nContent-Disposition: form-data; name="pixels"; filename="${name}"\r\nContent-Type: application/octet-stream\r\n\r\n`), bytes, Buffer.from(`\r\n--${BOUNDARY}`)]);
const tail = Buffer.from('--\r\n');
/** A 2×2 RGB frame whose last byte steers the stand-in scorer's MOS. */
const pixels = (seed: number, mosTimesTen: number) => Uint8Array.from([seed, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, mosTimesTen]);
const layout = Buffer.concat([open, field('width', '2'), field('height', '2'), field('channels', '3')]);
const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function streamed(server: RunningServer, pieces: Buffer[], gapMs: number) {
  const length = pieces.reduce((sum, piece) => sum + piece.length, 0);
  const request = await rawRequest(server.url, { path: '/v1/rank', headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}`, 'content-length': length, connection: 'close' } });
  for (const piece of pieces) {
    request.socket.write(piece);
    await wait(gapMs);
  }
  return request.answer;
}

describe('POST /v1/rank, raw frames as they arrive', () => {
  it('starts scoring the first frame while the next are still on their way, and ranks the batch as before', async () => {
    const { server, scorer } = await start();
    const pieces = [Buffer.concat([layout, field('prompt', 'a cat')]), frame('f0', pixels(1, 10)), frame('f1', pixels(2, 40)), Buffer.concat([frame('f2', pixels(3, 30)), tail])];
    const length = pieces.reduce((sum, piece) => sum + piece.length, 0);
    const request = await rawRequest(server.url, { path: '/v1/rank', headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}`, 'content-length': length, connection: 'close' } });
    request.socket.write(pieces[0]!);
    request.socket.write(pieces[1]!);
    await wait(20);
    expect(scorer.calls).toBe(1); // frame 0 is on the worker before frame 1 was sent
    request.socket.write(pieces[2]!);
    request.socket.write(pieces[3]!);
    const answer = await request.answer;
    expect(answer?.status).toBe(200);
    const body = rankResponseSchema.parse(answer!.body);
    expect(body.order).toEqual([1, 2, 0]);
    expect(body.items.map((item) => item.rank)).toEqual([3, 1, 2]);
    expect(scorer.calls).toBe(3);
    const generations = (await (await fetch(`${server.url}/v1/generations`)).json()) as any;
    expect(generations.generations.map((generation: any) => generation.prompt)).toEqual(['a cat', 'a cat', 'a cat']);
    expect(server.service.load.inFlight).toBe(0);
  });

  it('a malformed third frame: refused with its code, the two started frames finish on the worker, nothing stored, no slot kept', async () => {
    const { server, scorer } = await start(80);
    const bad = Uint8Array.from([1, 2, 3, 4, 5]); // 5 bytes where 2×2×3 needs 12
    const answer = await streamed(server, [layout, frame('f0', pixels(4, 10)), frame('f1', pixels(5, 20)), Buffer.concat([frame('f2', bad), tail])], 5);
    expect(answer?.status).toBe(422);
    expect(answer?.body.error.code).toBe('AGQ_ERR_IMAGE_RAW_LAYOUT');
    expect(scorer.calls).toBe(2);
    await server.service.drain(2_000);
    expect(scorer.inFlight).toBe(0);
    expect(server.service.load.inFlight).toBe(0);
    expect(await server.store.listGenerations()).toHaveLength(0);
    expect(await server.store.eventsSince(0)).toHaveLength(0);
  });

  it('refuses a field that steers scoring when it comes after frames already scored with it', async () => {
    const { server } = await start(10);
    const answer = await streamed(server, [layout, frame('f0', pixels(6, 10)), Buffer.concat([field('prompt', 'a dog'), tail])], 5);
    expect(answer?.status).toBe(400);
    expect(answer?.body.error.code).toBe('AGQ_ERR_INVALID_INPUT');
    expect(answer?.body.error.message).toContain('prompt: came after the first frame');
    await server.service.drain(2_000);
    expect(await server.store.listGenerations()).toHaveLength(0);
  });

  it('a field that only steers the rank (topK) may come last', async () => {
    const { server } = await start(10);
    const answer = await streamed(server, [layout, frame('f0', pixels(7, 10)), frame('f1', pixels(8, 40)), Buffer.concat([field('topK', '1'), tail])], 5);
    expect(answer?.status).toBe(200);
    expect(answer?.body.topK).toEqual([1]);
  });

  it("stores the batch's ComfyUI prompt and node ids with every frame, found through /v1/generations?promptId=&node=", async () => {
    const { server } = await start(5);
    const ids = Buffer.concat([field('promptId', 'prompt-7f3a'), field('node', '12')]);
    const answer = await streamed(server, [layout, ids, frame('f0', pixels(9, 10)), Buffer.concat([frame('f1', pixels(10, 40)), tail])], 2);
    expect(answer?.status).toBe(200);
    const found = (await (await fetch(`${server.url}/v1/generations?promptId=prompt-7f3a&node=12`)).json()) as any;
    expect(found.generations).toHaveLength(2);
    expect(found.generations.map((generation: any) => generation.external)).toEqual([
      { promptId: 'prompt-7f3a', node: '12', filename: null },
      { promptId: 'prompt-7f3a', node: '12', filename: null },
    ]);
    expect(((await (await fetch(`${server.url}/v1/generations?promptId=other`)).json()) as any).generations).toHaveLength(0);
    expect(((await (await fetch(`${server.url}/v1/generations?promptId=prompt-7f3a&node=13`)).json()) as any).generations).toHaveLength(0);
    // A file name names one image, not the batch.
    const refused = await streamed(server, [layout, field('filename', 'a.png'), Buffer.concat([frame('f2', pixels(11, 10)), tail])], 2);
    expect(refused?.status).toBe(400);
    expect(refused?.body.error.message).toContain('filename: unknown field');
  });
});
