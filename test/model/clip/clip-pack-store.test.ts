// Installed packs: a hand-copied folder accepted after verify (which writes the hashes), a missing or
// corrupt file, an invalid pack.json, an unknown name, and removal.
import { access, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { installedPackDir, removePack, verifyPack, writeClipPackManifest } from '../../../src/model/clip/clip-pack-store.js';
import { KNOWN_PACKS } from '../../../src/model/clip/known-packs.js';
import { packManifestSchema } from '../../../src/model/pack-manifest.js';
import { copyTinyClip, installTinyClip, tempHome, TINY_CLIP } from '../../fixtures/tiny-clip/install.js';

const catalogue = [TINY_CLIP];

describe('verifyPack', () => {
  it('accepts a folder copied in by hand: writes pack.json with every hash, then verifies it', async () => {
    const home = await tempHome();
    const dir = await copyTinyClip(home);
    expect(await verifyPack('tiny-clip', { home, catalogue })).toEqual({ name: 'tiny-clip', dir, status: 'written', files: 6 });
    const manifest = packManifestSchema.parse(JSON.parse(await readFile(join(dir, 'pack.json'), 'utf8')));
    expect(manifest.files.map((f) => f.path)).toEqual([...TINY_CLIP.configFiles, TINY_CLIP.visionFile, TINY_CLIP.textFile]);
    expect(manifest.files.every((f) => /^[0-9a-f]{64}$/.test(f.sha256) && f.bytes > 0)).toBe(true);
    expect(manifest.input).toMatchObject({ kind: 'clip', dtype: 'q8', maxTextTokens: 77 });
    expect(await verifyPack('tiny-clip', { home, catalogue })).toMatchObject({ status: 'verified' });
  });

  it('lists every missing file of a hand-copied folder at once', async () => {
    const home = await tempHome();
    const dir = await copyTinyClip(home);
    await rm(join(dir, 'tokenizer.json'));
    await rm(join(dir, TINY_CLIP.textFile));
    await expect(verifyPack('tiny-clip', { home, catalogue })).rejects.toMatchObject({
      code: 'AGQ_ERR_PACK_INCOMPLETE',
      message: `Model pack "tiny-clip" in ${dir} lacks tokenizer.json, onnx/text_model_quantized.onnx`,
    });
  });

  it('reports a file changed after pack.json was written as corrupt, and a deleted one as missing', async () => {
    const { home, dir } = await installTinyClip();
    await writeFile(join(dir, 'preprocessor_config.json'), '{}');
    await expect(verifyPack('tiny-clip', { home, catalogue })).rejects.toMatchObject({ code: 'AGQ_ERR_PACK_FILE_CORRUPT', message: expect.stringContaining('preprocessor_config.json is corrupt') });
    await writeClipPackManifest(dir, TINY_CLIP);
    await rm(join(dir, TINY_CLIP.visionFile));
    await expect(verifyPack('tiny-clip', { home, catalogue })).rejects.toMatchObject({ code: 'AGQ_ERR_PACK_FILE_MISSING', message: expect.stringContaining('onnx/vision_model_quantized.onnx') });
  });

  it('reports a pack.json that fails validation with every field named', async () => {
    const { home, dir } = await installTinyClip();
    const manifest = JSON.parse(await readFile(join(dir, 'pack.json'), 'utf8'));
    manifest.input.dtype = 'fp64';
    manifest.input.rounds.correspondence.similarity = { low: 0.4, high: 0.1 };
    await writeFile(join(dir, 'pack.json'), JSON.stringify(manifest));
    const error = await verifyPack('tiny-clip', { home, catalogue }).catch((e: Error) => e);
    expect(error).toMatchObject({ code: 'AGQ_ERR_PACK_INVALID' });
    expect((error as Error).message).toContain('input.dtype');
    expect((error as Error).message).toContain('high must be greater than low');
    await writeFile(join(dir, 'pack.json'), '{ not json');
    await expect(verifyPack('tiny-clip', { home, catalogue })).rejects.toMatchObject({ code: 'AGQ_ERR_PACK_INVALID', message: expect.stringContaining('not valid JSON') });
  });

  it('refuses a folder without pack.json whose name is not a known pack, and a name with no folder', async () => {
    const home = await tempHome();
    await copyTinyClip(home, 'mystery');
    await expect(verifyPack('mystery', { home, catalogue })).rejects.toMatchObject({ code: 'AGQ_ERR_PACK_UNKNOWN', message: expect.stringContaining('known: tiny-clip') });
    await expect(verifyPack('absent', { home })).rejects.toMatchObject({ code: 'AGQ_ERR_PACK_NOT_FOUND' });
  });
});

describe('removePack', () => {
  it('deletes an installed pack, refuses embedded ones and names that are not packs', async () => {
    const { home, dir } = await installTinyClip();
    expect(await removePack('tiny-clip', { home })).toBe(dir);
    await expect(access(dir)).rejects.toThrow();
    await expect(removePack('tiny-clip', { home })).rejects.toMatchObject({ code: 'AGQ_ERR_PACK_NOT_FOUND' });
    await expect(removePack('lite', { home })).rejects.toMatchObject({ code: 'AGQ_ERR_USAGE', message: expect.stringContaining('embedded') });
    await expect(removePack('../etc', { home })).rejects.toMatchObject({ code: 'AGQ_ERR_USAGE' });
    expect(installedPackDir('x', home)).toBe(join(home, 'models', 'x'));
  });
});

describe('KNOWN_PACKS', () => {
  it('lists clip-vit-b32 as the one recommended pack and states every license', () => {
    expect(KNOWN_PACKS.filter((p) => p.recommended).map((p) => p.name)).toEqual(['clip-vit-b32']);
    expect(Object.fromEntries(KNOWN_PACKS.map((p) => [p.name, p.license.split(' ')[0]]))).toEqual({
      'clip-vit-b32': 'MIT',
      'siglip-b16': 'Apache-2.0',
      'mobileclip-s2': 'apple-amlr',
    });
    expect(KNOWN_PACKS.find((p) => p.name === 'mobileclip-s2')!.restrictedLicense).toBe(true);
  });
});
