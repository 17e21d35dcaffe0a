// `agiqa serve --comfyui URL` as a real process on the embedded lite pack (bin/agiqa.js → dist: run
// `npm run build` first), watching the ComfyUI double: a browser-queued prompt is scored by the real
// scorer, and a server restart neither rescores nor misses.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ComfyDouble } from '../bridges/comfyui/comfyui-double.js';
import { mainGraph, waitFor } from '../bridges/comfyui/harness.js';
import { pngWithText } from '../bridges/comfyui/test-images.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin/agiqa.js');
const ready = existsSync(join(ROOT, 'dist/bridges/comfyui/bridge.js')) && existsSync(join(ROOT, 'models/lite/pack.json'));
const children: ChildProcess[] = [];
let double: ComfyDouble | null = null;

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await double?.stop();
});

async function serve(home: string, comfyui: string): Promise<{ child: ChildProcess; url: string; exited: Promise<number | null> }> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('AGIQA_')));
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--comfyui', comfyui], {
    cwd: home,
    env: { ...clean, AGIQA_HOME: home, AGIQA_LOG_LEVEL: 'warn', AGIQA_WORKERS: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let err = '';
  child.stderr!.on('data', (chunk) => (err += String(chunk)));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk) => {
      out += String(chunk);
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match) resolve(match[1]!);
    });
    void exited.then((code) => reject(new Error(`agiqa serve exited with ${code}: ${err}`)));
  });
  return { child, url, exited };
}

type Generation = { source: string; external: { promptId: string | null; filename: string | null }; scores: { pack: { name: string } }[] };
const comfyGenerations = async (url: string) =>
  ((await (await fetch(`${url}/v1/generations?limit=100`)).json()) as { generations: Generation[] }).generations.filter((g) => g.source === 'comfyui');

describe.skipIf(!ready)('agiqa serve --comfyui (real process, lite pack)', () => {
  it('scores a browser-queued ComfyUI prompt with the lite pack; a restart neither rescores nor misses', async () => {
    let colour = 1;
    double = new ComfyDouble({ makeImage: async ({ graph }) => pngWithText((colour += 40_000), { prompt: JSON.stringify(graph) }, 96) });
    await double.start();
    const home = mkdtempSync(join(tmpdir(), 'agiqa-e2e-comfy-'));
    const first = await serve(home, double.url);
    await waitFor(() => double!.connectedClients().length === 1, 'the bridge socket', 60_000);
    const promptId = double.submit(mainGraph('a lighthouse at dusk'), 'browser');
    await waitFor(async () => (await comfyGenerations(first.url)).length === 1, 'the scored output', 60_000);
    const [generation] = await comfyGenerations(first.url);
    expect(generation!.external).toMatchObject({ promptId, filename: 'bridge_test_00001_.png' });
    expect(generation!.scores[0]!.pack.name).toBe('lite');
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    const missed = double.submit(mainGraph('queued while agiqa was down'), 'browser');
    await double.drained();
    const second = await serve(home, double.url);
    await waitFor(async () => (await comfyGenerations(second.url)).length === 2, 'the missed output', 60_000);
    const all = await comfyGenerations(second.url);
    expect(all.map((g) => g.external.promptId).sort()).toEqual([promptId, missed].sort());
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  }, 180_000);
});
