// Files written by Save image with score: recognised by their `agiqa` chunk *and* their pixels (the
// raw frame the node scored), linked to that generation; anything else is left to be scored.
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { rawPixelsSha256 } from '../../src/image/index.js';
import { savedByNode } from '../../src/pipeline/saved-by-node.js';
import { Store } from '../../src/store/index.js';
import { pngOfPixels } from '../bridges/comfyui/test-images.js';
import { fakeResult } from '../fixtures/server/fake-scorer.js';

const SIZE = 8;
const PACK = { name: 'fake', version: '1.0.0' };
const LIMITS = { maxBytes: 1_000_000, maxPixels: 1_000_000 };

let store: Store | null = null;
afterEach(() => {
  store?.close();
  store = null;
});

function frame(seed: number): Uint8Array {
  return Uint8Array.from({ length: SIZE * SIZE * 3 }, (_, i) => (i * 37 + seed * 11) & 255);
}

/** What the node's /v1/rank left in the store: a generation keyed by the raw frame's hash. */
async function nodeGeneration(pixels: Uint8Array, filename: string | null = null): Promise<number> {
  store ??= await Store.open(join(mkdtempSync(join(tmpdir(), 'agiqa-saved-')), 'agiqa.db'));
  const sha256 = rawPixelsSha256({ width: SIZE, height: SIZE, channels: 3 }, createHash('sha256').update(pixels).digest('hex'));
  const saved = await store.saveScore(
    { source: 'comfyui-node', prompt: 'a cat', negativePrompt: null, imageSha256: sha256, fileRef: 'comfyui-node-0.raw', bytes: pixels.length, external: filename === null ? undefined : { filename } },
    fakeResult({ mos: 4.1, sha256 }),
    { verdict: 'accept', reasons: [], notJudged: [] },
  );
  return saved.generationId;
}

const marker = (generationId: number) => ({ agiqa: JSON.stringify({ index: 0, mos: 4.1, generation_id: generationId }), agiqa_mos: '4.10' });

describe('savedByNode', () => {
  it('links the file to the generation whose frame it holds, and records its file name there', async () => {
    const pixels = frame(1);
    const id = await nodeGeneration(pixels);
    const bytes = await pngOfPixels(pixels, SIZE, { prompt: '{}', ...marker(id) });
    const found = await savedByNode(store!, { image: bytes, name: 'x.png', fileRef: 'http://comfy/view?filename=x.png', external: { promptId: 'p', node: '9', filename: 'ComfyUI_4.10_00001_.png' } }, PACK, LIMITS);
    expect(found).toMatchObject({ generationId: id, result: { mos: 4.1 } });
    const generation = await store!.getGeneration(id);
    expect(generation!.external.filename).toBe('ComfyUI_4.10_00001_.png');
  });

  it('keeps a file name the node already linked', async () => {
    const pixels = frame(2);
    const id = await nodeGeneration(pixels, 'linked-by-the-node.png');
    const bytes = await pngOfPixels(pixels, SIZE, marker(id));
    expect(await savedByNode(store!, { image: bytes, name: 'x.png', fileRef: null, external: { filename: 'other.png' } }, PACK, LIMITS)).not.toBeNull();
    expect((await store!.getGeneration(id))!.external.filename).toBe('linked-by-the-node.png');
  });

  it('does not trust the chunk alone: other pixels, an unknown generation, another pack or no chunk are not linked', async () => {
    const pixels = frame(3);
    const id = await nodeGeneration(pixels);
    const image = (bytes: Uint8Array) => ({ image: bytes, name: 'x.png', fileRef: null });
    expect(await savedByNode(store!, image(await pngOfPixels(frame(4), SIZE, marker(id))), PACK, LIMITS)).toBeNull();
    expect(await savedByNode(store!, image(await pngOfPixels(pixels, SIZE, marker(id + 100))), PACK, LIMITS)).toBeNull();
    expect(await savedByNode(store!, image(await pngOfPixels(pixels, SIZE, marker(id))), { name: 'lite', version: '0.3.0' }, LIMITS)).toBeNull();
    expect(await savedByNode(store!, image(await pngOfPixels(pixels, SIZE, { agiqa: 'not json' })), PACK, LIMITS)).toBeNull();
    expect(await savedByNode(store!, image(await pngOfPixels(pixels, SIZE, {})), PACK, LIMITS)).toBeNull();
    // A raw frame is never a saved file.
    expect(await savedByNode(store!, { image: pixels, pixels: { width: SIZE, height: SIZE, channels: 3 }, name: 'f', fileRef: null }, PACK, LIMITS)).toBeNull();
    expect((await store!.getGeneration(id))!.external.filename).toBeNull();
  });

  it('a file over the pixel cap is not decoded: it is not the node frame', async () => {
    const pixels = frame(5);
    const id = await nodeGeneration(pixels);
    const bytes = await pngOfPixels(pixels, SIZE, marker(id));
    expect(await savedByNode(store!, { image: bytes, name: 'x.png', fileRef: null }, PACK, { maxBytes: 1_000_000, maxPixels: SIZE * SIZE - 1 })).toBeNull();
  });
});
