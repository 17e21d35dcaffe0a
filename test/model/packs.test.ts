import { createHash } from 'node:crypto';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listPacks, loadPack } from '../../src/model/packs.js';

let home: string;
beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'agiqa-packs-'));
});
afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

const weights = Buffer.from('not really onnx, but hashed like one');

function manifest(overrides: Record<string, unknown> = {}) {
  return {
    schemaVersion: 1,
    name: 'tiny',
    version: '1.2.3',
    description: 'test pack',
    license: 'MIT',
    aspects: ['quality'],
    files: [{ path: 'quality.onnx', sha256: createHash('sha256').update(weights).digest('hex'), bytes: weights.length, license: 'MIT', source: 'test' }],
    input: { kind: 'lite-crops', cropSize: 224, crops: 1, signalsVersion: '1', signalCount: 3 },
    models: { quality: { file: 'quality.onnx' } },
    predictor: null,
    training: {},
    metrics: {},
    ...overrides,
  };
}

async function writePack(name: string, content: unknown, file: Buffer | null = weights): Promise<string> {
  const dir = join(home, 'models', name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'pack.json'), typeof content === 'string' ? content : JSON.stringify(content));
  if (file) await writeFile(join(dir, 'quality.onnx'), file);
  return dir;
}

describe('loadPack', () => {
  it('loads a pack from $AGIQA_HOME/models with every file verified', async () => {
    const dir = await writePack('tiny', manifest());
    const pack = await loadPack('tiny', { home });
    expect(pack.manifest.version).toBe('1.2.3');
    expect(pack.files.get('quality.onnx')).toBe(join(dir, 'quality.onnx'));
  });

  it('names the places it looked when the pack does not exist', async () => {
    await expect(loadPack('ghost', { home })).rejects.toMatchObject({
      code: 'AGQ_ERR_PACK_NOT_FOUND',
      message: expect.stringContaining(join(home, 'models', 'ghost')),
    });
  });

  it('names the missing file', async () => {
    await writePack('tiny', manifest(), null);
    await expect(loadPack('tiny', { home })).rejects.toMatchObject({ code: 'AGQ_ERR_PACK_FILE_MISSING', message: 'Model pack "tiny" is missing its file quality.onnx' });
  });

  it('names the corrupt file by its hash', async () => {
    await writePack('tiny', manifest(), Buffer.from('tampered'));
    await expect(loadPack('tiny', { home })).rejects.toMatchObject({ code: 'AGQ_ERR_PACK_FILE_CORRUPT', message: expect.stringMatching(/quality\.onnx is corrupt/) });
  });

  it('refuses a pack.json that is not JSON', async () => {
    await writePack('tiny', '{ "name": ');
    await expect(loadPack('tiny', { home })).rejects.toMatchObject({ code: 'AGQ_ERR_PACK_INVALID', message: expect.stringMatching(/not valid JSON/) });
  });

  it('reports every schema problem at once', async () => {
    await writePack('tiny', manifest({ version: '', aspects: ['beauty'], extra: 1 }));
    const error = (await loadPack('tiny', { home }).catch((e: unknown) => e)) as Error;
    expect(error).toMatchObject({ code: 'AGQ_ERR_PACK_INVALID' });
    expect(error.message).toMatch(/version/);
    expect(error.message).toMatch(/aspects\.0/);
    expect(error.message).toMatch(/extra/);
  });

  it('refuses a model role whose file is not among the listed files', async () => {
    await writePack('tiny', manifest({ models: { quality: { file: 'other.onnx' } } }));
    await expect(loadPack('tiny', { home })).rejects.toMatchObject({ code: 'AGQ_ERR_PACK_INVALID', message: expect.stringMatching(/other\.onnx is not listed in files/) });
  });

  it('refuses a file path that climbs out of the pack', async () => {
    const m = manifest();
    m.files[0]!.path = '../../etc/passwd';
    await writePack('tiny', m);
    await expect(loadPack('tiny', { home })).rejects.toMatchObject({ code: 'AGQ_ERR_PACK_INVALID', message: expect.stringMatching(/relative path inside the pack/) });
  });
});

describe('listPacks', () => {
  it("lists the user's packs before the embedded ones and skips folders without a valid pack.json", async () => {
    await writePack('tiny', manifest());
    await writePack('broken', '{');
    const packs = await listPacks(home);
    const tiny = packs.find((p) => p.name === 'tiny');
    expect(tiny).toMatchObject({ version: '1.2.3', embedded: false });
    expect(packs.some((p) => p.name === 'broken')).toBe(false);
  });
});
