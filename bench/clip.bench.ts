// Benchmark of the clip-vit-b32 path with random-weight ONNX files of the real ViT-B/32 architecture
// (generated here by training/clip/make_vitb32_random.py, not committed: the real files cannot be
// downloaded on this machine). Two variants: fp32 towers, and towers int8-quantized dynamically like
// the Xenova `_quantized` files that `agiqa models pull clip-vit-b32` installs. Per image: image tower,
// text tower, the whole score with and without the prompt cached, a batch of 8 sharing one prompt,
// and the peak RSS of a process that only scores. Each measurement runs in its own child process.
// Writes bench/results/clip.json.  Run: npx tsx bench/clip.bench.ts [--dir FOLDER]
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, symlink } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { ClipEncoder } from '../src/model/clip/clip-encoder.js';
import { writeClipPackManifest } from '../src/model/clip/clip-pack-store.js';
import { KNOWN_PACKS, packFilesOf, type KnownPack } from '../src/model/clip/known-packs.js';
import { loadPack } from '../src/model/packs.js';
import { ClipScorer } from '../src/scoring/clip-scorer.js';
import { median, peakRssMb, round2, writeResults } from './lib.js';

const THREADS = 2;
const RUNS = 25;
const BATCH_RUNS = 6;
const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const root = arg('--dir') ?? join(tmpdir(), 'agiqa-bench-vitb32');
const generated = join(root, 'clip-vit-b32-random');

const real = KNOWN_PACKS.find((p) => p.name === 'clip-vit-b32')!;
const VARIANTS: Record<string, KnownPack> = {
  fp32: { ...real, name: 'clip-vit-b32-fp32', visionFile: 'onnx/vision_model.onnx', textFile: 'onnx/text_model.onnx', input: { ...real.input, dtype: 'fp32' } },
  q8: { ...real, name: 'clip-vit-b32-q8' },
};
type Variant = keyof typeof VARIANTS;

interface Timing {
  wall: number;
  /** The fastest run: the best estimate of the latency on an idle machine. */
  minWall: number;
  cpu: number;
}

/** Wall and CPU milliseconds of `fn` (medians), `runs` times after `warmup` unmeasured calls. */
async function time(runs: number, warmup: number, fn: (i: number) => Promise<unknown>): Promise<Timing> {
  for (let i = 0; i < warmup; i++) await fn(-1 - i);
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < runs; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await fn(i);
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  return { wall: round2(median(wall)), minWall: round2(Math.min(...wall)), cpu: round2(median(cpu)) };
}

const PROMPT = 'a cat sitting under a red umbrella on a rainy street at night, neon lights, reflections on the wet asphalt';
/** A prompt no cache holds: its words and noun phrases are new each time. */
const fresh = (i: number) => `${PROMPT.replace('cat', `cat${i + 1000}`).replace('umbrella', `umbrella${i + 1000}`)}, take ${i + 1000}`;

async function testImage() {
  // A 1024² PNG with texture, the size SDXL and Flux produce.
  const raw = Buffer.alloc(1024 * 1024 * 3);
  for (let i = 0; i < raw.length; i++) raw[i] = (Math.sin(i * 0.0007) * 60 + (i % 251)) & 255;
  const png = await sharp(raw, { raw: { width: 1024, height: 1024, channels: 3 } }).png().toBuffer();
  return { png, pixels: { rgb: new Uint8Array(raw.buffer, raw.byteOffset, raw.length), width: 1024, height: 1024 } };
}

async function packDir(variant: Variant): Promise<string> {
  const dir = join(root, VARIANTS[variant]!.name);
  if (!existsSync(join(dir, 'pack.json'))) {
    for (const file of packFilesOf(VARIANTS[variant]!)) {
      await mkdir(dirname(join(dir, file)), { recursive: true });
      if (!existsSync(join(dir, file))) await symlink(join(generated, file), join(dir, file));
    }
    await writeClipPackManifest(dir, VARIANTS[variant]!);
  }
  return dir;
}

/** Child process: one variant, one kind of measurement; prints its figures as JSON. */
async function child(variant: Variant, what: 'towers' | 'score'): Promise<void> {
  const pack = await loadPack(VARIANTS[variant]!.name, { packDir: await packDir(variant) });
  const { png, pixels } = await testImage();
  if (what === 'towers') {
    const encoder = await ClipEncoder.load(pack, { threads: THREADS });
    const image = await time(RUNS, 3, () => encoder.encodeImages([pixels]));
    const text = await time(RUNS, 3, (i) => encoder.encodeTexts([`${PROMPT} ${i + 5000}`]));
    process.stdout.write(`${JSON.stringify({ image, text, tokens: encoder.countTokens(PROMPT).tokens })}\n`);
    return;
  }
  const scorer = await ClipScorer.create(pack, { threads: THREADS });
  const decode: number[] = [];
  const uncached = await time(RUNS, 2, (i) => scorer.score({ image: png, name: 'bench.png', prompt: fresh(i) }));
  const cached = await time(RUNS, 2, async (i) => {
    const r = await scorer.score({ image: png, name: 'bench.png', prompt: PROMPT });
    if (i >= 0) decode.push(r.timings.decodeMs);
  });
  const batch = await time(BATCH_RUNS, 1, (i) => scorer.scoreBatch(Array.from({ length: 8 }, (_, k) => ({ image: png, name: `b${k}.png`, prompt: fresh(100 + i) }))));
  process.stdout.write(`${JSON.stringify({ uncached, cached, batch, decodeMs: round2(median(decode)), peakRssMb: peakRssMb() })}\n`);
}

