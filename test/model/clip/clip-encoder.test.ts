// The encoder on the tiny random-weight CLIP: loading from the pack folder only, unit embeddings,
// batching, the prompt cache, token counting, and the errors of a broken pack.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClipEncoder, towerFileOf } from '../../../src/model/clip/clip-encoder.js';
import { writeClipPackManifest } from '../../../src/model/clip/clip-pack-store.js';
import { loadPack } from '../../../src/model/packs.js';
import { installTinyClip, TINY_CLIP } from '../../fixtures/tiny-clip/install.js';

function pixels(width: number, height: number, seed: number) {
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < rgb.length; i++) rgb[i] = (i * 37 + seed * 101) % 256;
  return { rgb, width, height };
}

const norm = (v: Float32Array) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));

describe('ClipEncoder on the tiny CLIP pack', () => {
  let encoder: ClipEncoder;
  beforeAll(async () => {
    const { dir } = await installTinyClip();
    encoder = await ClipEncoder.load(await loadPack('tiny-clip', { packDir: dir }), { threads: 1 });
  });
  afterAll(async () => encoder.close());

  it('embeds images of any size as unit vectors, a batch equal to one by one', async () => {
    const a = pixels(40, 30, 1);
    const b = pixels(17, 61, 2);
    const [ea, eb] = await encoder.encodeImages([a, b]);
    expect(ea).toHaveLength(8);
    expect(norm(ea!)).toBeCloseTo(1, 5);
    expect(norm(eb!)).toBeCloseTo(1, 5);
    const [single] = await encoder.encodeImages([b]);
    for (let i = 0; i < 8; i++) expect(single![i]).toBeCloseTo(eb![i]!, 4);
    expect(await encoder.encodeImages([])).toEqual([]);
  });

  it('refuses pixels that do not match the stated size', async () => {
    await expect(encoder.encodeImages([{ rgb: new Uint8Array(10), width: 4, height: 4 }])).rejects.toThrow('Expected 48 RGB bytes for 4×4 but received 10');
  });

  it('caches text embeddings: a repeated text is served from the cache and identical', async () => {
    const before = encoder.cachedTexts;
    const [first] = await encoder.encodeTexts(['a red umbrella']);
    expect(encoder.cachedTexts).toBe(before + 1);
    const [again, other] = await encoder.encodeTexts(['a red umbrella', 'a blue umbrella']);
    expect(encoder.cachedTexts).toBe(before + 2);
    expect(again).toBe(first);
    expect(other).not.toEqual(first);
    expect(norm(other!)).toBeCloseTo(1, 5);
  });

  it('encodes non-Latin scripts and emoji to distinct finite unit vectors', async () => {
    const vectors = await encoder.encodeTexts(['一只猫在红色的雨伞下', 'кошка под зонтом', 'قطة تحت مظلة', '🐱☂️🌧️']);
    for (const v of vectors) {
      expect(v.every(Number.isFinite)).toBe(true);
      expect(norm(v)).toBeCloseTo(1, 5);
    }
    expect(new Set(vectors.map((v) => v.join(','))).size).toBe(4);
  });

  it('encodes texts of very different lengths in separate passes without mixing up their vectors', async () => {
    const long = 'a lighthouse on a cliff above a stormy sea with seagulls and a small red boat';
    const texts = ['fox', long, 'red boat', 'a lighthouse on a cliff above a stormy sea with seagulls'];
    const together = await encoder.encodeTexts(texts);
    const { dir } = await installTinyClip();
    const fresh = await ClipEncoder.load(await loadPack('tiny-clip', { packDir: dir }), { threads: 1 });
    try {
      for (let i = 0; i < texts.length; i++) {
        const [alone] = await fresh.encodeTexts([texts[i]!]);
        for (let k = 0; k < alone!.length; k++) expect(together[i]![k]).toBeCloseTo(alone![k]!, 4);
      }
    } finally {
      await fresh.close();
    }
  });

  it('counts tokens and says when a 10,000-character prompt exceeds the limit', async () => {
    // <|startoftext|> a</w> c at</w> <|endoftext|>: the tiny vocabulary has no merge for "cat</w>".
    expect(encoder.countTokens('a cat')).toEqual({ tokens: 5, limit: 77, truncated: false });
    const long = 'a cat under a red umbrella '.repeat(371).slice(0, 10_000);
    const count = encoder.countTokens(long);
    expect(count.truncated).toBe(true);
    expect(count.tokens).toBeGreaterThan(77);
    const [v] = await encoder.encodeTexts([long]);
    expect(v!.every(Number.isFinite)).toBe(true);
  });
});

