import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDataset } from '../../src/evaluation/datasets.js';
import { evaluateDataset, formatMetricsTable } from '../../src/evaluation/evaluate.js';
import { createScorer, type Scorer } from '../../src/scoring/index.js';
import { writeImages } from '../fixtures/datasets/make-images.js';
import { makeTinyPack } from '../fixtures/datasets/tiny-pack.js';

// The real scorer (worker pool, decode, signals, ONNX) with the tiny pack, whose MOS rises with
// brightness; the generated images are brighter for higher MOS, so SRCC must be 1.
let work: string;
let scorer: Scorer;
const MOS = [0.4, 1.1, 1.7, 2.2, 2.6, 3.0, 3.4, 3.9, 4.3, 4.7];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'agiqa-evaluate-'));
  scorer = await createScorer({ packDir: await makeTinyPack(join(work, 'tiny-lite')), pack: 'tiny-lite', workers: 1 });
});
afterAll(async () => {
  await scorer?.close();
  await rm(work, { recursive: true, force: true });
});

describe('evaluateDataset', () => {
  it('AIGCIQA2023 format (0–100 MOS): the 3:1 test split, unjudged aspects with the pack\'s reason', async () => {
    const dir = join(work, 'aigciqa2023');
    await mkdir(dir);
    const header = ',name,prompt,style,class,quality_mos,authenticity_mos,correspondence_mos,quality_std,authenticity_std,correspondence_std';
    const mos = [...MOS, ...MOS.map((m) => m * 0.9 + 0.2)];
    const rows = mos.map((m, i) => ({ name: `${i}.png`, mos: m }));
    const lines = rows.map((r, i) => `${i},${r.name},a corgi,Basic,Animals,${r.mos * 20},${r.mos * 18},${r.mos * 19},1,1,1`);
    await writeFile(join(dir, 'AIGCIQA2023.csv'), `${[header, ...lines].join('\n')}\n`);
    await writeImages(join(dir, 'Image', 'allimg'), rows);
    const progress: number[] = [];
    const report = await evaluateDataset(scorer, await readDataset(dir), { split: 'test', onProgress: (done) => progress.push(done) });
    expect(report.dataset.listed).toBe(5);
    expect(progress).toEqual([0, 1, 2, 3, 4, 5]);
    expect(report.aspects.quality!.n).toBe(5);
    expect(report.aspects.quality!.srcc).toBeCloseTo(1, 6);
    expect(Object.keys(report.notJudged).sort()).toEqual(['authenticity', 'correspondence']);
    expect(report.pack.name).toBe('tiny-lite');
  });

  it('AIGIQA-20K format: the official test file only', async () => {
    const dir = join(work, 'aigiqa-20k');
    await mkdir(dir);
    const rows = MOS.map((mos, i) => ({ name: `SDXL_${String(i).padStart(4, '0')}.png`, mos }));
    await writeFile(join(dir, 'info_train.csv'), `name,prompt,mos\n${rows.slice(0, 4).map((r) => `${r.name},"a, b",${r.mos}`).join('\n')}\n`);
    await writeFile(join(dir, 'info_test.csv'), `name,prompt,mos\n${rows.slice(4).map((r) => `${r.name},c,${r.mos}`).join('\n')}\n`);
    await writeImages(dir, rows);
    const report = await evaluateDataset(scorer, await readDataset(dir), { split: 'test' });
    expect(report.aspects.quality!.n).toBe(6);
    expect(report.aspects.quality!.srcc).toBeCloseTo(1, 6);
    expect(formatMetricsTable(report.aspects)).toMatch(/^aspect\s+n\s+SRCC/);
  });

  it('generic CSV: inverse ratings give SRCC −1; an unreadable file is listed, not fatal', async () => {
    const dir = join(work, 'mine');
    await mkdir(dir);
    const rows = MOS.map((mos, i) => ({ name: `shots/${i}.png`, mos }));
    await writeImages(dir, rows);
    await writeFile(join(dir, 'shots', 'broken.png'), 'not a png at all');
    const csv = [...rows.map((r) => `${r.name},,${5 - r.mos}`), 'shots/broken.png,,2'];
    await writeFile(join(dir, 'ratings.csv'), `image,prompt,mos\n${csv.join('\n')}\n`);
    const report = await evaluateDataset(scorer, await readDataset(join(dir, 'ratings.csv')), { split: 'all', aspects: ['quality'] });
    expect(report.aspects.quality!.srcc).toBeCloseTo(-1, 6);
    expect(report.failed).toHaveLength(1);
    expect(report.failed[0]!.name).toBe('shots/broken.png');
    expect(report.failed[0]!.code).toMatch(/^AGQ_ERR_IMAGE_/);
  });
});
