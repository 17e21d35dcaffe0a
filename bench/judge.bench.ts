// The judge pack's cost beyond its model server, and the cascade's cost for images it does not send
// to the judge. (1) Judge overhead per aspect: a JudgeScorer scoring a 1024² PNG (6 requests, one at a
// time) against the same 6 request bodies replayed with bare fetch to the same double, alternating;
// the difference ÷ 3 aspects is what agiqa adds (decode, resize + PNG encode, JSON, parsing).
// (2) Cascade: the lite pack alone vs the cascade (lite + a judge whose every answer takes 2 s) on the
// images outside the band, while the images inside it wait on the judge in the background.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { decodeImage, encodeForModel } from '../src/image/index.js';
import { judgePackManifest, readRounds, writeJudgePack } from '../src/model/judge/judge-pack.js';
import { loadPack } from '../src/model/packs.js';
import { CascadeScorer, cascadeReason, createScorer, judgeImage, JudgeScorer, type ScoreResult } from '../src/scoring/index.js';
import { median, peakRssMb, percentile, round2, writeResults } from './lib.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 30);
const SOURCE = fileURLToPath(new URL('../examples/coffee.png', import.meta.url));
const PROMPT = 'a cup of coffee on a wooden table, morning light';

async function startDouble(delayMs: number): Promise<{ url: string; child: ChildProcess }> {
  const child = fork(fileURLToPath(new URL('./judge-double-child.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'], env: { ...process.env, JUDGE_DELAY_MS: String(delayMs) }, stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.once('data', (chunk: Buffer) => resolve((JSON.parse(chunk.toString()) as { url: string }).url));
    child.once('exit', (code) => reject(new Error(`judge double exited with ${code}`)));
  });
  return { url, child };
}

async function judgePack(url: string, name: string, concurrency: number): Promise<string> {
  const home = await mkdtemp(join(tmpdir(), 'agiqa-judge-bench-'));
  await writeJudgePack(judgePackManifest({ name, url, model: 'minicpm-v:8b', flavor: 'llama.cpp', rounds: await readRounds(), server: { concurrency, timeoutMs: 60_000 } }), home);
  return home;
}

/** 1024² PNGs as ComfyUI saves them, each a different crop and tint of the example. */
async function images(count: number): Promise<Uint8Array[]> {
  const source = await readFile(SOURCE);
  return Promise.all(
    Array.from({ length: count }, (_, i) => {
      let image = sharp(source)
        .resize(1064 + (i % 7) * 40, 1064 + (i % 5) * 40, { fit: 'cover' })
        .extract({ left: (i * 13) % 40, top: (i * 7) % 40, width: 1024, height: 1024 })
        .modulate({ brightness: 0.6 + (i % 9) * 0.1, saturation: 0.5 + (i % 4) * 0.3 });
      // Every third image blurred, more or less: the lite scores spread over the scale.
      if (i % 3 === 0) image = image.blur(0.3 + (i % 6));
      return image.png({ compressionLevel: 4, adaptiveFiltering: true }).toBuffer();
    }),
  );
}

// ── (1) judge overhead per aspect ─────────────────────────────────────────────────────────────────
const fast = await startDouble(0);
const home = await judgePack(fast.url, 'bench-judge', 1);
const judge = JudgeScorer.create(await loadPack('bench-judge', { home }));
const [image] = await images(1);
const request = { image: image!, name: 'bench.png', prompt: PROMPT };

// The request bodies the judge sends, captured once, replayed by the baseline with bare fetch.
const realFetch = globalThis.fetch;
let captured: { url: string; body: string }[] = [];
globalThis.fetch = (async (input: string | URL | Request, init?: RequestInit) => {
  captured.push({ url: String(input), body: String(init?.body) });
  return realFetch(input, init);
}) as typeof fetch;
await judge.score(request);
globalThis.fetch = realFetch;
const bodies = captured;
captured = [];

