// The dashboard's routes in-process with a stand-in scorer: settings (validation, persistence, applied
// at once, token, Origin), the feed's filters and paging, the prompt view, thumbnails, ComfyUI verdicts.
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { configSchema, type ConfigInput } from '../../../src/config/index.js';
import { feedResponseSchema, promptViewSchema } from '../../../src/server/dashboard-schemas.js';
import { startServer, type RunningServer } from '../../../src/server/index.js';
import { FakeScorer } from '../../fixtures/server/fake-scorer.js';
import { scoredPng } from '../../fixtures/server/dashboard-images.js';

const TOKEN = 'test-token-0123456789';
const running: RunningServer[] = [];
afterEach(async () => {
  for (const server of running.splice(0)) await server.close();
});

async function start(config: ConfigInput = {}): Promise<{ server: RunningServer; home: string }> {
  const home = config.home ?? mkdtempSync(join(tmpdir(), 'agiqa-dash-'));
  const server = await startServer({ config: configSchema.parse({ port: 0, logLevel: 'silent', ...config, home }), scorer: new FakeScorer(), logger: pino({ level: 'silent' }), listPacks: async () => [] });
  running.push(server);
  return { server, home };
}

async function call(server: RunningServer, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: any = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: response.status, body: parsed, headers: response.headers };
}

async function score(server: RunningServer, png: Buffer, query: Record<string, string> = {}) {
  const response = await fetch(`${server.url}/v1/score?${new URLSearchParams(query)}`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: new Uint8Array(png) });
  expect(response.status).toBe(200);
  return (await response.json()) as { generationId: number; verdict: { verdict: string } };
}

const SETTINGS = { policy: { thresholds: { overall: 3, quality: 2 }, keepAtLeast: 0, maxRegenerations: 5 }, comfyui: [] };

describe('GET/PUT /v1/settings', () => {
  it('shows the config, replaces it, persists it under AGIQA_HOME and applies it to the next verdict', async () => {
    const { server, home } = await start({ policy: { thresholds: { overall: 2.5 } } });
    const before = await call(server, 'GET', '/v1/settings');
    expect(before.body).toEqual({ policy: { thresholds: { overall: 2.5 }, keepAtLeast: 0, maxRegenerations: 3 }, comfyui: [] });
    expect((await score(server, await scoredPng({ mos: 2.8, prompt: 'a', seed: 1 }))).verdict.verdict).toBe('accept');

    const put = await call(server, 'PUT', '/v1/settings', SETTINGS);
    expect(put.status).toBe(200);
    expect(put.body.policy.thresholds).toEqual({ overall: 3, quality: 2 });
    expect(JSON.parse(readFileSync(join(home, 'settings.json'), 'utf8')).policy.maxRegenerations).toBe(5);
    // Same MOS, new threshold: rejected without a restart.
    expect((await score(server, await scoredPng({ mos: 2.8, prompt: 'a', seed: 2 }))).verdict.verdict).toBe('reject');

    await server.close();
    running.splice(running.indexOf(server), 1);
    const again = await start({ home, policy: { thresholds: { overall: 2.5 } } });
    expect((await call(again.server, 'GET', '/v1/settings')).body.policy.thresholds).toEqual({ overall: 3, quality: 2 });
  });

  it('refuses invalid settings with every problem named, and keeps the old ones', async () => {
    const { server, home } = await start();
    const bad = await call(server, 'PUT', '/v1/settings', { policy: { thresholds: { overall: 7, sharpness: 1 }, maxRegenerations: -1 }, comfyui: [{ url: 'localhost:8188', quarantine: true }] });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('AGQ_ERR_INVALID_INPUT');
    for (const field of ['policy.thresholds.overall', 'sharpness', 'policy.maxRegenerations', 'comfyui.0.url', 'outputDir']) expect(bad.body.error.message).toContain(field);
    expect((await call(server, 'PUT', '/v1/settings', '{"policy": ')).body.error.code).toBe('AGQ_ERR_SERVER_MALFORMED_JSON');
    expect((await call(server, 'PUT', '/v1/settings', undefined, { 'content-type': 'text/plain' })).status).toBe(415);
    expect((await call(server, 'PUT', '/v1/settings', { policy: { thresholds: {} }, comfyui: [], padding: 'x'.repeat(70_000) })).status).toBe(413);
    expect(existsSync(join(home, 'settings.json'))).toBe(false);
    expect((await call(server, 'GET', '/v1/settings')).body.policy.thresholds).toEqual({ overall: 2.5 });
  });

  it('requires the token when one is set and refuses other web origins, but not the page\'s own', async () => {
    const { server } = await start({ token: TOKEN });
    expect((await call(server, 'GET', '/v1/settings')).status).toBe(401);
    expect((await call(server, 'PUT', '/v1/settings', SETTINGS)).status).toBe(401);
    expect((await call(server, 'GET', '/v1/feed')).status).toBe(401);
    const auth = { authorization: `Bearer ${TOKEN}` };
    expect((await call(server, 'PUT', '/v1/settings', SETTINGS, { ...auth, origin: 'http://evil.example' })).body.error.code).toBe('AGQ_ERR_SERVER_ORIGIN_FORBIDDEN');
    const own = new URL(server.url).origin;
    expect((await call(server, 'PUT', '/v1/settings', SETTINGS, { ...auth, origin: own })).status).toBe(200);
    // The page shell has no data and loads without the token (it asks for it).
    expect([200, 404]).toContain((await call(server, 'GET', '/')).status);
  });

  it('refuses a foreign Host on a loopback bind even when Origin matches it (DNS rebinding)', async () => {
    const { server } = await start();
    const { request } = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      request(`${server.url}/v1/settings`, { method: 'PUT', headers: { host: 'attacker.example', origin: 'http://attacker.example', 'content-type': 'application/json' } }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      })
        .on('error', reject)
        .end(JSON.stringify(SETTINGS));
    });
    expect(status).toBe(403);
  });
});

