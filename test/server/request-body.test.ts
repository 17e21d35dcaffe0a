import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { readBody, readJson } from '../../src/server/request-body.js';
import { rawRequest } from '../fixtures/server/raw-http.js';
import { readerServer, type ReaderServer } from '../fixtures/server/reader-server.js';

let server: ReaderServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

describe('readBody', () => {
  it('reads a declared body whole and feeds the hash as the bytes arrive', async () => {
    server = await readerServer(async (request) => {
      const hash = createHash('sha256');
      const body = await readBody(request, 1_000, hash);
      return { length: body.length, sha256: hash.digest('hex'), same: createHash('sha256').update(body).digest('hex') };
    });
    const bytes = Buffer.from(Array.from({ length: 600 }, (_, index) => index % 251));
    const answer = (await (await fetch(server.url, { method: 'POST', body: bytes })).json()) as any;
    expect(answer.value).toEqual({ length: 600, sha256: createHash('sha256').update(bytes).digest('hex'), same: createHash('sha256').update(bytes).digest('hex') });
  });

  it('refuses a body over maxBytes by its Content-Length and, chunked, by count', async () => {
    server = await readerServer((request) => readBody(request, 100));
    const declared = await fetch(server.url, { method: 'POST', body: Buffer.alloc(101) });
    expect(((await declared.json()) as any).error.code).toBe('AGQ_ERR_SERVER_BODY_TOO_LARGE');
    const chunked = new ReadableStream({
      start(controller) {
        for (let index = 0; index < 3; index += 1) controller.enqueue(new Uint8Array(60));
        controller.close();
      },
    });
    const counted = await fetch(server.url, { method: 'POST', body: chunked, duplex: 'half' } as RequestInit);
    expect(((await counted.json()) as any).error.code).toBe('AGQ_ERR_SERVER_BODY_TOO_LARGE');
  });

  it('answers AGQ_ERR_SERVER_BODY_TIMEOUT when the body stops arriving', async () => {
    server = await readerServer((request) => readBody(request, 1_000, undefined, 80));
    const request = await rawRequest(server.url, { path: '/', headers: { 'content-length': 100 }, firstBytes: new Uint8Array(10) });
    const answer = await request.answer;
    expect(answer?.body.error.code).toBe('AGQ_ERR_SERVER_BODY_TIMEOUT');
  });

  it('rejects with AGQ_ERR_SERVER_REQUEST_ABORTED when the client leaves mid-body', async () => {
    let failure: Promise<unknown> = Promise.resolve();
    server = await readerServer((request) => {
      const reading = readBody(request, 1_000);
      failure = reading.catch((error: unknown) => error);
      return reading;
    });
    const request = await rawRequest(server.url, { path: '/', headers: { 'content-length': 100 }, firstBytes: new Uint8Array(10) });
    await new Promise((resolve) => setTimeout(resolve, 30));
    request.socket.destroy();
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(await failure).toMatchObject({ code: 'AGQ_ERR_SERVER_REQUEST_ABORTED' });
  });
});

describe('readJson', () => {
  it('parses JSON and refuses malformed JSON with AGQ_ERR_SERVER_MALFORMED_JSON', async () => {
    server = await readerServer((request) => readJson(request, 1_000));
    expect(((await (await fetch(server.url, { method: 'POST', body: '{"a":[1,2]}' })).json()) as any).value).toEqual({ a: [1, 2] });
    expect(((await (await fetch(server.url, { method: 'POST', body: '{"a":' })).json()) as any).error.code).toBe('AGQ_ERR_SERVER_MALFORMED_JSON');
  });
});