const bare = async (): Promise<number> => {
  const t0 = performance.now();
  for (const { url, body } of bodies) await (await realFetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body })).text();
  return performance.now() - t0;
};
for (let i = 0; i < 5; i++) {
  await judge.score(request);
  await bare();
}
const judged: number[] = [];
const rounds: number[] = [];
const bared: number[] = [];
const decodes: number[] = [];
const encodesPng: number[] = [];
const encodesJpeg: number[] = [];
const decoded = await decodeImage(image!, 'bench.png');
const input = judge.input;
// CPU ms of this process (every thread: libvips runs in its own) per call, beside wall time: the double
// runs in another process, so its work is not counted, and other processes' load moves CPU time far
// less than wall time on a shared machine.
const cpu = new Map<number[], number[]>();
const timed = async (into: number[], work: () => Promise<unknown>): Promise<void> => {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await work();
  into.push(performance.now() - t0);
  const c = process.cpuUsage(c0);
  if (!cpu.has(into)) cpu.set(into, []);
  cpu.get(into)!.push((c.user + c.system) / 1000);
};
const cpuMedian = (of: number[]) => median(cpu.get(of) ?? []);
const steps = [
  () => timed(bared, bare),
  () => timed(judged, () => judge.score(request)),
  () => timed(rounds, () => judgeImage(input, decoded, PROMPT)),
];
for (let i = 0; i < RUNS; i++) {
  // The order rotates: whatever one leaves behind (garbage of 2 MB bodies, caches) weighs on each alike.
  for (let k = 0; k < steps.length; k++) await steps[(i + k) % steps.length]!();
}
for (let i = 0; i < RUNS; i++) {
  await timed(decodes, () => decodeImage(image!, 'bench.png'));
  await timed(encodesPng, () => encodeForModel(decoded, { maxSide: 768, format: 'png' }));
  await timed(encodesJpeg, () => encodeForModel(decoded, { maxSide: 768, format: 'jpeg' }));
}
// What agiqa adds per aspect beyond the server's answers: the whole score, and the rounds alone
// (the decoded image's resize + encode, done once per image, taken out).
const perAspect = (median(judged) - median(bared)) / 3;
const perAspectRounds = (median(rounds) - median(encodesPng) - median(bared)) / 3;
const perAspectCpu = (cpuMedian(judged) - cpuMedian(bared)) / 3;
const perAspectRoundsCpu = (cpuMedian(rounds) - cpuMedian(encodesPng) - cpuMedian(bared)) / 3;
fast.child.kill();

// ── (2) the cascade for images outside the band ──────────────────────────────────────────────────
const slow = await startDouble(2_000);
const slowHome = await judgePack(slow.url, 'bench-slow-judge', 4);
const lite = await createScorer({ pack: 'lite', workers: 2 });
const slowJudge = JudgeScorer.create(await loadPack('bench-slow-judge', { home: slowHome }));
const set = await images(24);
const liteMos: number[] = [];
for (const bytes of set) liteMos.push((await lite.score({ image: bytes, name: 'x.png' })).mos);
// Threshold at the median lite MOS; the band takes the quarter of the images closest to it.
const threshold = median(liteMos);
const band = percentile(liteMos.map((m) => Math.abs(m - threshold)), 25);
const settings = { threshold, band, flatEntropy: 1, deadlineMs: 30_000 };
const cascade = new CascadeScorer(lite, slowJudge, settings);
const inBand = (r: ScoreResult) => cascadeReason(r, settings) !== null;
const outside = set.filter((_, i) => Math.abs(liteMos[i]! - threshold) > band);
const alone: number[] = [];
const cascaded: number[] = [];
const background: Promise<unknown>[] = [];
let judgedByJudge = 0;
for (let round = 0; round < Math.max(1, Math.round(RUNS / 10)); round++) {
  for (const [i, bytes] of set.entries()) {
    const req = { image: bytes, name: `img-${i}.png`, prompt: PROMPT };
    const isOutside = Math.abs(liteMos[i]! - threshold) > band;
    if (!isOutside) {
      // Sent to the judge: 2 s per answer, waited on in the background like the bridge's other images.
      background.push(cascade.score(req).then((r) => void (r.judge?.cascade?.decidedBy === 'judge' && judgedByJudge++)));
      continue;
    }
    const order = (i + round) % 2 === 0;
    if (order) {
      const t0 = performance.now();
      await lite.score(req);
      alone.push(performance.now() - t0);
    }
    const t0 = performance.now();
    const r = await cascade.score(req);
    cascaded.push(performance.now() - t0);
    if (inBand(r)) throw new Error('an image outside the band went to the judge');
    if (!order) {
      const t2 = performance.now();
      await lite.score(req);
      alone.push(performance.now() - t2);
    }
  }
}
const waitStart = performance.now();
await Promise.all(background);
const waitedMs = performance.now() - waitStart;
await cascade.close();
slow.child.kill();