describe('access rules, route by route', () => {
  it('every route in the OpenAPI document but health needs the token, and refuses foreign origins', async () => {
    const { server } = await start({ token: TOKEN });
    const auth = { authorization: `Bearer ${TOKEN}` };
    const document = (await call(server, 'GET', '/v1/openapi.json', undefined, auth)).body as { paths: Record<string, Record<string, unknown>> };
    const checked: string[] = [];
    for (const [template, methods] of Object.entries(document.paths)) {
      const path = template.replace('{id}', '1').replace('{sha256}', '0'.repeat(64)).replace('{promptId}', 'p');
      for (const method of Object.keys(methods).map((m) => m.toUpperCase())) {
        const body = method === 'GET' ? undefined : {};
        const anonymous = await call(server, method, path, body);
        if (template === '/v1/health') expect(anonymous.status).toBe(200);
        else expect([method, path, anonymous.status]).toEqual([method, path, 401]);
        const foreign = await call(server, method, path, body, { ...auth, origin: 'http://evil.example' });
        expect([method, path, foreign.status]).toEqual([method, path, 403]);
        checked.push(`${method} ${template}`);
      }
    }
    expect(checked).toEqual(expect.arrayContaining(['GET /v1/settings', 'PUT /v1/settings', 'GET /v1/feed', 'GET /v1/prompts/{id}', 'GET /v1/thumbnails/{sha256}', 'POST /v1/comfyui/verdicts', 'POST /v1/score']));
  });
});