describe('ClipEncoder with a broken pack', () => {
  it('names every file the pack lacks in files[]', async () => {
    const { dir } = await installTinyClip();
    const pack = await loadPack('tiny-clip', { packDir: dir });
    pack.files.delete('tokenizer.json');
    pack.files.delete('config.json');
    await expect(ClipEncoder.load(pack, { threads: 1 })).rejects.toMatchObject({
      code: 'AGQ_ERR_PACK_INVALID',
      message: expect.stringContaining('files[] lacks config.json; files[] lacks tokenizer.json'),
    });
  });

  it('reports an ONNX file that onnxruntime refuses as AGQ_ERR_MODEL_LOAD naming the file', async () => {
    const { dir } = await installTinyClip();
    await writeFile(join(dir, TINY_CLIP.visionFile), Buffer.from('not an onnx model'));
    await writeClipPackManifest(dir, TINY_CLIP); // hashes match the damaged file: only the loader can tell
    const pack = await loadPack('tiny-clip', { packDir: dir });
    await expect(ClipEncoder.load(pack, { threads: 1 })).rejects.toMatchObject({
      code: 'AGQ_ERR_MODEL_LOAD',
      message: expect.stringContaining('onnx/vision_model_quantized.onnx'),
    });
  });

  it('reports a tokenizer.json that is not JSON as AGQ_ERR_MODEL_LOAD', async () => {
    const { dir } = await installTinyClip();
    const text = await readFile(join(dir, 'tokenizer.json'), 'utf8');
    await writeFile(join(dir, 'tokenizer.json'), text.slice(0, 100));
    await writeClipPackManifest(dir, TINY_CLIP);
    await expect(ClipEncoder.load(await loadPack('tiny-clip', { packDir: dir }), { threads: 1 })).rejects.toMatchObject({ code: 'AGQ_ERR_MODEL_LOAD' });
  });

  it('pads to the full length when the pack says so (SigLIP) and cuts at its own token limit', async () => {
    const { dir } = await installTinyClip({ ...TINY_CLIP, input: { ...TINY_CLIP.input, textPadding: 'max_length', maxTextTokens: 16 } });
    const padded = await ClipEncoder.load(await loadPack('tiny-clip', { packDir: dir }), { threads: 1 });
    try {
      expect(padded.countTokens('a cat under a red umbrella in the rain at night')).toMatchObject({ limit: 16, truncated: true });
      const vectors = await padded.encodeTexts(['a cat', 'a cat under a red umbrella in the rain at night']);
      expect(vectors.every((v) => Math.abs(norm(v) - 1) < 1e-5)).toBe(true);
    } finally {
      await padded.close();
    }
  });

  it('loads a SigLIP-layout pack: siglip config, SiglipImageProcessor without center crop, max_length padding', async () => {
    const siglip = { ...TINY_CLIP, input: { ...TINY_CLIP.input, family: 'siglip' as const, textPadding: 'max_length' as const, maxTextTokens: 64 } };
    const { dir } = await installTinyClip(siglip);
    const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
    config.model_type = 'siglip';
    config.text_config.model_type = 'siglip_text_model';
    config.vision_config.model_type = 'siglip_vision_model';
    await writeFile(join(dir, 'config.json'), JSON.stringify(config));
    const processor = { image_processor_type: 'SiglipImageProcessor', do_resize: true, size: { height: 16, width: 16 }, resample: 2, do_rescale: true, rescale_factor: 1 / 255, do_normalize: true, image_mean: [0.5, 0.5, 0.5], image_std: [0.5, 0.5, 0.5] };
    await writeFile(join(dir, 'preprocessor_config.json'), JSON.stringify(processor));
    await writeClipPackManifest(dir, siglip);
    const encoder = await ClipEncoder.load(await loadPack('tiny-clip', { packDir: dir }), { threads: 1 });
    try {
      const [image] = await encoder.encodeImages([pixels(30, 20, 3)]);
      const [text] = await encoder.encodeTexts(['a cat']);
      expect(norm(image!)).toBeCloseTo(1, 5);
      expect(norm(text!)).toBeCloseTo(1, 5);
    } finally {
      await encoder.close();
    }
  });

  it('names the missing output when the pack points at an embedding the graph does not have', async () => {
    const { dir } = await installTinyClip({ ...TINY_CLIP, input: { ...TINY_CLIP.input, textEmbedding: 'pooler_output' } });
    const wrong = await ClipEncoder.load(await loadPack('tiny-clip', { packDir: dir }), { threads: 1 });
    try {
      await expect(wrong.encodeTexts(['a cat'])).rejects.toMatchObject({
        code: 'AGQ_ERR_MODEL_INPUT',
        message: expect.stringContaining('the graph has no output pooler_output (it has text_embeds, last_hidden_state); fix input.textEmbedding in pack.json'),
      });
    } finally {
      await wrong.close();
    }
  });

  it('checks that tower file names fit the dtype', () => {
    expect(towerFileOf('p', 'vision', 'onnx/vision_model_quantized.onnx', 'q8')).toEqual({ subfolder: 'onnx', modelFileName: 'vision_model' });
    expect(towerFileOf('p', 'text', 'onnx/text_model.onnx', 'fp32')).toEqual({ subfolder: 'onnx', modelFileName: 'text_model' });
    expect(() => towerFileOf('p', 'vision', 'onnx/vision_model.onnx', 'q8')).toThrow('models.vision.file is onnx/vision_model.onnx, but input.dtype "q8" expects a file named <name>_quantized.onnx');
    expect(() => towerFileOf('p', 'vision', 'onnx/vision_model_quantized.onnx', 'fp32')).toThrow(/input.dtype "fp32" expects a file named <name>.onnx/);
  });
});
