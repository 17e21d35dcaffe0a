// The watcher end to end against the ComfyUI double: foreign prompts seen through `status` + /history,
// each output scored once with its prompt and ComfyUI ids, and the faults of issue 6.
import express from 'express';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { comfyRouter, promptRankingSchema, QUARANTINE_FOLDER } from '../../../src/bridges/comfyui/index.js';
import { extractComfyPrompts } from '../../../src/prompts/index.js';
import { errorGraph, harness, mainGraph, samplerGraph, waitFor, type Harness } from './harness.js';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const BROWSER = 'browser-0000';

async function outputs(): Promise<{ scored: number; failed: number }> {
  return h.store.comfyui.outputCount(h.double.url);
}

describe('ComfyBridge', () => {
  it('scores a prompt queued by another client once, with its prompt, ComfyUI ids and event', async () => {
    h = await harness();
    const bridge = await h.bridge();
    await waitFor(() => h.double.connectedClients().includes(bridge.clientId), 'the bridge socket');
    const graph = mainGraph();
    const promptId = h.double.submit(graph, BROWSER);
    await waitFor(async () => (await outputs()).scored === 1, 'one scored output');
    await bridge.idle();

    // Only the SaveImage output (type output) is scored by default, not the PreviewImage temp file.
    expect(h.scorer.requests.map((r) => r.name)).toEqual(['bridge_test_00001_.png']);
    const expected = extractComfyPrompts(graph);
    expect(h.scorer.requests[0]!.prompt).toBe(expected.positive ?? undefined);
    const [generation] = await h.store.listGenerations();
    expect(generation!.source).toBe('comfyui');
    expect(generation!.external).toEqual({ promptId, node: '9', filename: 'bridge_test_00001_.png' });
    expect(h.events.map((e) => e.type)).toEqual(['generation.scored']);
    expect((await h.store.comfyui.handledPrompts(h.double.url)).has(promptId)).toBe(true);
    // Without the node pack ComfyUI answers 404 on /agiqa/verdict: said once, scoring unaffected.
    expect(h.logs.find('no /agiqa/verdict route')).toHaveLength(1);
  });

  it('a graph without a text encoder sends no prompt, so the scorer falls back to the PNG chunk', async () => {
    h = await harness();
    const bridge = await h.bridge();
    await waitFor(() => h.double.connectedClients().includes(bridge.clientId), 'the bridge socket');
    h.double.submit({ '1': { class_type: 'EmptyImage', inputs: { width: 8, height: 8, batch_size: 1, color: 0 } }, '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 'plain' } } }, BROWSER);
    await waitFor(async () => (await outputs()).scored === 1, 'one scored output');
    expect(h.scorer.requests[0]!.name).toBe('plain_00001_.png');
    expect(h.scorer.requests[0]!.prompt).toBeUndefined();
    expect((await h.store.listGenerations())[0]!.prompt).toBeNull();
  });

  it('pushes each verdict to the node pack route with the ComfyUI ids', async () => {
    h = await harness({ verdictRoute: true, mos: () => 1.5 });
    const bridge = await h.bridge();
    await waitFor(() => h.double.connectedClients().includes(bridge.clientId), 'the bridge socket');
    const promptId = h.double.submit(mainGraph(), BROWSER);
    await waitFor(() => h.double.verdicts.length === 1, 'a verdict push');
    expect(h.double.verdicts[0]).toMatchObject({ prompt_id: promptId, node: '9', filename: 'bridge_test_00001_.png', subfolder: '', type: 'output', verdict: 'reject', mos: 1.5, rank: 1 });
  });

  it('reads /history when the queue shrinks, not when a prompt is queued or taken to run', async () => {
    h = await harness();
    const bridge = await h.bridge();
    // Connecting reads history twice: on open, and on the first status (nothing to compare it with).
    await waitFor(() => bridge.getStats().catchUps === 2, 'the connect catch-ups');
    await bridge.idle();
    const historyReads = () => h.double.requests.filter((r) => r.startsWith('GET /history?')).length;
    const before = historyReads();
    h.double.hold();
    const promptId = h.double.submit(mainGraph(), BROWSER);
    await waitFor(() => h.double.runningPromptId === promptId, 'the running prompt');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(historyReads()).toBe(before);
    h.double.release();
    await waitFor(async () => (await outputs()).scored === 1, 'the output');
    expect(historyReads()).toBeGreaterThan(before);
  });

  it('ComfyUI not running at start: retries quietly, then catches up once it answers', async () => {
    h = await harness();
    const port = h.double.port;
    await h.double.stop();
    const bridge = await h.bridge();
    await waitFor(() => h.logs.find('not reachable').length > 0, 'the unreachable log');
    expect(h.logs.find('not reachable')[0]!.level).toBe('info');
    expect(h.logs.entries.filter((e) => e.level === 'error')).toEqual([]);
    await h.double.start(port);
    await waitFor(() => h.double.connectedClients().includes(bridge.clientId), 'the bridge socket');
    h.double.submit(mainGraph(), BROWSER);
    await waitFor(async () => (await outputs()).scored === 1, 'one scored output');
  });

  it('ComfyUI restarted mid-run (1006, history lost): nothing rescored, the prompt after the restart scored', async () => {
    h = await harness();
    const bridge = await h.bridge();
    await waitFor(() => h.double.connectedClients().includes(bridge.clientId), 'the bridge socket');
    h.double.submit(mainGraph('before the restart'), BROWSER);
    await waitFor(async () => (await outputs()).scored === 1, 'the first output');
    h.double.hold();
    const vanishing = h.double.submit(mainGraph('in flight during the restart'), BROWSER);
    await waitFor(() => h.double.runningPromptId === vanishing, 'the in-flight prompt');
    await h.double.restart(100);
    await waitFor(() => h.logs.find('socket closed').some((e) => e.fields.code === 1006), 'the 1006 close');
    await waitFor(() => h.double.connectedClients().includes(bridge.clientId), 'the reconnect');
    h.double.submit(mainGraph('after the restart'), BROWSER);
    await waitFor(async () => (await outputs()).scored === 2, 'the output after the restart');
    await bridge.idle();
    expect([...h.scorer.countsByName().values()].every((n) => n === 1)).toBe(true);
    expect(h.scorer.requests.map((r) => r.prompt)).not.toContain(expect.stringContaining('in flight'));
  });

  it('socket dropped during a prompt: the missed status is recovered from /history after reconnecting', async () => {
    h = await harness();
    const bridge = await h.bridge();
    await waitFor(() => h.double.connectedClients().includes(bridge.clientId), 'the bridge socket');
    h.double.faults.refuseSockets = true;
    h.double.hold();
    const promptId = h.double.submit(mainGraph('dropped'), BROWSER);
    await waitFor(() => h.double.runningPromptId === promptId, 'the running prompt');
    h.double.dropSocket(bridge.clientId);
    h.double.release();
    await h.double.drained();
    // The prompt finished while the bridge had no socket: its final `status` went nowhere.
    expect(await outputs()).toEqual({ scored: 0, failed: 0 });
    h.double.faults.refuseSockets = false;
    await waitFor(async () => (await outputs()).scored === 1, 'the recovered output');
    expect(h.scorer.requests).toHaveLength(1);
  });

  it("reconnect during the bridge's own prompt: `executing` without prompt_id is understood, the prompt scored once", async () => {
    h = await harness();
    const bridge = await h.bridge();
    await waitFor(() => h.double.connectedClients().includes(bridge.clientId), 'the bridge socket');
    // Hold the worker once the first node runs, so the prompt is mid-run with a current node.
    h.double.once('node', () => h.double.hold());
    const promptId = h.double.submit(mainGraph('own prompt'), bridge.clientId);
    await waitFor(() => h.double.runningPromptId === promptId && h.double.sent.some((f) => f.type === 'executing' && f.data.node === '1'), 'the first node');
    h.double.dropSocket(bridge.clientId);
    await waitFor(() => h.logs.find('connected to ComfyUI').length === 2, 'the reconnect');
    await waitFor(() => h.double.sent.some((f) => f.clientId === bridge.clientId && f.type === 'executing' && !('prompt_id' in f.data)), 'executing without prompt_id');
    h.double.release();
    await waitFor(async () => (await outputs()).scored === 1, 'the output');
    await bridge.idle();
    expect(h.logs.find('does not understand')).toEqual([]);
    expect(h.scorer.requests).toHaveLength(1);
  });

  it('the same prompt submitted twice (cached, old file names repeated): scored once', async () => {
    h = await harness();
    const bridge = await h.bridge();
    await waitFor(() => h.double.connectedClients().includes(bridge.clientId), 'the bridge socket');
    const first = h.double.submit(mainGraph(), BROWSER);
    await waitFor(async () => (await h.store.comfyui.handledPrompts(h.double.url)).has(first), 'the first prompt');
    const second = h.double.submit(mainGraph(), BROWSER);
    await waitFor(async () => (await h.store.comfyui.handledPrompts(h.double.url)).has(second), 'the cached prompt');
    await bridge.idle();
    const entry = h.double.history.get(second) as { outputs: Record<string, { images: { filename: string }[] }> };
    expect(entry.outputs['9']!.images[0]!.filename).toBe('bridge_test_00001_.png');
    expect(h.scorer.requests).toHaveLength(1);
    expect(await outputs()).toEqual({ scored: 1, failed: 0 });
  });

  it('an error in the workflow is logged with its node, and the next prompt is scored', async () => {
    h = await harness();
    const bridge = await h.bridge();
    await waitFor(() => h.double.connectedClients().includes(bridge.clientId), 'the bridge socket');
    const failed = h.double.submit(errorGraph(), BROWSER);
    h.double.submit(mainGraph(), BROWSER);
    await waitFor(async () => (await outputs()).scored === 1, 'the good output');
    await waitFor(async () => (await h.store.comfyui.handledPrompts(h.double.url)).has(failed), 'the failed prompt handled');
    const warning = h.logs.find('ended without success');
    expect(warning).toHaveLength(1);
    expect(warning[0]!.fields).toMatchObject({ promptId: failed, status: 'error', event: 'execution_error', node: '4', nodeType: 'SaveImage' });
    expect(h.scorer.requests).toHaveLength(1);
  });

  it('50 prompts queued by another client while the bridge is disconnected: all scored exactly once', async () => {
    h = await harness();
    const bridge = await h.bridge({ historyPageSize: 8 });
    await waitFor(() => h.double.connectedClients().includes(bridge.clientId), 'the bridge socket');
    h.double.faults.refuseSockets = true;
    h.double.dropSocket(bridge.clientId);
    await waitFor(() => !h.double.connectedClients().includes(bridge.clientId), 'the drop');
    for (let i = 0; i < 50; i += 1) h.double.submit(mainGraph(`prompt number ${i}`), BROWSER);
    await h.double.drained();
    expect(h.scorer.requests).toHaveLength(0);
    h.double.faults.refuseSockets = false;
    await waitFor(async () => (await outputs()).scored === 50, '50 scored outputs');
    await bridge.idle();
    const counts = h.scorer.countsByName();
    expect(counts.size).toBe(50);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    expect((await h.store.comfyui.handledPrompts(h.double.url)).size).toBe(50);
  });

  it('an image that fails to decode is logged with its ids; the rest of the batch goes on', async () => {
    h = await harness({ override: (request) => (request.index === 1 && request.node === '9' ? new Uint8Array([1, 2, 3, 4]) : null) });
    const bridge = await h.bridge();
    await waitFor(() => h.double.connectedClients().includes(bridge.clientId), 'the bridge socket');
    const promptId = h.double.submit(mainGraph('batch of three', 3), BROWSER);
    await waitFor(async () => (await h.store.comfyui.handledPrompts(h.double.url)).has(promptId), 'the prompt handled');
    expect(await outputs()).toEqual({ scored: 2, failed: 1 });
    const logged = h.logs.find('could not be scored');
    expect(logged).toHaveLength(1);
    expect(logged[0]!.fields).toMatchObject({ promptId, node: '9', filename: 'bridge_test_00002_.png', type: 'output', code: 'AGQ_ERR_IMAGE_CORRUPT' });
    // A permanent failure is recorded, never retried.
    await bridge.requestCatchUp();
    await bridge.idle();
    expect(h.scorer.requests).toHaveLength(3);
  });

  it('404 on /view: recorded as missing with its ids, the other images scored', async () => {
    h = await harness();
    const bridge = await h.bridge();
    await waitFor(() => h.double.connectedClients().includes(bridge.clientId), 'the bridge socket');
    h.double.faults.missingView.add('bridge_test_00001_.png');
    const promptId = h.double.submit(mainGraph('two images', 2), BROWSER);
    await waitFor(async () => (await h.store.comfyui.handledPrompts(h.double.url)).has(promptId), 'the prompt handled');
    expect(await outputs()).toEqual({ scored: 1, failed: 1 });
    expect(h.logs.find('could not be scored')[0]!.fields).toMatchObject({ promptId, filename: 'bridge_test_00001_.png', code: 'AGQ_ERR_COMFYUI_IMAGE_MISSING' });
  });

  it('a transient failure (ComfyUI 5xx on /view) is retried by id, even once newer prompts hide it from the history page', async () => {
    h = await harness();
    const bridge = await h.bridge({ historyPageSize: 1 });
    await waitFor(() => h.double.connectedClients().includes(bridge.clientId), 'the bridge socket');
    h.double.faults.viewStatus.set('bridge_test_00001_.png', 503);
    const first = h.double.submit(mainGraph('first'), BROWSER);
    await waitFor(() => h.logs.find('will retry').length === 1, 'the transient failure');
    const second = h.double.submit(mainGraph('second'), BROWSER);
    await waitFor(async () => (await h.store.comfyui.handledPrompts(h.double.url)).has(second), 'the second prompt');
    await bridge.idle();
    // ComfyUI serves the file again; the next catch-up's first page holds only the handled second prompt.
    h.double.faults.viewStatus.clear();
    h.double.dropSocket(bridge.clientId);
    await waitFor(async () => (await h.store.comfyui.handledPrompts(h.double.url)).has(first), 'the retried prompt');
    expect(await outputs()).toEqual({ scored: 2, failed: 0 });
    expect(h.scorer.requests.map((r) => r.name).sort()).toEqual(['bridge_test_00001_.png', 'bridge_test_00002_.png']);
  });

  it('a transient failure is retried on a timer while ComfyUI stays idle (no status, no reconnect)', async () => {
    h = await harness();
    const bridge = await h.bridge({ retryMs: 20 });
    await waitFor(() => h.double.connectedClients().includes(bridge.clientId), 'the bridge socket');
    h.double.faults.viewStatus.set('bridge_test_00001_.png', 503);
    const promptId = h.double.submit(mainGraph('idle afterwards'), BROWSER);
    await waitFor(() => h.logs.find('will retry').length >= 1, 'the transient failure');
    h.double.faults.viewStatus.clear();
    await waitFor(async () => (await h.store.comfyui.handledPrompts(h.double.url)).has(promptId), 'the retried prompt');
    expect(await outputs()).toEqual({ scored: 1, failed: 0 });
  });

  it('bridge restart: the persisted cursor neither rescores nor misses', async () => {
    h = await harness();
    const first = await h.bridge();
    await waitFor(() => h.double.connectedClients().includes(first.clientId), 'the first bridge socket');
    h.double.submit(mainGraph('one'), BROWSER);
    h.double.submit(mainGraph('two'), BROWSER);
    await waitFor(async () => (await outputs()).scored === 2, 'two outputs');
    await first.stop();
    for (const text of ['three', 'four', 'five']) h.double.submit(mainGraph(text), BROWSER);
    await h.double.drained();
    const second = await h.bridge();
    await waitFor(async () => (await outputs()).scored === 5, 'five outputs');
    await second.idle();
    expect(h.scorer.requests).toHaveLength(5);
    expect(new Set(h.scorer.requests.map((r) => r.name)).size).toBe(5);
  });
});

type Entry = { prompt: [number, string, Record<string, { class_type: string; inputs: Record<string, unknown> }>, Record<string, unknown>] };

describe('ComfyBridge feedback', () => {
  it('regenerates a rejected prompt with a new seed under its own client id, records lineage, stops once one passes', async () => {
    // The original seed 1 makes a bad image; any other seed a good one.
    h = await harness({ mos: (request) => (request.graph['3']!.inputs.seed === 1 ? 1 : 4) });
    const bridge = await h.bridge({ regenerate: true, random: () => 0.5 });
    await waitFor(() => h.double.connectedClients().includes(bridge.clientId), 'the bridge socket');
    const original = h.double.submit(samplerGraph(1), BROWSER);
    await waitFor(async () => (await outputs()).scored === 2, 'the original and its regeneration');
    await bridge.idle();
    expect(h.double.history.size).toBe(2);
    const regenerated = [...h.double.history.entries()][1] as [string, Entry];
    expect(regenerated[1].prompt[3].client_id).toBe(bridge.clientId);
    expect(regenerated[1].prompt[2]['3']!.inputs.seed).not.toBe(1);
    const lineage = await h.store.comfyui.lineage(h.double.url, regenerated[0]);
    expect(lineage).toMatchObject({ rootPromptId: original, parentPromptId: original, attempt: 1, status: 'success' });
    const [child, parent] = await h.store.listGenerations();
    expect(child!.parentId).toBe(parent!.id);
    expect(child!.scores[0]!.verdict!.verdict).toBe('accept');
    expect(parent!.scores[0]!.verdict!.verdict).toBe('reject');
    expect(bridge.getStats().regenerated).toBe(1);
  });

  it('spends at most maxRegenerations per original prompt, then keeps the best attempt', async () => {
    h = await harness({ mos: () => 1 });
    const bridge = await h.bridge({ regenerate: true, policy: { thresholds: { overall: 2.5 }, maxRegenerations: 2 } });
    await waitFor(() => h.double.connectedClients().includes(bridge.clientId), 'the bridge socket');
    const original = h.double.submit(samplerGraph(7), BROWSER);
    await waitFor(() => h.logs.find('budget spent').length === 1, 'the exhausted budget');
    await bridge.idle();
    expect(await h.store.comfyui.regenerationCount(h.double.url, original)).toBe(2);
    expect(h.double.history.size).toBe(3);
    expect(await outputs()).toEqual({ scored: 3, failed: 0 });
  });

  it('500 on /prompt: the regeneration is logged and does not count against the budget', async () => {
    h = await harness({ mos: () => 1 });
    const bridge = await h.bridge({ regenerate: true });
    await waitFor(() => h.double.connectedClients().includes(bridge.clientId), 'the bridge socket');
    h.double.faults.promptFailures = 1;
    const original = h.double.submit(samplerGraph(3), BROWSER);
    await waitFor(() => h.logs.find('refused the regenerated prompt').length === 1, 'the refused regeneration');
    await bridge.idle();
    expect(h.logs.find('refused the regenerated prompt')[0]!.fields.err).toContain('HTTP 500');
    expect(await h.store.comfyui.regenerationCount(h.double.url, original)).toBe(0);
    expect(h.double.history.size).toBe(1);
  });

  it('a graph without a seed input is scored but never re-queued', async () => {
    h = await harness({ mos: () => 1 });
    const bridge = await h.bridge({ regenerate: true });
    await waitFor(() => h.double.connectedClients().includes(bridge.clientId), 'the bridge socket');
    h.double.submit(mainGraph(), BROWSER);
    await waitFor(() => h.logs.find('no seed to change').length === 1, 'the no-seed log');
    expect(h.double.history.size).toBe(1);
  });

  it('reranks a batch, stores the order and serves the top-k', async () => {
    const moses = [2.8, 4.6, 1.2, 3.9];
    h = await harness({ mos: (request) => moses[request.index]! });
    const policy = { thresholds: { overall: 2.5 }, topK: 2 };
    const bridge = await h.bridge({ policy });
    await waitFor(() => h.double.connectedClients().includes(bridge.clientId), 'the bridge socket');
    const promptId = h.double.submit(samplerGraph(5, 'four foxes', 4), BROWSER);
    await waitFor(async () => (await h.store.comfyui.handledPrompts(h.double.url)).has(promptId), 'the batch');

    const app = express();
    app.use(comfyRouter(h.store, policy));
    app.use((error: { status?: number; code?: string }, _request: express.Request, response: express.Response, _next: express.NextFunction) => {
      response.status(error.status ?? 500).json({ error: { code: error.code } });
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const body = promptRankingSchema.parse(await (await fetch(`${base}/v1/comfyui/prompts/${promptId}/ranking`)).json());
      expect(body.batches).toHaveLength(1);
      expect(body.batches[0]!.order.map((o) => [o.batchIndex, o.rank, o.mos])).toEqual([
        [1, 1, 4.6],
        [3, 2, 3.9],
        [0, 3, 2.8],
        [2, 4, 1.2],
      ]);
      // 2.8 meets the threshold but is outside the top 2.
      expect(body.batches[0]!.order.map((o) => o.verdict?.verdict)).toEqual(['accept', 'accept', 'reject', 'reject']);
      expect(body.batches[0]!.topK.map((o) => o.batchIndex)).toEqual([1, 3]);
      const one = (await (await fetch(`${base}/v1/comfyui/prompts/${promptId}/ranking?k=1`)).json()) as { batches: { topK: unknown[] }[] };
      expect(one.batches[0]!.topK).toHaveLength(1);
      const unknown = await fetch(`${base}/v1/comfyui/prompts/nope/ranking`);
      expect(unknown.status).toBe(404);
      expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe('AGQ_ERR_COMFYUI_PROMPT_UNKNOWN');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('quarantine (opt-in): moves rejected outputs into agiqa-rejected/ inside the output folder and logs the moves', async () => {
    const outputDir = join(harnessHome(), 'output');
    mkdirSync(outputDir, { recursive: true });
    h = await harness({
      mos: (request) => (request.index === 0 ? 1 : 4),
      onImage: (request, bytes) => {
        if (request.node === '9') writeFileSync(join(outputDir, request.filename), bytes);
      },
    });
    const bridge = await h.bridge({ quarantineDir: outputDir });
    await waitFor(() => h.double.connectedClients().includes(bridge.clientId), 'the bridge socket');
    const promptId = h.double.submit(mainGraph('two images', 2), BROWSER);
    await waitFor(async () => (await h.store.comfyui.handledPrompts(h.double.url)).has(promptId), 'the batch');
    await bridge.idle();
    expect(existsSync(join(outputDir, 'bridge_test_00001_.png'))).toBe(false);
    expect(existsSync(join(outputDir, QUARANTINE_FOLDER, 'bridge_test_00001_.png'))).toBe(true);
    expect(existsSync(join(outputDir, 'bridge_test_00002_.png'))).toBe(true);
    const moves = readFileSync(join(outputDir, QUARANTINE_FOLDER, 'moves.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(moves).toHaveLength(1);
    expect(moves[0]).toMatchObject({ promptId, node: '9', from: join(outputDir, 'bridge_test_00001_.png'), to: join(outputDir, QUARANTINE_FOLDER, 'bridge_test_00001_.png') });
    const ranking = await h.store.comfyui.ranking(promptId);
    expect(ranking.find((o) => o.batchIndex === 0)!.quarantinedTo).toBe(join(outputDir, QUARANTINE_FOLDER, 'bridge_test_00001_.png'));
  });
});

function harnessHome(): string {
  return mkdtempSync(join(tmpdir(), 'agiqa-comfy-out-'));
}
