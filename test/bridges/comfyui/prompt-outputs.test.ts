// One finished prompt's outputs through the bridge, for what is ComfyUI's alone: the file the node
// pack's Save image with score wrote (seen in a real ComfyUI 0.3.64 as a second, prompt-less
// generation) is linked to the generation the node scored, not scored again.
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { rawPixelsSha256 } from '../../../src/image/index.js';
import { fakeResult } from '../../fixtures/server/fake-scorer.js';
import { harness, mainGraph, waitFor, type Harness } from './harness.js';
import { pngOfPixels } from './test-images.js';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const SIZE = 8;
const frame = (seed: number) => Uint8Array.from({ length: SIZE * SIZE * 3 }, (_, i) => (i * 31 + seed * 17) & 255);

/** The recorded main workflow with its SaveImage replaced by the node pack's Save image with score. */
function saveWithScoreGraph(text: string) {
  const graph = mainGraph(text, 2);
  const save = Object.keys(graph).find((id) => graph[id]!.class_type === 'SaveImage')!;
  graph[save] = { class_type: 'AGIQASaveWithScore', inputs: { images: graph[save]!.inputs.images, filename_prefix: 'ComfyUI_[score]' } };
  return { graph, save };
}

describe('PromptOutputs', () => {
  it('a file written by Save image with score is linked to the generation the node scored, not scored again', async () => {
    // What the node did inside ComfyUI: scored each raw frame (POST /v1/rank), then wrote the PNGs
    // with its `agiqa` chunk. Frame 1's file is then edited elsewhere (other pixels): that one is scored.
    const frames = [frame(1), frame(2)];
    let nodeIds: number[] = [];
    h = await harness({
      override: (request) => (request.node === saved.save ? files[request.index]! : null),
    });
    const saved = saveWithScoreGraph('a cat on a sofa');
    for (const pixels of frames) {
      const sha256 = rawPixelsSha256({ width: SIZE, height: SIZE, channels: 3 }, createHash('sha256').update(pixels).digest('hex'));
      const stored = await h.store.saveScore(
        { source: 'comfyui-node', prompt: 'a cat on a sofa', negativePrompt: null, imageSha256: sha256, fileRef: 'comfyui-node.raw', bytes: pixels.length },
        fakeResult({ mos: 4.2, sha256, prompt: 'a cat on a sofa' }),
        { verdict: 'accept', reasons: [], notJudged: [] },
      );
      nodeIds = [...nodeIds, stored.generationId];
    }
    const marker = (index: number) => ({ prompt: JSON.stringify(saved.graph), agiqa: JSON.stringify({ index, mos: 4.2, generation_id: nodeIds[index] }), agiqa_mos: '4.20' });
    const files = [await pngOfPixels(frames[0]!, SIZE, marker(0)), await pngOfPixels(frame(99), SIZE, marker(1))];

    const bridge = await h.bridge();
    await waitFor(() => h.double.connectedClients().includes(bridge.clientId), 'the bridge socket');
    const promptId = h.double.submit(saved.graph, 'browser-0000');
    await waitFor(async () => (await h.store.comfyui.handledPrompts(h.double.url)).has(promptId), 'the prompt handled');

    const ranking = await h.store.comfyui.ranking(promptId);
    expect(ranking.map((output) => output.filename)).toEqual(expect.arrayContaining(['ComfyUI_[score]_00001_.png', 'ComfyUI_[score]_00002_.png']));
    const first = ranking.find((output) => output.batchIndex === 0)!;
    expect(first.generationId).toBe(nodeIds[0]);
    // Only the edited file was scored; the node's generation now names its file.
    expect(h.scorer.requests.map((request) => request.name)).toEqual(['ComfyUI_[score]_00002_.png']);
    const generations = await h.store.listGenerations();
    expect(generations).toHaveLength(3);
    expect(generations.find((g) => g.id === nodeIds[0])!.external.filename).toBe('ComfyUI_[score]_00001_.png');
    expect(generations.filter((g) => g.source === 'comfyui').map((g) => g.external.filename)).toEqual(['ComfyUI_[score]_00002_.png']);
  });
});
