// The bridge with the real scorer (worker threads, decode, signals, ONNX): in-process on the tiny test
// pack, and as `agiqa serve --comfyui URL` (bin/agiqa.js → dist: run `npm run build` first) on the
// embedded lite pack, or on the tiny pack installed in AGIQA_HOME until the lite pack is there. A browser-queued prompt is scored,
// a damaged image is refused by the real decoder, and a server restart neither rescores nor misses.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startComfyBridges } from '../../src/bridges/comfyui/index.js';
import { configSchema } from '../../src/config/index.js';
import { createScorer } from '../../src/scoring/index.js';
import { startServer } from '../../src/server/index.js';
import { LogRecorder } from '../bridges/comfyui/harness.js';
import { makeTinyPack } from '../fixtures/datasets/tiny-pack.js';
import { ComfyDouble } from '../bridges/comfyui/comfyui-double.js';
import { mainGraph, waitFor } from '../bridges/comfyui/harness.js';
import { pngWithText } from '../bridges/comfyui/test-images.js';
import { killServeProcesses, ROOT, startServeProcess, type ServeProcess } from './serve-process.js';

const built = existsSync(join(ROOT, 'dist/bridges/comfyui/start.js'));
// The embedded lite pack once it is installed; until then the tiny test pack, installed in AGIQA_HOME.
const litePack = existsSync(join(ROOT, 'models/lite/pack.json'));
let double: ComfyDouble | null = null;

afterEach(async () => {
  killServeProcesses();
  await double?.stop();
});

function serve(home: string, comfyui: string): Promise<ServeProcess> {
  const pack = litePack ? [] : ['--pack', 'tiny-lite'];
  return startServeProcess(home, [...pack, '--comfyui', comfyui]);
}

type Generation = { source: string; external: { promptId: string | null; filename: string | null }; scores: { pack: { name: string } }[] };
const comfyGenerations = async (url: string) =>
  ((await (await fetch(`${url}/v1/generations?limit=100`)).json()) as { generations: Generation[] }).generations.filter((g) => g.source === 'comfyui');

describe('ComfyUI bridge with the real scorer (tiny pack, in-process server)', () => {
  it('scores ComfyUI outputs through createScorer; a damaged image is logged with its ids', async () => {
    let colour = 1;
    double = new ComfyDouble({
      makeImage: async ({ graph, index }) => (index === 1 ? new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]) : pngWithText((colour += 40_000), { prompt: JSON.stringify(graph) }, 96)),
    });
    await double.start();
    const home = mkdtempSync(join(tmpdir(), 'agiqa-e2e-comfy-tiny-'));
    const scorer = await createScorer({ packDir: await makeTinyPack(join(home, 'tiny-lite')), pack: 'tiny-lite', workers: 1 });
    const config = configSchema.parse({ port: 0, logLevel: 'silent', home, comfyui: [{ url: double.url }] });
    const server = await startServer({ config, scorer, logger: pino({ level: 'silent' }), listPacks: async () => [] });
    const logs = new LogRecorder();
    const bridges = await startComfyBridges({ instances: config.comfyui, pipeline: server.service, store: server.store, logger: logs });
    try {
      await waitFor(() => double!.connectedClients().length === 1, 'the bridge socket', 30_000);
      const promptId = double.submit(mainGraph('a lighthouse at dusk', 3), 'browser');
      await waitFor(async () => (await server.store.comfyui.handledPrompts(double!.url)).has(promptId), 'the batch', 60_000);
      const generations = (await server.store.listGenerations()).filter((g) => g.source === 'comfyui');
      expect(generations).toHaveLength(2);
      for (const generation of generations) {
        expect(generation.scores[0]!.pack.name).toBe('tiny-lite');
        expect(generation.image).toMatchObject({ width: 96, height: 96 });
        expect(generation.prompt).toContain('a lighthouse at dusk');
      }
      const failure = logs.find('could not be scored');
      expect(failure).toHaveLength(1);
      expect(failure[0]!.fields).toMatchObject({ promptId, node: '9', filename: 'bridge_test_00002_.png', code: expect.stringMatching(/^AGQ_ERR_IMAGE_/) });
    } finally {
      await bridges.stop();
      await server.close();
    }
  }, 120_000);
});

describe.skipIf(!built)('agiqa serve --comfyui (real process; needs `npm run build`)', () => {
  it('scores a browser-queued ComfyUI prompt with the real scorer; a restart neither rescores nor misses', async () => {
    let colour = 1;
    double = new ComfyDouble({ makeImage: async ({ graph }) => pngWithText((colour += 40_000), { prompt: JSON.stringify(graph) }, 96) });
    await double.start();
    const home = mkdtempSync(join(tmpdir(), 'agiqa-e2e-comfy-'));
    if (!litePack) await makeTinyPack(join(home, 'models', 'tiny-lite'));
    const first = await serve(home, double.url);
    await waitFor(() => (first.alive(), double!.connectedClients().length === 1), 'the bridge socket', 60_000);
    const promptId = double.submit(mainGraph('a lighthouse at dusk'), 'browser');
    await waitFor(async () => (first.alive(), (await comfyGenerations(first.url)).length === 1), 'the scored output', 60_000);
    const [generation] = await comfyGenerations(first.url);
    expect(generation!.external).toMatchObject({ promptId, filename: 'bridge_test_00001_.png' });
    expect(generation!.scores[0]!.pack.name).toBe(litePack ? 'lite' : 'tiny-lite');
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    const missed = double.submit(mainGraph('queued while agiqa was down'), 'browser');
    await double.drained();
    const second = await serve(home, double.url);
    await waitFor(async () => (second.alive(), (await comfyGenerations(second.url)).length === 2), 'the missed output', 60_000);
    const all = await comfyGenerations(second.url);
    expect(all.map((g) => g.external.promptId).sort()).toEqual([promptId, missed].sort());
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  }, 180_000);
});
