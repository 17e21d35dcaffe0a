// The CLIP scorer end to end on the tiny random-weight pack: every aspect judged with a valid result,
// the bad prompts of the issue (empty, 10,000 characters, non-Latin, emoji, UI syntax), batches, the predictor
// seam, and the scorer running in worker threads through createScorer.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PackManifest } from '../../src/model/pack-manifest.js';
import { loadPack, type LoadedPack } from '../../src/model/packs.js';
import { ClipScorer } from '../../src/scoring/clip-scorer.js';
import { createScorer } from '../../src/scoring/index.js';
import type { RoundOutput, RoundsPredictor } from '../../src/scoring/rounds/round.js';
import { scoreResultSchema, type AspectScore } from '../../src/scoring/score-result.js';
import { installTinyClip } from '../fixtures/tiny-clip/install.js';

/** A pack.json predictor entry (issue "The M3 predictor"); its file is never opened here. */
const PREDICTOR_ENTRY: NonNullable<PackManifest['predictor']> = {
  file: 'predictor.onnx',
  kind: 'xlstm',
  tokenGrid: 1,
  tokenDim: 8,
  evidence: {},
  evidenceWidth: 0,
  outputs: ['quality', 'overall'],
};

const EMBEDDED_PROMPT_PNG = fileURLToPath(new URL('../fixtures/image/comfyui-sdxl-48.png', import.meta.url));

async function png(r: number, g: number, b: number, width = 40, height = 30): Promise<Uint8Array> {
  return sharp({ create: { width, height, channels: 3, background: { r, g, b } } }).png().toBuffer();
}

