import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomSplit, readDataset, selectSplit } from '../../src/evaluation/datasets.js';

const FIXTURES = new URL('../fixtures/datasets/', import.meta.url).pathname;
let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'agiqa-datasets-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function copyFixture(name: string): Promise<string> {
  const dir = join(work, name);
  await cp(join(FIXTURES, name), dir, { recursive: true });
  return dir;
}

describe('readDataset', () => {
  it('reads AGIQA-3K data.csv: quality from mos_quality, correspondence from mos_align, prompts with commas', async () => {
    const dir = await copyFixture('agiqa-3k');
    // the published archive keeps images in a subfolder; two of ten are present
    await mkdir(join(dir, 'images'));
    await writeFile(join(dir, 'images', 'AttnGAN_normal_000.jpg'), 'x');
    await writeFile(join(dir, 'images', 'midjourney_normal_002.jpg'), 'x');
    const dataset = await readDataset(dir);
    expect(dataset.format).toBe('agiqa-3k');
    expect(dataset.aspects).toEqual(['quality', 'correspondence']);
    expect(dataset.items).toHaveLength(10);
    const third = dataset.items[2]!;
    expect(third.prompt).toBe('portrait of a beautiful young woman, HDR lighting');
    expect(third.mos.quality).toBeCloseTo(3.867642035, 9);
    expect(third.mos.correspondence).toBeCloseTo(3.597061498, 9);
    expect(dataset.imageDir).toBe(join(dir, 'images'));
    expect(dataset.items.filter((i) => i.path !== null).map((i) => i.name)).toEqual(['AttnGAN_normal_000.jpg', 'midjourney_normal_002.jpg']);
    // 8:2 → 2 test; 10% of the remaining 8 → 1 validation
    expect(dataset.split.counts).toEqual({ train: 7, val: 1, test: 2 });
    expect(dataset.split.scheme).toMatch(/AGIQA-3K random 8:2/);
  });

  it('reads AIGCIQA2023 on 0–100 as MOS ÷ 20, with the generator from the image index', async () => {
    const dataset = await readDataset(join(FIXTURES, 'aigciqa2023'));
    expect(dataset.format).toBe('aigciqa2023');
    expect(dataset.aspects).toEqual(['quality', 'correspondence', 'authenticity']);
    const first = dataset.items[0]!;
    expect(first.name).toBe('0.png');
    expect(first.mos.quality).toBeCloseTo(60.16417843 / 20, 9);
    expect(first.mos.authenticity).toBeCloseTo(47.24654087 / 20, 9);
    expect(first.mos.correspondence).toBeCloseTo(59.98587335 / 20, 9);
    expect(first.generator).toBe('Controlnet');
    expect(dataset.items.find((i) => i.name === '401.png')!.generator).toBe('DALLE');
    expect(dataset.items.find((i) => i.name === '2399.png')!.generator).toBe('Unidiffuser');
    expect(dataset.items.find((i) => i.name === '402.png')!.prompt).toBe('a girl, smiling');
    // the published file has bare quotes inside an unquoted field
    expect(dataset.items.find((i) => i.name === '240.png')!.prompt).toBe('a cartoon of a dog saying "I see what you did there"');
    expect(dataset.items.every((i) => i.path === null)).toBe(true);
    // 3:1 → 2 of 9 in test (9 × 0.25 = 2.25)
    expect(dataset.split.counts.test).toBe(2);
  });

  it('reads AIGIQA-20K with the official split taken from the info_*.csv files', async () => {
    const dataset = await readDataset(join(FIXTURES, 'aigiqa-20k'));
    expect(dataset.format).toBe('aigiqa-20k');
    expect(dataset.aspects).toEqual(['quality']);
    expect(dataset.split.counts).toEqual({ train: 6, val: 2, test: 2 });
    expect(selectSplit(dataset, 'test').map((i) => i.name)).toEqual(['Dream_0200.png', 'SSD1B_0201.png']);
    expect(dataset.items[0]!.generator).toBe('DALLE2');
    expect(dataset.items[0]!.mos.quality).toBeCloseTo(3.6638868235, 9);
  });

  it('reads the generic CSV with per-aspect columns, empty cells as not rated, and its split column', async () => {
    const dataset = await readDataset(join(FIXTURES, 'csv', 'ratings.csv'));
    expect(dataset.format).toBe('csv');
    expect(dataset.aspects).toEqual(['quality', 'correspondence']);
    expect(dataset.items.map((i) => i.split)).toEqual(['train', 'train', 'test', 'train']);
    expect(dataset.items[1]!.mos).toEqual({ quality: 2 });
    expect(dataset.items[2]!.prompt).toBeNull();
    expect(dataset.items[3]!.name).toBe('sub/d.png');
  });

  it('accepts path for the image column, as the synthetic-distortion set writes it', async () => {
    const dir = join(work, 'synthetic');
    await mkdir(dir);
    await writeFile(join(dir, 'dataset.csv'), 'path,ref,group,package,split,distortion,level,mos\nimages/a/ref.png,a,g1,p,train,none,0,4.5\nimages/a/jpeg_3.png,a,g1,p,val,jpeg,3,2.1\n');
    const dataset = await readDataset(join(dir, 'dataset.csv'));
    expect(dataset.items.map((i) => [i.name, i.split, i.mos.quality])).toEqual([
      ['images/a/ref.png', 'train', 4.5],
      ['images/a/jpeg_3.png', 'val', 2.1],
    ]);
  });

  it('splits at random with a fixed seed: same seed same split, other seed other split', () => {
    const a = randomSplit(100, 0.2, 0.1, 42);
    expect(randomSplit(100, 0.2, 0.1, 42)).toEqual(a);
    expect(randomSplit(100, 0.2, 0.1, 7)).not.toEqual(a);
    expect(a.filter((s) => s === 'test')).toHaveLength(20);
    expect(a.filter((s) => s === 'val')).toHaveLength(8);
  });

  it('lists every bad cell and missing column at once', async () => {
    const dir = join(work, 'bad');
    await mkdir(dir);
    await writeFile(join(dir, 'data.csv'), 'name,prompt,adj1,adj2,style,mos_quality,std_quality,mos_align,std_align\na.jpg,p,,,,x,0,2,0\nb.jpg,p,,,,7,0,,0\n');
    await expect(readDataset(dir)).rejects.toMatchObject({
      code: 'AGQ_ERR_DATASET_INVALID',
      message: expect.stringMatching(/line 2: mos_quality is "x".*line 3: mos_quality is "7".*line 3: mos_align is ""/),
    });
    await writeFile(join(dir, 'data.csv'), 'name,prompt,mos\na.jpg,p,2\n');
    await expect(readDataset(dir, { format: 'agiqa-3k' })).rejects.toMatchObject({
      code: 'AGQ_ERR_DATASET_INVALID',
      message: expect.stringContaining('missing column(s) mos_quality, mos_align'),
    });
    await writeFile(join(dir, 'mine.csv'), 'image,mos_beauty\na.png,2\n');
    await expect(readDataset(join(dir, 'mine.csv'))).rejects.toMatchObject({
      code: 'AGQ_ERR_DATASET_INVALID',
      message: expect.stringContaining('unknown MOS column(s) mos_beauty'),
    });
  });

  it('says what it looked for when no label file is there', async () => {
    const dir = join(work, 'empty');
    await mkdir(dir);
    await expect(readDataset(dir)).rejects.toMatchObject({ code: 'AGQ_ERR_DATASET_NOT_FOUND', message: expect.stringContaining('no label file found') });
    await expect(readDataset(join(work, 'nope'))).rejects.toMatchObject({ code: 'AGQ_ERR_DATASET_NOT_FOUND' });
  });
});
