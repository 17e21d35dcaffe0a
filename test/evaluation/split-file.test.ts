import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDataset } from '../../src/evaluation/datasets.js';
import { applySplitLists, parseSplitFileArg, readSplitFile, splitOfFileName, withSplitFiles } from '../../src/evaluation/split-file.js';

const FIXTURES = new URL('../fixtures/datasets/', import.meta.url).pathname;
const SPLITS = join(FIXTURES, 'm3agiqa-splits');
const TRAIN_NAMES = ['AttnGAN_normal_000.jpg', 'AttnGAN_normal_001.jpg', 'midjourney_normal_002.jpg', 'midjourney_lowstep_003.jpg', 'sd1.5_normal_004.jpg', 'sd1.5_highcorr_005.jpg', 'xl2.2_normal_006.jpg'];
const TEST_NAMES = ['glide_normal_007.jpg', 'dalle2_normal_008.jpg', 'xl2.2_normal_009.jpg'];
let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'agiqa-split-file-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('readSplitFile', () => {
  it('reads the reference repo JSON (data_processed): the basename of each entry\'s image path, split from the file name', async () => {
    const list = await readSplitFile({ split: null, path: join(SPLITS, 'directly_train_cls_minicpm_quality_multiround.jsonl') });
    expect(list).toMatchObject({ split: 'train', format: 'm3agiqa-json', names: TRAIN_NAMES });
    const res = await readSplitFile({ split: null, path: join(SPLITS, 'directly_test_cls_minicpm_quality_multiround_res.jsonl') });
    expect(res).toMatchObject({ split: 'test', format: 'm3agiqa-json', names: TEST_NAMES });
  });

  it('reads the same lists converted to CSV (name column, quoted descriptions)', async () => {
    const train = await readSplitFile({ split: null, path: join(SPLITS, 'agiqa3k_quality_train.csv') });
    expect(train).toMatchObject({ split: 'train', format: 'csv', names: TRAIN_NAMES });
    const test = await readSplitFile({ split: null, path: join(SPLITS, 'agiqa3k_quality_test.csv') });
    expect(test.names).toEqual(TEST_NAMES);
  });

  it('accepts JSON Lines, one {image} object per line', async () => {
    const file = join(work, 'lines_test.jsonl');
    await writeFile(file, `${TEST_NAMES.map((n) => JSON.stringify({ image: `C:\\data\\${n}` })).join('\n')}\n`);
    expect((await readSplitFile({ split: null, path: file })).names).toEqual(TEST_NAMES);
  });

  it('takes the split from SPLIT=, and asks for it when the name does not say', async () => {
    expect(parseSplitFileArg('test=a/gemini_on_minicpmv2_5_val_quality.json')).toEqual({ split: 'test', path: 'a/gemini_on_minicpmv2_5_val_quality.json' });
    expect(parseSplitFileArg('a/b.csv')).toEqual({ split: null, path: 'a/b.csv' });
    expect(() => parseSplitFileArg('holdout=a.csv')).toThrow(/Expected train=, val= or test= .* but received "holdout="/);
    expect(splitOfFileName('gemini_on_minicpmv2_5_val_quality.json')).toBe('val');
    expect(splitOfFileName('aigciqa2023_test.csv')).toBe('test');
    expect(splitOfFileName('trained_models.csv')).toBeNull();
    const file = join(work, 'mine.csv');
    await writeFile(file, 'name\nx.png\n');
    await expect(readSplitFile({ split: null, path: file })).rejects.toMatchObject({ code: 'AGQ_ERR_USAGE', message: expect.stringContaining(`--split-file train=${file}`) });
    expect((await readSplitFile({ split: 'val', path: file })).names).toEqual(['x.png']);
  });

  it('reads the paper\'s lists committed under training/splits (AGIQA-3K quality 2,385 / 597, no overlap)', async () => {
    const root = new URL('../../training/splits/m3-agiqa/agiqa-3k/', import.meta.url).pathname;
    const train = await readSplitFile({ split: null, path: join(root, 'directly_train_cls_minicpm_quality_multiround.csv') });
    const test = await readSplitFile({ split: null, path: join(root, 'directly_test_cls_minicpm_quality_multiround.csv') });
    expect([train.split, train.names.length, test.split, test.names.length]).toEqual(['train', 2385, 'test', 597]);
    expect(test.names.filter((n) => train.names.includes(n))).toEqual([]);
  });

  it('rejects content in neither format with the file and the problem', async () => {
    const noColumn = join(work, 'bad_train.csv');
    await writeFile(noColumn, 'file,score\nx.png,3\n');
    await expect(readSplitFile({ split: null, path: noColumn })).rejects.toMatchObject({ code: 'AGQ_ERR_DATASET_INVALID', message: expect.stringContaining('no name column (found file, score)') });
    const noImage = join(work, 'bad_test.json');
    await writeFile(noImage, JSON.stringify([{ id: '0', conversations: [] }]));
    await expect(readSplitFile({ split: null, path: noImage })).rejects.toMatchObject({ code: 'AGQ_ERR_DATASET_INVALID', message: expect.stringContaining('entry 0: no "image" path') });
    await expect(readSplitFile({ split: null, path: join(work, 'missing_train.csv') })).rejects.toMatchObject({ code: 'AGQ_ERR_DATASET_NOT_FOUND' });
  });
});