describe('ClipScorer', () => {
  let pack: LoadedPack;
  let scorer: ClipScorer;
  let red: Uint8Array;
  beforeAll(async () => {
    const { dir } = await installTinyClip();
    pack = await loadPack('tiny-clip', { packDir: dir });
    scorer = await ClipScorer.create(pack, { threads: 1 });
    red = await png(200, 20, 20);
  });
  afterAll(async () => scorer.close());

  it('judges all three aspects and names the weakest noun phrase of the prompt', async () => {
    const result = await scorer.score({ image: red, name: 'red.png', prompt: 'a cat under a red umbrella, masterpiece' });
    expect(scoreResultSchema.parse(result)).toEqual(result);
    for (const aspect of ['quality', 'correspondence', 'authenticity'] as const) expect(result.aspects[aspect].mos).not.toBeNull();
    expect(result.prompt).toEqual({ text: 'a cat under a red umbrella, masterpiece', source: 'argument' });
    const correspondence = result.findings.find((f) => f.aspect === 'correspondence')!;
    expect(correspondence.text).toMatch(/'(cat|red umbrella)'/);
    expect(result.findings.map((f) => f.aspect)).toEqual(['quality', 'correspondence', 'authenticity']);
    // The version carries the digest of the pack's files (a pack whose files change gets a new one).
    expect(result.pack).toEqual({ name: 'tiny-clip', version: expect.stringMatching(/^1\.0\.0\+[0-9a-f]{12}$/) });
  });

  it('gives correspondence null with a reason for a prompt of 0 characters, or of spaces only', async () => {
    for (const prompt of ['', '   \n ']) {
      const result = await scorer.score({ image: red, name: 'red.png', prompt });
      expect(result.aspects.correspondence).toEqual({ mos: null, reason: expect.stringContaining(`the prompt is empty (${prompt.length} characters)`) });
      expect(result.aspects.quality.mos).not.toBeNull();
      expect(scoreResultSchema.safeParse(result).success).toBe(true);
    }
  });

  it('scores a prompt in A1111/ComfyUI syntax exactly as its plain text, and keeps the original in the result', async () => {
    // The random-weight fixture's MOS sits at the clamp, so the rounds' evidence (the cosines of image
    // to prompt and to each noun phrase) is compared, as the predictor seam receives it.
    const correspondence: number[][] = [];
    const recorder: RoundsPredictor = {
      predict: async ({ rounds }) => {
        correspondence.push([...rounds.find((r) => r.aspect === 'correspondence')!.evidence]);
        return {};
      },
      close: async () => {},
    };
    const recording = await ClipScorer.create({ ...pack, manifest: { ...pack.manifest, predictor: PREDICTOR_ENTRY } }, { threads: 1, predictor: recorder });
    try {
      const plainPrompt = 'a cat, sitting under a red umbrella, rain';
      const uiPrompts = [
        '((a cat)), (sitting:1.2) under a [red:1.1] umbrella <lora:filmgrain:0.8>, BREAK rain',
        'a [dog:cat:0.4], sitting under a {red|blue} umbrella, embedding:EasyNegative, (rain:1.3)',
        'a [cat|dog], (sitting under a red umbrella:0.9), __weather__ rain',
      ];
      const plain = await recording.score({ image: red, name: 'red.png', prompt: plainPrompt });
      expect(correspondence[0]).toHaveLength(4); // the prompt, then 'cat', 'red umbrella', 'rain'
      for (const [i, prompt] of uiPrompts.entries()) {
        const result = await recording.score({ image: red, name: 'red.png', prompt });
        expect(correspondence[i + 1], prompt).toEqual(correspondence[0]);
        expect(result.aspects, prompt).toEqual(plain.aspects);
        expect(result.findings, prompt).toEqual(plain.findings);
        expect(result.prompt).toEqual({ text: prompt, source: 'argument' });
      }
      // The fixture's text tower tells prompts apart, so the equality above is no accident.
      await recording.score({ image: red, name: 'red.png', prompt: 'a dog, sitting under a red umbrella, rain' });
      expect(correspondence.at(-1)![0]).not.toBe(correspondence[0]![0]);
    } finally {
      await recording.close();
    }
  });

  it('gives correspondence null with a reason for a prompt made of UI syntax only', async () => {
    const result = await scorer.score({ image: red, name: 'red.png', prompt: '<lora:filmgrain:0.8>, BREAK, embedding:EasyNegative' });
    expect(result.aspects.correspondence).toEqual({ mos: null, reason: expect.stringContaining('UI syntax only') });
    expect(result.prompt.text).toBe('<lora:filmgrain:0.8>, BREAK, embedding:EasyNegative');
    expect(scoreResultSchema.safeParse(result).success).toBe(true);
  });

  it('says so when there is no prompt at all, and reads the prompt embedded in a ComfyUI PNG', async () => {
    const none = await scorer.score({ image: red, name: 'red.png' });
    expect(none.prompt.source).toBe('none');
    expect((none.aspects.correspondence as { reason: string }).reason).toContain('no prompt was given and none is embedded');
    const embedded = await scorer.score({ image: await readFile(EMBEDDED_PROMPT_PNG), name: 'comfyui.png' });
    expect(embedded.prompt.source).toBe('embedded');
    expect(embedded.aspects.correspondence.mos).not.toBeNull();
  });

  it('truncates a 10,000-character prompt to the tokenizer limit with a finding saying so', async () => {
    const prompt = 'a lighthouse on a cliff above a stormy sea with seagulls '.repeat(200).slice(0, 10_000);
    const result = await scorer.score({ image: red, name: 'red.png', prompt });
    const truncated = result.findings.find((f) => f.code === 'prompt-truncated');
    expect(truncated).toMatchObject({ aspect: 'correspondence', severity: 'minor' });
    expect(truncated!.text).toMatch(/limit of 77 tokens \(it has \d{4,}\)/);
    expect(result.aspects.correspondence.mos).not.toBeNull();
  });

  it('scores prompts in non-Latin scripts and emoji', async () => {
    for (const prompt of ['一只猫在红色的雨伞下', 'кошка под красным зонтом', 'قطة تحت مظلة حمراء', '🐱☂️🌧️']) {
      const result = await scorer.score({ image: red, name: 'red.png', prompt });
      expect(scoreResultSchema.safeParse(result).success, prompt).toBe(true);
      expect(Number.isFinite((result.aspects.correspondence as AspectScore).mos), prompt).toBe(true);
    }
  });

  it('scores a batch sharing one prompt like single images, with one image pass', async () => {
    const images = [red, await png(20, 200, 20), await png(20, 20, 200, 64, 64)];
    const requests = images.map((image, i) => ({ image, name: `${i}.png`, prompt: 'a green field' }));
    const batch = await scorer.scoreBatch(requests);
    expect(batch).toHaveLength(3);
    for (let i = 0; i < 3; i++) {
      const single = await scorer.score(requests[i]!);
      expect(batch[i]!.aspects).toEqual(single.aspects);
      expect(batch[i]!.image.sha256).toBe(single.image.sha256);
    }
  });

  it('refuses an image that cannot be decoded with the image error, not a crash', async () => {
    await expect(scorer.score({ image: new Uint8Array([1, 2, 3, 4]), name: 'broken.png', prompt: 'x' })).rejects.toMatchObject({ code: expect.stringMatching(/^AGQ_ERR_IMAGE_/) });
  });

  it('lets a predictor replace the zero-shot scores of the aspects it returns, given every round', async () => {
    const seen: RoundOutput[][] = [];
    const predictor: RoundsPredictor = {
      predict: async ({ rounds }) => {
        seen.push([...rounds]);
        return { quality: { logits: [0, 0, 0, 0, 10], mos: 4.8 } };
      },
      close: async () => {},
    };
    const withPredictor = await ClipScorer.create({ ...pack, manifest: { ...pack.manifest, predictor: PREDICTOR_ENTRY } }, { threads: 1, predictor });
    const result = await withPredictor.score({ image: red, name: 'red.png', prompt: 'a cat' });
    await withPredictor.close();
    expect(result.aspects.quality).toMatchObject({ mos: 4.8, level: 'excellent' });
    expect(seen[0]!.map((r) => r.aspect)).toEqual(['quality', 'correspondence', 'authenticity']);
    expect(seen[0]![1]!.evidence.length).toBeGreaterThan(1);
  });

  it('refuses a pack that names a predictor when none can run it', async () => {
    await expect(ClipScorer.create({ ...pack, manifest: { ...pack.manifest, predictor: PREDICTOR_ENTRY } }, { threads: 1 })).rejects.toMatchObject({
      code: 'AGQ_ERR_PACK_INVALID',
      message: expect.stringContaining('predictor'),
    });
  });
});

