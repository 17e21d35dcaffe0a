// `agiqa score` as a user runs it: the built CLI (bin/agiqa.js → dist) on the embedded lite pack.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile, mkdir, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availableParallelism } from 'node:os';
import { scoreResultSchema } from '../../src/scoring/score-result.js';
import { makeTinyPack } from '../fixtures/datasets/tiny-pack.js';
import { pngClaiming } from '../fixtures/server/png.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin/agiqa.js');
const EXAMPLES = join(ROOT, 'examples');

function agiqa(args: string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, AGIQA_HOME: join(cwd, '.agiqa') }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function jsonLines(stdout: string) {
  return stdout
    .trim()
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as { file: string } & Record<string, unknown>);
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agiqa-score-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('agiqa score', () => {
  it('ranks a sharp photo above its blurred and compressed copies and judges only quality', async () => {
    const { code, stdout, stderr } = await agiqa(['score', '--json', EXAMPLES], dir);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const results = jsonLines(stdout);
    const byName = new Map(results.map(({ file, ...result }) => [file.split('/').pop()!, scoreResultSchema.parse(result)]));
    expect([...byName.keys()].sort()).toEqual(['chelsea-noisy.png', 'chelsea.png', 'coffee-blurred.png', 'coffee-jpeg-q8.jpg', 'coffee.png']);
    const mos = (name: string) => byName.get(name)!.mos;
    expect(mos('coffee.png')).toBeGreaterThan(mos('coffee-blurred.png'));
    expect(mos('coffee.png')).toBeGreaterThan(mos('coffee-jpeg-q8.jpg'));
    expect(mos('chelsea.png')).toBeGreaterThan(mos('chelsea-noisy.png'));
    const coffee = byName.get('coffee.png')!;
    expect(coffee.pack.name).toBe('lite');
    expect(coffee.aspects.correspondence).toMatchObject({ mos: null, reason: expect.stringMatching(/prompt/) });
    expect(coffee.aspects.authenticity.mos).toBeNull();
  });

  it('prints a table with one row per image and the reason for aspects not judged', async () => {
    const { code, stdout } = await agiqa(['score', join(EXAMPLES, 'coffee.png'), '--prompt', 'a dragon in a castle'], dir);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^image\s+MOS\s+level\s+quality/m);
    expect(stdout).toMatch(/coffee\.png\s+\d\.\d\d\s+(bad|poor|fair|good|excellent)/);
    expect(stdout).toMatch(/correspondence: not judged: the prompt names nothing the detector knows/);
  });

  it('judges correspondence from object checks and names what is missing', async () => {
    const { code, stdout } = await agiqa(['score', join(EXAMPLES, 'coffee.png'), '--prompt', 'two dogs left of a red car'], dir);
    expect(code).toBe(0);
    expect(stdout).toMatch(/coffee\.png\s+\d\.\d\d\s+\w+\s+\d\.\d\d \w+\s+0\.50 bad/);
    expect(stdout).toMatch(/asked for 2 dogs, no dog found/);
    expect(stdout).toMatch(/no car found/);
    const { file: _file, ...line } = jsonLines((await agiqa(['score', '--json', '--prompt', 'a cup', join(EXAMPLES, 'coffee.png')], dir)).stdout)[0]!;
    const cup = scoreResultSchema.parse(line);
    expect(cup.aspects.correspondence).toMatchObject({ mos: 4.5, level: 'excellent' });
    expect(cup.detections?.[0]).toMatchObject({ label: 'cup' });
  });

  it('uses the prompt given on the command line, else none', async () => {
    const withPrompt = jsonLines((await agiqa(['score', '--json', '--prompt', 'a cup of coffee', join(EXAMPLES, 'coffee.png')], dir)).stdout)[0]!;
    expect(withPrompt.prompt).toEqual({ text: 'a cup of coffee', source: 'argument' });
    const without = jsonLines((await agiqa(['score', '--json', join(EXAMPLES, 'coffee.png')], dir)).stdout)[0]!;
    expect(without.prompt).toEqual({ text: null, source: 'none' });
  });

  it('exits 2 with one line on a usage error', async () => {
    for (const args of [['score'], ['score', '--bogus', 'x.png'], ['score', '--workers', 'zero', 'x.png']]) {
      const { code, stderr, stdout } = await agiqa(args, dir);
      expect(code, args.join(' ')).toBe(2);
      expect(stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(stderr).toMatch(/^agiqa: .*\[AGQ_ERR_USAGE\]$/m);
      expect(stdout).toBe('');
    }
  });

  it('reports each unreadable input on one line naming the file, scores the rest and exits 3', async () => {
    const bad = join(dir, 'bad');
    await mkdir(join(bad, 'empty-dir'), { recursive: true });
    await copyFile(join(EXAMPLES, 'coffee.png'), join(bad, 'good.png'));
    await writeFile(join(bad, 'zero.png'), Buffer.alloc(0));
    const png = await sharp(join(EXAMPLES, 'coffee.png')).png().toBuffer();
    await writeFile(join(bad, 'truncated.png'), png.subarray(0, Math.floor(png.length / 2)));
    await writeFile(join(bad, 'text.png'), 'this is not an image\n');
    await writeFile(join(bad, 'bomb.png'), pngClaiming(30000, 30000));
    const { code, stdout, stderr } = await agiqa(['score', '--json', join(bad, 'good.png'), join(bad, 'zero.png'), join(bad, 'truncated.png'), join(bad, 'text.png'), join(bad, 'bomb.png'), join(bad, 'missing.png'), join(bad, 'empty-dir')], dir);
    expect(code).toBe(3);
    expect(jsonLines(stdout).map((r) => r.file)).toEqual([join(bad, 'good.png')]);
    const lines = stderr.trim().split('\n');
    expect(lines).toHaveLength(6);
    const line = (name: string) => lines.find((l) => l.includes(name)) ?? '';
    expect(line('zero.png')).toMatch(/empty.*\[AGQ_ERR_IMAGE_EMPTY\]/);
    expect(line('truncated.png')).toMatch(/\[AGQ_ERR_IMAGE_CORRUPT\]/);
    expect(line('text.png')).toMatch(/\[AGQ_ERR_IMAGE_UNSUPPORTED\]/);
    expect(line('bomb.png')).toMatch(/30000×30000.*\[AGQ_ERR_IMAGE_TOO_MANY_PIXELS\]/);
    expect(line('missing.png')).toMatch(/no such file.*\[AGQ_ERR_IMAGE_NOT_FOUND\]/);
    expect(line('empty-dir')).toMatch(/no image files.*\[AGQ_ERR_NO_IMAGES\]/);
    expect(stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('scores CMYK JPEG, 16-bit PNG and animated GIF inputs', async () => {
    const odd = join(dir, 'odd');
    await mkdir(odd, { recursive: true });
    const photo = sharp(join(EXAMPLES, 'chelsea.png'));
    await photo.clone().toColourspace('cmyk').jpeg({ quality: 92 }).toFile(join(odd, 'cmyk.jpg'));
    await photo.clone().toColourspace('rgb16').png().toFile(join(odd, 'deep.png'));
    const { data, info } = await photo.clone().resize(300, 200).raw().toBuffer({ resolveWithObject: true });
    await sharp(Buffer.concat([data, Buffer.from(data).reverse()]), { raw: { width: info.width, height: info.height * 2, channels: 3, pageHeight: info.height } })
      .gif()
      .toFile(join(odd, 'animated.gif'));
    const { code, stdout, stderr } = await agiqa(['score', '--json', odd], dir);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const results = jsonLines(stdout);
    expect(results.map((r) => (r.image as { format: string }).format).sort()).toEqual(['gif', 'jpeg', 'png']);
    const gif = results.find((r) => r.file.endsWith('animated.gif'))!;
    expect(gif.image).toMatchObject({ width: 300, height: 200 });
  });

  it('names a corrupt pack file and how to fix it', async () => {
    const home = join(dir, 'broken-home');
    const pack = join(home, '.agiqa', 'models', 'lite');
    await mkdir(pack, { recursive: true });
    for (const f of ['pack.json']) await copyFile(join(ROOT, 'models/lite', f), join(pack, f));
    await writeFile(join(pack, 'quality.onnx'), 'garbage');
    await mkdir(join(home, 'x'), { recursive: true });
    const { code, stderr } = await agiqa(['score', join(EXAMPLES, 'coffee.png')], home);
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/quality\.onnx is corrupt.*git checkout models\/lite.*\[AGQ_ERR_PACK_FILE_CORRUPT\]/);
  });

  it('says in its help that it uses one worker per core', async () => {
    const { code, stdout } = await agiqa(['score', '--help'], dir);
    expect(code).toBe(0);
    expect(stdout).toContain(`one per core, ${availableParallelism()} here`);
  });

  it('takes a pack folder for --pack, and hints the pull command for a known pack not pulled yet', async () => {
    const packDir = await makeTinyPack(join(dir, 'packs', 'tiny-lite'));
    const fromDir = await agiqa(['score', '--json', '--pack', packDir, join(EXAMPLES, 'coffee.png')], dir);
    expect(fromDir.stderr).toBe('');
    expect(jsonLines(fromDir.stdout)[0]!.pack).toMatchObject({ name: 'tiny-lite' });
    const notPulled = await agiqa(['score', '--pack', 'clip-vit-b32', join(EXAMPLES, 'coffee.png')], dir);
    expect(notPulled.code).toBe(1);
    expect(notPulled.stderr.trim().split('\n')).toHaveLength(1);
    expect(notPulled.stderr).toMatch(/run `agiqa models pull clip-vit-b32`.*\[AGQ_ERR_PACK_NOT_PULLED\]/);
  });
});