describe('applySplitLists', () => {
  it('puts each dataset image in its listed split, holds 10 % of train out for validation, and gives the same split from JSON and CSV', async () => {
    const dataset = await readDataset(join(FIXTURES, 'agiqa-3k'));
    const fromJson = await withSplitFiles(dataset, [join(SPLITS, 'directly_train_cls_minicpm_quality_multiround.jsonl'), join(SPLITS, 'directly_test_cls_minicpm_quality_multiround_res.jsonl')], 42);
    const fromCsv = await withSplitFiles(dataset, [join(SPLITS, 'agiqa3k_quality_train.csv'), join(SPLITS, 'agiqa3k_quality_test.csv')], 42);
    const splits = (d: typeof dataset) => Object.fromEntries(d.items.map((i) => [i.name, i.split]));
    expect(splits(fromJson.dataset)).toEqual(splits(fromCsv.dataset));
    const items = fromJson.dataset.items;
    expect(items.filter((i) => i.split === 'test').map((i) => i.name)).toEqual(TEST_NAMES);
    expect(items.filter((i) => i.split !== 'test').map((i) => i.name).sort()).toEqual([...TRAIN_NAMES].sort());
    expect(fromJson.dataset.split.counts).toEqual({ train: 6, val: 1, test: 3 });
    expect(fromJson.dataset.split.scheme).toContain('train=directly_train_cls_minicpm_quality_multiround.jsonl');
    expect(fromJson.report.files.map((f) => [f.split, f.listed, f.matched])).toEqual([
      ['train', 7, 7],
      ['test', 3, 3],
    ]);
    // MOS and prompts are the dataset's, untouched
    expect(items.find((i) => i.name === 'midjourney_normal_002.jpg')!.mos.quality).toBeCloseTo(3.867642035, 9);
  });

  it('leaves out images in no list and counts listed names the dataset lacks', async () => {
    const dataset = await readDataset(join(FIXTURES, 'agiqa-3k'));
    const { dataset: split, report } = applySplitLists(
      dataset,
      [
        { split: 'train', path: 't_train.csv', format: 'csv', names: ['AttnGAN_normal_000.jpg', 'AttnGAN_normal_001.jpg', 'elsewhere.png'] },
        { split: 'val', path: 'v_val.csv', format: 'csv', names: ['sd1.5_normal_004.jpg'] },
        { split: 'test', path: 't_test.csv', format: 'csv', names: ['glide_normal_007.jpg'] },
      ],
      { seed: 1 },
    );
    expect(split.items.map((i) => [i.name, i.split])).toEqual([
      ['AttnGAN_normal_000.jpg', 'train'],
      ['AttnGAN_normal_001.jpg', 'train'],
      ['sd1.5_normal_004.jpg', 'val'],
      ['glide_normal_007.jpg', 'test'],
    ]);
    expect(report.unlisted).toBe(6);
    expect(report.files[0]).toMatchObject({ listed: 3, matched: 2 });
  });

  it('rejects an image listed in two splits, and lists that match no image', async () => {
    const dataset = await readDataset(join(FIXTURES, 'agiqa-3k'));
    const both = [
      { split: 'train' as const, path: 'a_train.csv', format: 'csv' as const, names: ['glide_normal_007.jpg'] },
      { split: 'test' as const, path: 'a_test.csv', format: 'csv' as const, names: ['glide_normal_007.jpg'] },
    ];
    expect(() => applySplitLists(dataset, both, { seed: 1 })).toThrow(/glide_normal_007.jpg is listed for both train and test/);
    const none = [{ split: 'train' as const, path: 'n_train.csv', format: 'csv' as const, names: ['other.png'] }];
    expect(() => applySplitLists(dataset, none, { seed: 1 })).toThrow(/none of the listed images is in the dataset/);
  });
});