const p50Alone = median(alone);
const p50Cascade = median(cascaded);
await writeResults({
  name: 'judge',
  title: 'Judge packs (the M3 rounds through a model server) and the cascade',
  notes: [
    `judge: a 1024² PNG (ComfyUI-style encoding), 3 aspects × 2 rounds = 6 requests one at a time (pack concurrency 1), image sent at 768 px as PNG; the server is the protocol double (llama.cpp shapes) in its own process answering at once; ${RUNS} timed runs after 5 warm-up, the order of score, rounds and baseline rotating`,
    `baseline: the same 6 request bodies (captured from the judge) replayed with bare fetch to the same double. Per aspect, whole score = (JudgeScorer.score − baseline) ÷ 3, which includes decoding the 1024² upload (every pack pays it) and the resize + encode of the image sent (once per image); rounds only = (judgeImage on the decoded image − its resize + PNG encode − baseline) ÷ 3: request building, the concurrency limit, JSON, reading the level words`,
    `cascade: lite pack (2 workers) alone vs lite + a judge whose every answer takes 2 s (the double with a 2 s delay, concurrency 4); 24 images, threshold = median lite MOS ${round2(threshold)}, band ±${round2(band)} (the quarter closest to it go to the judge, in the background); latency measured on the ${outside.length} images outside the band, ${alone.length} samples each, order alternated; ${judgedByJudge} background verdicts came from the judge, all within ${Math.round(waitedMs)} ms after the last timed image`,
    `peak RSS ${peakRssMb()} MB`,
  ],
  table: {
    columns: ['measure', 'median ms', 'p90 ms', 'CPU ms (median)', 'target'],
    rows: [
      ['judge scorer, 1 image (6 requests)', round2(median(judged)), round2(percentile(judged, 90)), round2(cpuMedian(judged)), ''],
      ['same requests, bare fetch (the double answering)', round2(median(bared)), round2(percentile(bared, 90)), round2(cpuMedian(bared)), ''],
      ['decode the 1024² PNG upload (every pack)', round2(median(decodes)), round2(percentile(decodes, 90)), round2(cpuMedian(decodes)), ''],
      ['resize to 768 + encode PNG (once per image)', round2(median(encodesPng)), round2(percentile(encodesPng, 90)), round2(cpuMedian(encodesPng)), ''],
      ['resize to 768 + encode JPEG q92 (pack option)', round2(median(encodesJpeg)), round2(percentile(encodesJpeg, 90)), round2(cpuMedian(encodesJpeg)), ''],
      ['judge overhead per aspect, whole score', round2(perAspect), '', round2(perAspectCpu), ''],
      ['**judge overhead per aspect, rounds only**', round2(perAspectRounds), '', round2(perAspectRoundsCpu), '≤ 5'],
      ['lite alone, image outside the band', round2(p50Alone), round2(percentile(alone, 90)), '', ''],
      ['cascade (judge 2 s), image outside the band', round2(p50Cascade), round2(percentile(cascaded, 90)), '', ''],
      ['**cascade − lite alone (p50)**', round2(p50Cascade - p50Alone), '', '', '≤ 20'],
    ],
  },
  raw: { cpu: { judged: cpu.get(judged), rounds: cpu.get(rounds), bared: cpu.get(bared), decodes: cpu.get(decodes), encodesPng: cpu.get(encodesPng) }, judged, rounds, bared, decodes, encodesPng, encodesJpeg, alone, cascaded, threshold, band, waitedMs },
});
process.stdout.write(`judge overhead per aspect ${round2(perAspect)} ms (rounds only ${round2(perAspectRounds)} ms; CPU ${round2(perAspectCpu)} / ${round2(perAspectRoundsCpu)} ms); cascade p50 ${round2(p50Cascade)} vs lite ${round2(p50Alone)} ms\n`);
process.exit(0);