describe('createScorer with a CLIP pack', () => {
  it('scores in worker threads and refuses a pack whose pack.json fails validation', async () => {
    const { home, dir } = await installTinyClip();
    const scorer = await createScorer({ pack: 'tiny-clip', home, workers: 1, threadsPerWorker: 1 });
    try {
      const result = await scorer.score({ image: await png(10, 10, 10), name: 'dark.png', prompt: 'a dark room' });
      expect(result.pack.name).toBe('tiny-clip');
      expect(result.aspects.correspondence.mos).not.toBeNull();
      // A batch goes to one worker as one job and comes back in request order.
      const batch = await scorer.scoreBatch([
        { image: await png(10, 10, 10), name: 'dark.png', prompt: 'a dark room' },
        { image: await png(240, 240, 240), name: 'light.png', prompt: 'a dark room' },
      ]);
      expect(batch).toHaveLength(2);
      expect(batch[0]!.aspects.quality).toEqual(result.aspects.quality);
      expect(batch[1]!.image.sha256).not.toBe(batch[0]!.image.sha256);
    } finally {
      await scorer.close();
    }
    const manifest = JSON.parse(await readFile(join(dir, 'pack.json'), 'utf8'));
    manifest.input.rounds.correspondence.phraseTemplate = 'no placeholder';
    manifest.input.rounds.quality.anchors.good = [];
    await writeFile(join(dir, 'pack.json'), JSON.stringify(manifest));
    await expect(createScorer({ pack: 'tiny-clip', home, workers: 1 })).rejects.toMatchObject({
      code: 'AGQ_ERR_PACK_INVALID',
      message: expect.stringMatching(/input\.rounds\.quality\.anchors\.good.*input\.rounds\.correspondence\.phraseTemplate|input\.rounds\.correspondence\.phraseTemplate.*input\.rounds\.quality\.anchors\.good/),
    });
  });
});
