// `agiqa models add` (a judge pack) and then `agiqa score --pack` and `agiqa eval --pack` with it, end
// to end against the model-server double: the probe's messages, the pack written, the scores read.
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { run as models } from '../../src/cli/commands/models.js';
import { run as score } from '../../src/cli/commands/score.js';
import { run as evaluate } from '../../src/cli/commands/eval.js';
import { closedPort } from '../fixtures/closed-port.js';
import { writeImages } from '../fixtures/datasets/make-images.js';
import { startJudgeDouble, type RateAnswer, type RecordedMessage, type RunningDouble } from '../fixtures/judge/judge-double.js';
import { encodePng } from '../fixtures/server/png.js';
import { runCaptured } from './run-cli.js';

const savedHome = process.env.AGIQA_HOME;
let home: string;
let double: RunningDouble | undefined;

beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'agiqa-models-add-'));
  process.env.AGIQA_HOME = home;
});
afterEach(async () => {
  await double?.close();
  double = undefined;
  if (savedHome === undefined) delete process.env.AGIQA_HOME;
  else process.env.AGIQA_HOME = savedHome;
});

describe('agiqa models add (judge packs)', () => {
  it('probes the server, writes the pack, and scores all three aspects with findings', async () => {
    double = await startJudgeDouble({ flavor: 'ollama', models: ['qwen2.5vl:7b'] });
    const added = await runCaptured(() => models(['add', 'myjudge', '--judge-url', double!.url, '--judge-model', 'qwen2.5vl:7b', '--concurrency', '3', '--image-size', '512']));
    expect(added.stderr).toBe('');
    expect(added.code).toBe(0);
    expect(added.stdout).toMatch(/^myjudge: judge pack written to .*myjudge \(qwen2\.5vl:7b at http:\/\/127\.0\.0\.1:\d+, ollama; version 1\+[0-9a-f]{12}\)/);
    const pack = JSON.parse(await readFile(join(home, 'models', 'myjudge', 'pack.json'), 'utf8')) as { input: Record<string, any>; files: unknown[] };
    expect(pack.files).toEqual([]);
    expect(pack.input.server).toMatchObject({ url: double.url, flavor: 'ollama', model: 'qwen2.5vl:7b', concurrency: 3, apiKeyEnv: null });
    expect(pack.input.image).toEqual({ maxSide: 512, format: 'png' });
    expect(pack.input.rounds.source.describe.commit).toBe('2f76702d40e8edaf7c22842676918c686a8e0dad');
    // The probe sent one tiny image and asked for log-probabilities.
    expect(double.chatRequests()[0]!.images).toEqual([{ mime: 'image/png', width: 32, height: 32, bytes: expect.any(Number) }]);
    expect(double.chatRequests()[0]!.body).toMatchObject({ logprobs: true, top_logprobs: 5, max_tokens: 1 });

    const dir = await mkdtemp(join(tmpdir(), 'agiqa-judge-img-'));
    await writeFile(join(dir, 'fox.png'), encodePng(300, 200, 1));
    const json = await runCaptured(() => score([join(dir, 'fox.png'), '--pack', 'myjudge', '--prompt', 'a fox', '--json']));
    expect(json.code).toBe(0);
    const result = JSON.parse(json.stdout) as { aspects: Record<string, { mos: number | null; level?: string }>; findings: { aspect: string; code: string }[]; pack: { name: string } };
    expect(Object.values(result.aspects).map((a) => a.level)).toEqual(['good', 'good', 'good']);
    expect(result.findings.filter((f) => f.code === 'judge-description').map((f) => f.aspect)).toEqual(['quality', 'correspondence', 'authenticity']);
    expect(result.pack.name).toBe('myjudge');

    const table = await runCaptured(() => score([join(dir, 'fox.png'), '--pack', 'myjudge', '--prompt', 'a fox']));
    expect(table.stdout).toMatch(/fox\.png .*3\.59 good +3\.59 good +3\.59 good/);
    expect(table.stdout).toContain('  quality: The image shows a red fox in fresh snow, sharply focused with natural colours.');
  });

  it('says what is wrong: the model not served, no vision, the server down; and warns without logprobs', async () => {
    double = await startJudgeDouble({ flavor: 'llama.cpp', models: ['llava-1.6'] });
    const missing = await runCaptured(() => models(['add', 'j', '--judge-url', double!.url, '--judge-model', 'minicpm-v']));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/does not serve the model "minicpm-v" \(it serves: llava-1\.6\) — .*\[AGQ_ERR_JUDGE_MODEL_NOT_FOUND\]/);

    double.set({ vision: false });
    const blind = await runCaptured(() => models(['add', 'j', '--judge-url', double!.url, '--judge-model', 'llava-1.6']));
    expect(blind.code).toBe(1);
    expect(blind.stderr).toMatch(/does not accept images \(image input is not supported - hint: .*mmproj\) — .*\[AGQ_ERR_JUDGE_NO_VISION\]/);

    double.set({ vision: true, logprobs: false });
    const flat = await runCaptured(() => models(['add', 'j', '--judge-url', double!.url, '--judge-model', 'llava-1.6']));
    expect(flat.code).toBe(0);
    expect(flat.stderr).toContain('sent no log-probabilities');
    const pack = JSON.parse(await readFile(join(home, 'models', 'j', 'pack.json'), 'utf8')) as { input: { server: { flavor: string } } };
    expect(pack.input.server.flavor).toBe('llama.cpp');

    const again = await runCaptured(() => models(['add', 'j', '--judge-url', double!.url, '--judge-model', 'llava-1.6']));
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('add --force to replace it');

    const down = await runCaptured(async () => models(['add', 'k', '--judge-url', await closedPort(), '--judge-model', 'x']));
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/^agiqa: The judge server at http:\/\/127\.0\.0\.1:\d+\/? cannot be reached \(ECONNREFUSED.*\[AGQ_ERR_JUDGE_UNREACHABLE\]/);
  });

  it('reports every bad option at once', async () => {
    const bad = await runCaptured(() => models(['add', 'Bad Name', '--judge-url', 'ftp://x', '--concurrency', '0']));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('Expected an http:// or https:// URL for --judge-url but received "ftp://x"');
    expect(bad.stderr).toContain('needs --judge-model');
    expect(bad.stderr).toContain('Expected a whole number from 1 to 64 for --concurrency but received "0"');
    expect(bad.stderr).toContain('Expected a pack name of lowercase letters');
  });

  it('measures the judge on an AGIQA-3K-format dataset with agiqa eval --pack', async () => {
    const MOS = [0.4, 1.2, 2.3, 3.1, 4.6];
    const levels = ['bad', 'poor', 'fair', 'good', 'excellent'];
    // The double rates each image by the number in its prompt, so the judge's MOS follows the labels.
    const rate = (messages: RecordedMessage[]): RateAnswer => {
      const first = JSON.stringify(messages[0]!.content);
      const i = Number(/number (\d)/.exec(first)![1]);
      return { first: { [` ${levels[i]!}`]: 0.8, ' fair': 0.2 } };
    };
    double = await startJudgeDouble({ flavor: 'llama.cpp', rate });
    expect((await runCaptured(() => models(['add', 'eval-judge', '--judge-url', double!.url, '--judge-model', 'minicpm-v:8b']))).code).toBe(0);
    const dir = join(home, 'agiqa-3k');
    await mkdir(dir);
    const rows = MOS.map((mos, i) => ({ name: `sd1.5_normal_${i}.jpg`, mos }));
    const header = 'name,prompt,adj1,adj2,style,mos_quality,std_quality,mos_align,std_align';
    await writeFile(join(dir, 'data.csv'), `${[header, ...rows.map((r, i) => `${r.name},"a prompt, number ${i}",,,,${r.mos},0.5,${r.mos},0.5`)].join('\n')}\n`);
    await writeImages(join(dir, 'images'), rows);
    const out = await runCaptured(() => evaluate(['--dataset', dir, '--pack', 'eval-judge', '--split', 'all', '--aspect', 'quality,correspondence']));
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/quality\s+5\s+1\.0000/);
    expect(out.stdout).toMatch(/correspondence\s+5\s+1\.0000/);
    expect(out.stdout).toMatch(/pack\s+eval-judge 1\+[0-9a-f]{12}/);
  });
});
