// PUT /v1/generations/:id/file links a saved file to its generation (ComfyUI's Save image with score).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { configSchema } from '../../../src/config/index.js';
import { startServer, type RunningServer } from '../../../src/server/index.js';
import { FakeScorer } from '../../fixtures/server/fake-scorer.js';

const running: RunningServer[] = [];
afterEach(async () => {
  for (const server of running.splice(0)) await server.close();
});

describe('PUT /v1/generations/:id/file', () => {
  it('sets external.filename and the file reference, and refuses what it cannot link', async () => {
    const server = await startServer({ config: configSchema.parse({ port: 0, logLevel: 'silent', home: mkdtempSync(join(tmpdir(), 'agiqa-link-')) }), scorer: new FakeScorer(), logger: pino({ level: 'silent' }), listPacks: async () => [] });
    running.push(server);
    await new Promise((resolve) => setImmediate(resolve));
    const scored = (await (await fetch(`${server.url}/v1/score`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ image: Buffer.from([1, 2, 3, 40]).toString('base64') }) })).json()) as { generationId: number };
    const put = (id: string | number, body: unknown) => fetch(`${server.url}/v1/generations/${id}/file`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const linked = await put(scored.generationId, { filename: 'run_3.20_00001_.png', file: 'agiqa/run_3.20_00001_.png' });
    expect(linked.status).toBe(200);
    expect(await linked.json()).toMatchObject({ external: { filename: 'run_3.20_00001_.png' }, image: { file: 'agiqa/run_3.20_00001_.png' } });
    const found = (await (await fetch(`${server.url}/v1/generations`)).json()) as { generations: { external: { filename: string } }[] };
    expect(found.generations[0]!.external.filename).toBe('run_3.20_00001_.png');
    expect((await put(9999, { filename: 'x.png' })).status).toBe(404);
    const bad = await put(scored.generationId, { filename: '', extra: 1 });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/filename.*extra|extra.*filename/s);
    expect((await put('abc', { filename: 'x.png' })).status).toBe(400);
  });
});
