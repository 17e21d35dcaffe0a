// The bridges as `agiqa serve` runs them: inside the real server, publishing on /v1/events and
// serving the batch ranking behind the server's auth.
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startComfyBridges, type RunningBridges } from '../../../src/bridges/comfyui/index.js';
import { comfyuiConfigSchema, configSchema } from '../../../src/config/index.js';
import { startServer, type RunningServer } from '../../../src/server/index.js';
import { harness, mainGraph, waitFor, type Harness } from './harness.js';

const TOKEN = 'test-token-0123456789';
let h: Harness;
let server: RunningServer | null = null;
let bridges: RunningBridges | null = null;
afterEach(async () => {
  await bridges?.stop();
  await server?.close();
  await h.double.stop();
  bridges = null;
  server = null;
});

describe('startComfyBridges', () => {
  it('scores a ComfyUI output inside the server: event on /v1/events, ranking behind the token', async () => {
    h = await harness({ mos: (request) => [4.2, 1.1][request.index]! });
    const config = configSchema.parse({ port: 0, logLevel: 'silent', home: h.home, token: TOKEN, comfyui: [{ url: h.double.url }] });
    server = await startServer({ config, scorer: h.scorer, store: h.store, logger: pino({ level: 'silent' }), listPacks: async () => [] });
    bridges = await startComfyBridges({
      instances: config.comfyui,
      pipeline: server.service,
      store: server.store,
      logger: h.logs,
    });
    expect(comfyuiConfigSchema.parse({ url: h.double.url })).toEqual(config.comfyui[0]);
    const events: { type: string; data?: { external?: { promptId?: string } } }[] = [];
    const socket = new WebSocket(`${server.url.replace('http', 'ws')}/v1/events?token=${TOKEN}`);
    socket.on('message', (data) => events.push(JSON.parse(data.toString()) as (typeof events)[number]));
    await waitFor(() => events.some((e) => e.type === 'stream.ready'), 'the event stream');
    await waitFor(() => h.double.connectedClients().length === 1, 'the bridge socket');

    const promptId = h.double.submit(mainGraph('two cats', 2), 'browser');
    await waitFor(() => events.filter((e) => e.type === 'generation.scored').length === 2, 'two scored events');
    socket.close();
    expect(events.filter((e) => e.type === 'generation.scored').map((e) => e.data?.external?.promptId)).toEqual([promptId, promptId]);

    const unauthorised = await fetch(`${server.url}/v1/comfyui/prompts/${promptId}/ranking`);
    expect(unauthorised.status).toBe(401);
    const ranking = (await (await fetch(`${server.url}/v1/comfyui/prompts/${promptId}/ranking`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as {
      batches: { topK: { filename: string; mos: number }[] }[];
    };
    expect(ranking.batches[0]!.topK.map((o) => [o.filename, o.mos])).toEqual([['bridge_test_00001_.png', 4.2]]);
    // Bridge images go through the server's pipeline: counted like uploads, nothing left admitted.
    const metrics = await (await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
    expect(metrics).toMatch(/agiqa_scores_total\{verdict="accept"\} 1\n/);
    expect(metrics).toMatch(/agiqa_scores_total\{verdict="reject"\} 1\n/);
    expect(metrics).toMatch(/agiqa_scoring_in_flight 0\n/);
  });
});