async function parent(): Promise<void> {
  if (!existsSync(join(generated, 'onnx', 'text_model_quantized.onnx'))) {
    process.stderr.write(`generating the random-weight ViT-B/32 in ${generated} (a few minutes)…\n`);
    const script = fileURLToPath(new URL('../training/clip/make_vitb32_random.py', import.meta.url));
    const made = spawnSync('/usr/bin/python3', [script, generated], { stdio: ['ignore', 'inherit', 'inherit'] });
    if (made.status !== 0) throw new Error(`make_vitb32_random.py failed with exit code ${made.status}`);
  }
  const self = fileURLToPath(import.meta.url);
  const loadBefore = loadavg()[0]!;
  const figures: Record<string, Record<string, unknown>> = {};
  for (const variant of ['q8', 'fp32'] as Variant[]) {
    figures[variant] = {};
    for (const what of ['towers', 'score'] as const) {
      process.stderr.write(`${variant} ${what}…\n`);
      const run = spawnSync(process.execPath, ['--import', 'tsx', self, '--child', variant, what, '--dir', root], { encoding: 'utf8', maxBuffer: 1 << 24 });
      if (run.status !== 0) throw new Error(`${variant} ${what} failed: ${run.stderr}`);
      Object.assign(figures[variant]!, JSON.parse(run.stdout.trim().split('\n').at(-1)!));
    }
  }
  type F = { image: Timing; text: Timing; tokens: number; uncached: Timing; cached: Timing; batch: Timing; decodeMs: number; peakRssMb: number };
  const q = figures.q8 as F;
  const f = figures.fp32 as F;
  const row = (what: string, pick: (x: F) => Timing) => [what, pick(q).wall, pick(q).minWall, pick(q).cpu, pick(f).wall, pick(f).minWall, pick(f).cpu];
  const rows: (string | number)[][] = [
    row('image tower, 1 image (preprocessing from 1024² RGB + ViT-B/32)', (x) => x.image),
    row(`text tower, 1 prompt of ${q.tokens} tokens`, (x) => x.text),
    row('whole score, 1024² PNG, prompt not cached', (x) => x.uncached),
    row('whole score, 1024² PNG, prompt cached', (x) => x.cached),
    ['  of which PNG decode', q.decodeMs, '', '', f.decodeMs, '', ''],
    ['  model part, prompt cached (score − decode)', round2(q.cached.wall - q.decodeMs), round2(q.cached.minWall - q.decodeMs), '', round2(f.cached.wall - f.decodeMs), round2(f.cached.minWall - f.decodeMs), ''],
    row('batch of 8 × 1024² PNG sharing a new prompt', (x) => x.batch),
    ['  per image in the batch', round2(q.batch.wall / 8), round2(q.batch.minWall / 8), round2(q.batch.cpu / 8), round2(f.batch.wall / 8), round2(f.batch.minWall / 8), round2(f.batch.cpu / 8)],
    ['peak RSS of a scoring process, MB', q.peakRssMb, '', '', f.peakRssMb, '', ''],
  ];
  const path = await writeResults({
    name: 'clip',
    title: 'clip-vit-b32 path: random-weight ViT-B/32, int8 (dynamic) and fp32 towers, 2 intra-op threads',
    notes: [
      'Random weights (the real files cannot be downloaded here) with the real architecture, sizes, file layout and input/output names of Xenova/clip-vit-base-patch32.',
      'q8: every MatMul quantized dynamically (int8 weights, DynamicQuantizeLinear + MatMulInteger) like onnxruntime quantize_dynamic; the token embedding stays fp32, so the text file is 140 MB instead of the real 65 MB.',
      `Median and fastest wall ms over ${RUNS} runs (batch: ${BATCH_RUNS}) on a 2-core machine shared with other work, and the median CPU ms of this process (both threads).`,
      'An uncached prompt costs one text-tower pass over the prompt and its noun phrases; a cached one none.',
      `1-minute load average ${loadBefore.toFixed(1)} before and ${loadavg()[0]!.toFixed(1)} after the run, on ${availableParallelism()} cores: above the core count, wall times include waiting for a core.`,
    ],
    table: { columns: ['what', 'q8 median ms', 'q8 min ms', 'q8 CPU ms', 'fp32 median ms', 'fp32 min ms', 'fp32 CPU ms'], rows },
    raw: { threads: THREADS, figures },
  });
  for (const r of rows) process.stdout.write(`${String(r[0]).padEnd(64)} ${r.slice(1).map((v) => String(v).padStart(9)).join(' ')}\n`);
  process.stdout.write(`columns: q8 median, min, CPU; fp32 median, min, CPU (ms)\nwrote ${path}\n`);
}

if (process.argv.includes('--child')) {
  const i = process.argv.indexOf('--child');
  await child(process.argv[i + 1] as Variant, process.argv[i + 2] as 'towers' | 'score');
} else {
  await parent();
}
