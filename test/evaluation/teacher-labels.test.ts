// The teacher's label cache and labelling loop against the model-server double: each answer asked
// once, kept across runs (an interrupted run resumes where it stopped, a torn last line is asked
// again), keyed by prompt and model, and a pace estimate once a few images were asked.
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { judgeTeacher } from '../../src/evaluation/judge-teacher.js';
import { LabelCache, labelImages, type LabelItem, type LabelProgress } from '../../src/evaluation/teacher-labels.js';
import { writeImages } from '../fixtures/datasets/make-images.js';
import { brightRate } from '../fixtures/distill/bright-teacher.js';
import { startJudgeDouble, type RunningDouble } from '../fixtures/judge/judge-double.js';
import { makeJudgePack } from '../fixtures/judge/judge-pack.js';

let work: string;
let double: RunningDouble | undefined;
let items: LabelItem[];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'agiqa-labels-'));
  const rows = Array.from({ length: 8 }, (_, i) => ({ name: `img${i}.png`, mos: 0.5 + i * 0.5 }));
  await writeImages(join(work, 'images'), rows);
  items = rows.map((r) => ({ name: r.name, path: join(work, 'images', r.name), prompt: 'a grey square' }));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});
afterEach(async () => {
  await double?.close();
  double = undefined;
});

async function teacherOn(options: { model?: string } = {}) {
  double = await startJudgeDouble({ flavor: 'llama.cpp', models: ['minicpm-v:8b', 'qwen2.5vl:7b'], rate: brightRate });
  const { pack } = await makeJudgePack(double.url, { model: options.model });
  return judgeTeacher(pack);
}

/** Images the double was sent in round 1 of an aspect conversation (one per image and aspect). */
const asked = (d: RunningDouble) => d.chatRequests().filter((r) => (r.body.messages as unknown[]).length === 1).length;

describe('labelImages', () => {
  it('asks each image and aspect once, keeps every answer in the JSON Lines cache, and a rerun asks nothing', async () => {
    const teacher = await teacherOn();
    const file = join(work, 'once', 'labels.jsonl');
    const first = await labelImages(items, teacher, await LabelCache.open(file), { concurrency: 2, aspects: ['quality', 'authenticity'] });
    expect(first).toMatchObject({ asked: 16, cached: 0, failed: [] });
    expect(asked(double!)).toBe(16);
    const lines = (await readFile(file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(16);
    // the brightest image is rated highest: the teacher's distribution was read, not a constant
    const quality = new Map(lines.filter((l) => l.aspect === 'quality').map((l) => [l.name, l.mos]));
    expect(quality.get('img7.png')).toBeGreaterThan(quality.get('img0.png') + 2);
    expect(lines[0]).toMatchObject({ model: 'minicpm-v:8b', probabilities: expect.any(Array), description: expect.stringContaining('red fox') });

    const again = await labelImages(items, teacher, await LabelCache.open(file), { concurrency: 2, aspects: ['quality', 'authenticity'] });
    expect(again).toMatchObject({ asked: 0, cached: 16 });
    expect(asked(double!)).toBe(16);
    expect(again.labels.get('img3.png')!.quality!.mos).toBe(first.labels.get('img3.png')!.quality!.mos);
  });

  it('resumes an interrupted run: images answered before the stop are not asked again, a torn last line is', async () => {
    const teacher = await teacherOn();
    const file = join(work, 'resume', 'labels.jsonl');
    const controller = new AbortController();
    const stopAfter3 = (p: LabelProgress) => {
      if (p.done >= 3) controller.abort();
    };
    await expect(labelImages(items, teacher, await LabelCache.open(file), { concurrency: 1, aspects: ['quality'], signal: controller.signal, onProgress: stopAfter3 })).rejects.toThrow();
    const kept = (await readFile(file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l).name as string);
    expect(kept).toEqual(['img0.png', 'img1.png', 'img2.png']);
    // a kill while writing leaves the last line cut short
    const text = await readFile(file, 'utf8');
    const lines = text.trim().split('\n');
    await writeFile(file, `${lines.slice(0, 2).join('\n')}\n${lines[2]!.slice(0, 40)}`);
    const before = asked(double!);
    const rest = await labelImages(items, teacher, await LabelCache.open(file), { concurrency: 1, aspects: ['quality'] });
    expect(rest).toMatchObject({ asked: 6, cached: 2 });
    expect(asked(double!) - before).toBe(6);
    expect(rest.labels.size).toBe(8);
    // the answers after the torn line are whole lines of their own
    expect((await LabelCache.open(file)).size).toBe(8);
  });

  it('asks again when the model or the prompt changes', async () => {
    const file = join(work, 'keyed', 'labels.jsonl');
    const one = [items[0]!];
    const teacher = await teacherOn();
    await labelImages(one, teacher, await LabelCache.open(file), { concurrency: 1, aspects: ['quality'] });
    expect((await labelImages(one, teacher, await LabelCache.open(file), { concurrency: 1, aspects: ['quality'] })).asked).toBe(0);
    expect((await labelImages([{ ...items[0]!, prompt: 'another prompt' }], teacher, await LabelCache.open(file), { concurrency: 1, aspects: ['quality'] })).asked).toBe(1);
    await double!.close();
    const other = await teacherOn({ model: 'qwen2.5vl:7b' });
    expect((await labelImages(one, other, await LabelCache.open(file), { concurrency: 1, aspects: ['quality'] })).asked).toBe(1);
  });

  it('estimates the pace once three images were asked, and lists an image the server refuses without stopping', async () => {
    const teacher = await teacherOn();
    const progress: LabelProgress[] = [];
    // the first image's round 1 is refused (a 400 is not retried), the rest answer
    double!.failNext({ status: 400, body: { error: { code: 400, message: 'bad request', type: 'invalid_request_error' } } });
    const outcome = await labelImages(items, teacher, await LabelCache.open(join(work, 'pace', 'labels.jsonl')), { concurrency: 1, aspects: ['quality'], onProgress: (p) => progress.push(p) });
    expect(outcome.failed).toEqual([{ name: 'img0.png', reason: expect.stringMatching(/\[AGQ_ERR_JUDGE_[A-Z_]+\]$/) }]);
    expect(outcome.labels.size).toBe(7);
    expect(progress.map((p) => p.secondsPerImage === null)).toEqual([true, true, true, true, false, false, false, false, false]);
    const last = progress.at(-1)!;
    expect(last).toMatchObject({ done: 8, total: 8, etaSeconds: 0 });
    expect(last.secondsPerImage).toBeGreaterThan(0);
  });

  it('ignores unparsable lines and appends after them', async () => {
    const file = join(work, 'junk', 'labels.jsonl');
    const cache = await LabelCache.open(file);
    await appendFile(file, 'not json\n{"no":"key"}\n');
    expect((await LabelCache.open(file)).size).toBe(0);
    expect(cache.size).toBe(0);
  });
});