describe('GET /v1/feed, /v1/prompts/:id, /v1/thumbnails/:sha256', () => {
  it('pages and filters the feed and sorts by any score', async () => {
    const { server } = await start();
    const ids: number[] = [];
    for (const [index, mos] of [1.2, 3.4, 2.6, 4.1, 0.8].entries()) ids.push((await score(server, await scoredPng({ mos, prompt: `prompt ${index}`, seed: index }), { source: index % 2 ? 'cli' : 'api' })).generationId);
    const all = feedResponseSchema.parse((await call(server, 'GET', '/v1/feed?limit=2')).body);
    expect(all.items.map((item) => item.id)).toEqual([ids[4], ids[3]]);
    expect(all.nextOffset).toBe(2);
    expect((await call(server, 'GET', '/v1/feed?limit=2&offset=4')).body.nextOffset).toBeNull();
    expect((await call(server, 'GET', '/v1/feed?sort=quality')).body.items.map((item: any) => item.aspects.quality.mos)).toEqual([4.1, 3.4, 2.6, 1.2, 0.8]);
    expect((await call(server, 'GET', '/v1/feed?sort=mos&order=asc')).body.items[0].mos).toBe(0.8);
    expect((await call(server, 'GET', '/v1/feed?verdict=reject')).body.items.map((item: any) => item.mos).sort()).toEqual([0.8, 1.2]);
    expect((await call(server, 'GET', '/v1/feed?source=cli')).body.items).toHaveLength(2);
    expect((await call(server, 'GET', '/v1/feed?aspect=quality&level=good')).body.items.map((item: any) => item.mos)).toEqual([3.4]);
    expect((await call(server, 'GET', `/v1/feed?from=${new Date(Date.now() + 60_000).toISOString()}`)).body.items).toEqual([]);
    const bad = await call(server, 'GET', '/v1/feed?sort=beauty&level=good&limit=0&colour=red');
    expect(bad.status).toBe(400);
    for (const field of ['sort', 'colour']) expect(bad.body.error.message).toContain(field);
    expect((await call(server, 'GET', '/v1/feed?aspect=quality')).status).toBe(400);
  });

  it('groups attempts at one prompt by its normalised text with lineage, diffs and recurring findings', async () => {
    const { server } = await start();
    const first = await score(server, await scoredPng({ mos: 1.5, prompt: 'a (red:1.2) car', seed: 11 }), { prompt: 'a (red:1.2) car' });
    const second = await score(server, await scoredPng({ mos: 2.5, prompt: 'a red car', seed: 12, steps: 30 }), { prompt: 'a red car', parentId: String(first.generationId) });
    await score(server, await scoredPng({ mos: 4.5, prompt: 'some other prompt', seed: 13 }), { prompt: 'some other prompt' });
    const third = await score(server, await scoredPng({ mos: 3.5, prompt: 'A red car,', seed: 14, cfg: 5 }), { prompt: 'A red car,' });
    await server.thumbnails.settled();
    const view = promptViewSchema.parse((await call(server, 'GET', `/v1/prompts/${second.generationId}`)).body);
    expect(view.promptKey).toBe('a red car');
    expect(view.attempts.map((attempt) => attempt.id)).toEqual([first.generationId, second.generationId, third.generationId]);
    expect(view.attempts.map((attempt) => attempt.aspects.quality?.mos)).toEqual([1.5, 2.5, 3.5]);
    expect(view.attempts[0]!.childIds).toEqual([second.generationId]);
    expect(view.bestId).toBe(third.generationId);
    expect(view.changes[0]!.params).toMatchObject({ seed: { from: 11, to: 12 }, steps: { from: 20, to: 30 } });
    expect(view.changes[1]!.params).toMatchObject({ seed: { from: 12, to: 14 }, cfg: { from: 7, to: 5 } });
    expect(view.changes[0]!.mosDelta).toBe(1);
    expect(view.changes[0]!.prompt.filter((part) => part.op === 'removed').map((part) => part.text).join('')).toContain(':1.2');
    expect((await call(server, 'GET', '/v1/prompts/999')).status).toBe(404);
    expect((await call(server, 'GET', '/v1/prompts/abc')).status).toBe(400);
  });

  it('serves a small WebP thumbnail made by the server, never the full image, within the disk bound', async () => {
    const { server, home } = await start();
    const png = await scoredPng({ mos: 3, prompt: 'x', seed: 3 });
    await score(server, png);
    await server.thumbnails.settled();
    const sha = (await call(server, 'GET', '/v1/feed')).body.items[0].image.sha256;
    const response = await fetch(`${server.url}/v1/thumbnails/${sha}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/webp');
    const bytes = Buffer.from(await response.arrayBuffer());
    expect(bytes.subarray(8, 12).toString('latin1')).toBe('WEBP');
    expect(statSync(join(home, 'thumbnails', sha.slice(0, 2), `${sha}.webp`)).size).toBe(bytes.length);
    expect((await call(server, 'GET', `/v1/thumbnails/${'0'.repeat(64)}`)).status).toBe(404);
    expect((await call(server, 'GET', '/v1/thumbnails/..%2F..%2Fagiqa.db')).status).toBe(400);
  });
});

describe('POST /v1/comfyui/verdicts', () => {
  it('answers the stored verdicts of many files in one request, null for unknown ones', async () => {
    const { server } = await start();
    const outputs = server.store.comfyui;
    const scored = await score(server, await scoredPng({ mos: 3.3, prompt: 'p', seed: 1 }));
    const generation = (await call(server, 'GET', `/v1/generations/${scored.generationId}`)).body;
    await outputs.recordOutput({ instance: 'http://127.0.0.1:8188', promptId: 'p1', node: '9', filename: 'ComfyUI_00001_.png', subfolder: '', type: 'output', batchIndex: 0, generationId: scored.generationId, scoreId: generation.scores[0].id, errorCode: null, rank: 1 });
    const answer = await call(server, 'POST', '/v1/comfyui/verdicts', { files: [{ filename: 'ComfyUI_00001_.png', subfolder: '', type: 'output' }, { filename: 'never.png' }] });
    expect(answer.status).toBe(200);
    expect(answer.body.verdicts[0]).toMatchObject({ generationId: scored.generationId, mos: 3.3, rank: 1, verdict: { verdict: 'accept' } });
    expect(answer.body.verdicts[1]).toBeNull();
    expect((await call(server, 'POST', '/v1/comfyui/verdicts', { files: [] })).status).toBe(400);
    expect((await call(server, 'POST', '/v1/comfyui/verdicts', { files: [{ filename: 'a.png' }] }, { origin: 'http://evil.example' })).status).toBe(403);
  });
});
