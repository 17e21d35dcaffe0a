import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/commands/eval.js';
import type { EvaluationReport } from '../../src/evaluation/evaluate.js';
import { writeImages } from '../fixtures/datasets/make-images.js';
import { makeTinyPack } from '../fixtures/datasets/tiny-pack.js';
import { runCaptured } from './run-cli.js';

let work: string;
let tinyPack: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'agiqa-eval-'));
  tinyPack = await makeTinyPack(join(work, 'tiny-lite'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const MOS = [0.4, 1.1, 1.7, 2.2, 2.6, 3.0, 3.4, 3.9, 4.3, 4.7];

describe('agiqa eval', () => {
  it('measures an AGIQA-3K-format dataset, lists the missing image and draws the plot', async () => {
    const dir = join(work, 'agiqa-3k');
    await mkdir(dir);
    const rows = MOS.map((mos, i) => ({ name: `sd1.5_normal_${String(i).padStart(3, '0')}.jpg`, mos }));
    const header = 'name,prompt,adj1,adj2,style,mos_quality,std_quality,mos_align,std_align';
    const lines = rows.map((r, i) => `${r.name},"a prompt, number ${i}",,,,${r.mos},0.5,${(5 - r.mos).toFixed(2)},0.5`);
    lines.push('sd1.5_normal_999.jpg,a lost image,,,,2.5,0.5,2.5,0.5');
    await writeFile(join(dir, 'data.csv'), `${[header, ...lines].join('\n')}\n`);
    // real AGIQA-3K files are .jpg; the scorer reads by content, so PNG bytes under .jpg are fine here
    await writeImages(join(dir, 'images'), rows);
    const plot = join(work, 'plots', 'agiqa3k.png');
    const reportPath = join(work, 'agiqa3k.json');
    const { code, stdout, stderr } = await runCaptured(() => run(['--dataset', dir, '--pack', tinyPack, '--workers', '1', '--report', reportPath, '--plot', plot]));
    expect(code).toBe(3);
    expect(stderr).toContain('1 listed image(s) not found');
    expect(stderr).toContain('sd1.5_normal_999.jpg');
    expect(stdout).toMatch(/aspect\s+n\s+SRCC\s+PLCC\s+PLCC\(fit\)\s+KRCC\s+RMSE\s+RMSE\(fit\)/);
    expect(stdout).toMatch(/quality\s+10\s+1\.0000/);
    const report = JSON.parse(await readFile(reportPath, 'utf8')) as EvaluationReport;
    expect(report.aspects.quality!.srcc).toBeCloseTo(1, 6);
    expect(report.aspects.quality!.plccLogistic).toBeGreaterThan(0.98);
    expect(report.notJudged.correspondence).toMatch(/not judged/);
    expect(report.missing).toEqual(['sd1.5_normal_999.jpg']);
    expect(report.predictions).toHaveLength(10);
    const png = await readFile(plot);
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
  });

  it('measures only the test list of --split-file, in the reference repo JSON or as CSV', async () => {
    const dir = join(work, 'agiqa-3k-split');
    await mkdir(dir);
    const rows = MOS.map((mos, i) => ({ name: `sd1.5_normal_${String(i).padStart(3, '0')}.jpg`, mos }));
    const header = 'name,prompt,adj1,adj2,style,mos_quality,std_quality,mos_align,std_align';
    await writeFile(join(dir, 'data.csv'), `${[header, ...rows.map((r) => `${r.name},a prompt,,,,${r.mos},0.5,2.5,0.5`)].join('\n')}\n`);
    await writeImages(join(dir, 'images'), rows);
    const test = rows.filter((_, i) => i % 3 === 0);
    const entries = test.map((r, i) => ({ id: String(i), image: `/home/someone/agiqa-3k/images/${r.name}`, conversations: [] }));
    await writeFile(join(dir, 'directly_test_cls_minicpm_quality_multiround.jsonl'), JSON.stringify(entries, null, 4));
    await writeFile(join(dir, 'agiqa3k_quality_test.csv'), `name,gt_level_word,pred_level_word,description_generated\n${test.map((r) => `${r.name},fair,fair,"made up, text"`).join('\n')}\n`);
    for (const list of ['directly_test_cls_minicpm_quality_multiround.jsonl', 'agiqa3k_quality_test.csv']) {
      const reportPath = join(work, `split-${list}.json`);
      const { code, stdout, stderr } = await runCaptured(() => run(['--dataset', join(dir, 'data.csv'), '--split-file', join(dir, list), '--split', 'test', '--pack', tinyPack, '--workers', '1', '--report', reportPath]));
      expect(code, stderr).toBe(0);
      expect(stdout).toContain(`split    test (split files test=${list}`);
      const report = JSON.parse(await readFile(reportPath, 'utf8')) as EvaluationReport;
      expect(report.predictions.map((p) => p.name)).toEqual(test.map((r) => r.name));
    }
  });

  it('reports every bad option at once', async () => {
    const { code, stderr } = await runCaptured(() => run(['--format', 'koniq', '--split', 'dev', '--aspect', 'beauty']));
    expect(code).toBe(2);
    expect(stderr).toContain('--dataset is required');
    expect(stderr).toContain('Expected one of agiqa-3k, aigciqa2023, aigiqa-20k, csv for --format but received "koniq"');
    expect(stderr).toContain('for --split but received "dev"');
    expect(stderr).toContain('for --aspect but received "beauty"');
  });
});
