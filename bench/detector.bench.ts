// The lite pack's correspondence: the CenterNet detector per image at 512² (wall and CPU ms, 1 and 2
// threads), the object checks alone, and the lite scorer end to end with a checkable prompt against
// the same scorer without one (the baseline, measured in the same run), with the detector on the worker's
// two threads and, side by side, on one (as with several workers). BENCH_DETECTOR_CANDIDATES
// (comma-separated .onnx files, e.g. int8 detectors at other input sizes made by
// `SIZE=384 … tools/tfjs-to-onnx/detector-int8.sh`) adds each in the shipped one's place: its detector time
// on the 1024² picture and its lite score on ÷ off, alternated in the same loops as the shipped one.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { configureDecoderForWorkers, decodeImage } from '../src/image/index.js';
import { detectorInput, ObjectDetector } from '../src/model/object-detector.js';
import { loadPack } from '../src/model/packs.js';
import { COCO_CLASSES, parseObjectPrompt } from '../src/prompts/index.js';
import { LiteScorer } from '../src/scoring/lite-scorer.js';
import { objectChecksRound } from '../src/scoring/rounds/object-checks-round.js';
import { boxColour } from '../src/signals/index.js';
import { convertCenternet } from '../tools/tfjs-to-onnx/centernet-source.js';
import { median, peakRssMb, round2, writeResults } from './lib.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 30);
const CANDIDATES = (process.env.BENCH_DETECTOR_CANDIDATES ?? '').split(',').filter((f) => f !== '');
const SOURCE = fileURLToPath(new URL('../examples/coffee.png', import.meta.url));
const PROMPT = 'two cups left of a red dining table';

const cpuMs = (since: NodeJS.CpuUsage) => {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1000;
};

async function timed(fn: () => Promise<unknown> | unknown, runs = RUNS): Promise<{ median: number; min: number; cpu: number }> {
  for (let i = 0; i < 3; i++) await fn();
  const wall: number[] = [];
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    wall.push(performance.now() - t0);
  }
  return { median: round2(median(wall)), min: round2(Math.min(...wall)), cpu: round2(cpuMs(cpu0) / runs) };
}

const pack = await loadPack('lite');
const png1024 = await sharp(await readFile(SOURCE)).resize(1024, 1024, { fit: 'cover' }).png({ compressionLevel: 4, adaptiveFiltering: true }).toBuffer();
const image512 = await decodeImage(await sharp(await readFile(SOURCE)).resize(512, 512, { fit: 'cover' }).png().toBuffer(), '512.png');
const image1024 = await decodeImage(png1024, '1024.png');
const rows: (string | number)[][] = [];
const raw: Record<string, unknown> = {};

// The float conversion the shipped int8 detector was quantized from (tools/tfjs-to-onnx), as a baseline in the same run.
const floatDir = await mkdtemp(join(tmpdir(), 'agiqa-bench-detector-'));
await writeFile(join(floatDir, 'detector-f16.onnx'), (await convertCenternet()).bytes);
const floatPack = { ...pack, files: new Map(pack.files).set('detector.onnx', join(floatDir, 'detector-f16.onnx')) };
for (const threads of [1, 2]) {
  for (const [name, candidate] of [['float16 conversion (before quantization)', floatPack], ['int8 (shipped)', pack]] as const) {
    const detector = (await ObjectDetector.load(candidate, threads))!;
    const t = await timed(() => detector.detect(image512));
    rows.push([`detector ${name}, 512² image (input prep + ONNX + decode), ${threads} thread${threads > 1 ? 's' : ''}`, t.median, t.min, t.cpu]);
    raw[`detector${threads}${candidate === pack ? '' : 'Float'}`] = t;
    await detector.close();
  }
}
await rm(floatDir, { recursive: true, force: true });
const into = new Float32Array(512 * 512 * 3);
const prep = await timed(() => detectorInput(image1024, 512, true, into));
rows.push(['  input prep alone, 1024² → 512² planes (2×2 means, into the reused buffer as the detector does)', prep.median, prep.min, prep.cpu]);
raw.prep1024 = prep;

// The checks on this image's real detections: parse + colour histograms + rules.
const detector = (await ObjectDetector.load(pack, 2))!;
const boxes = (await detector.detect(image1024)).map((d) => ({ ...d, label: COCO_CLASSES[d.classIndex]! }));
await detector.close();
const checks = await timed(() => objectChecksRound(parseObjectPrompt(PROMPT), boxes, (b) => boxColour(image1024, b)), RUNS * 20);
rows.push([`object checks alone ("${PROMPT}", ${boxes.length} boxes: parse, colours, rules)`, checks.median, checks.min, checks.cpu]);
raw.checks = { ...checks, boxes: boxes.length };

// The shipped detector on the worker's 2 threads (one worker), the same on 1 thread (as when several
// workers run: detectorThreads), and any candidates, on the 1024² picture (input prep included), alternated per run.
const variants: { name: string; pack: typeof pack; detectorThreads?: number }[] = [
  { name: 'shipped', pack },
  { name: 'shipped on 1 thread (several workers)', pack, detectorThreads: 1 },
  ...CANDIDATES.map((file) => ({ name: basename(file), pack: { ...pack, files: new Map(pack.files).set('detector.onnx', resolve(file)) } })),
];
{
  const loaded = await Promise.all(variants.map(async (v) => ({ ...v, detector: (await ObjectDetector.load(v.pack, v.detectorThreads ?? 2))!, wall: [] as number[], cpu: [] as number[] })));
  for (const v of loaded) for (let i = 0; i < 3; i++) await v.detector.detect(image1024);
  for (let i = 0; i < RUNS; i++) {
    for (const v of i % 2 === 0 ? loaded : [...loaded].reverse()) {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      await v.detector.detect(image1024);
      v.cpu.push(cpuMs(c0));
      v.wall.push(performance.now() - t0);
    }
  }
  for (const v of loaded) {
    const t = { median: round2(median(v.wall)), min: round2(Math.min(...v.wall)), cpu: round2(median(v.cpu)) };
    rows.push([`detector ${v.name} (input ${v.detector.inputSize}²), 1024² image (input prep + ONNX + decode), ${v.detector.threads} thread${v.detector.threads > 1 ? 's' : ''}`, t.median, t.min, t.cpu]);
    raw[`candidate:${v.name}`] = { ...t, inputSize: v.detector.inputSize };
    await v.detector.close();
  }
}

configureDecoderForWorkers(2);
const without = { image: png1024, name: 'coffee-1024.png' };
const withPrompt = { ...without, prompt: PROMPT };
const scorers = await Promise.all(
  variants.map(async (v) => ({
    ...v,
    scorer: await LiteScorer.create(v.pack, { threads: 2, detectorThreads: v.detectorThreads }),
    off: [] as number[],
    on: [] as number[],
    offCpu: [] as number[],
    onCpu: [] as number[],
  })),
);
for (const s of scorers) {
  for (let i = 0; i < 3; i++) {
    await s.scorer.score(without);
    await s.scorer.score(withPrompt);
  }
}
for (let i = 0; i < RUNS; i++) {
  // Alternate the order so that neither side always follows the other.
  const pair = i % 2 === 0 ? [without, withPrompt] : [withPrompt, without];
  // …and the scorers, so that none always runs right after another.
  for (const s of i % 2 === 0 ? scorers : [...scorers].reverse()) {
    for (const request of pair) {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      await s.scorer.score(request);
      (request === without ? s.offCpu : s.onCpu).push(cpuMs(c0));
      (request === without ? s.off : s.on).push(performance.now() - t0);
    }
  }
}
for (const s of scorers) {
  await s.scorer.close();
  const offMs = round2(median(s.off));
  const onMs = round2(median(s.on));
  const offCpuMs = round2(median(s.offCpu));
  const onCpuMs = round2(median(s.onCpu));
  const which = s.name === 'shipped' ? '' : ` [detector ${s.name}]`;
  rows.push([`lite score, 1024² PNG, no prompt (baseline: correspondence off)${which}`, offMs, round2(Math.min(...s.off)), offCpuMs]);
  rows.push([`lite score, 1024² PNG, prompt "${PROMPT}" (correspondence on)${which}`, onMs, round2(Math.min(...s.on)), onCpuMs]);
  rows.push([`  on ÷ off${which}`, round2(onMs / offMs), round2(Math.min(...s.on) / Math.min(...s.off)), round2(onCpuMs / offCpuMs)]);
  raw[s.name === 'shipped' ? 'endToEnd' : `endToEnd:${s.name}`] = { offMs, onMs, ratio: round2(onMs / offMs), offCpuMs, onCpuMs, cpuRatio: round2(onCpuMs / offCpuMs) };
}

const path = await writeResults({
  name: 'detector',
  title: 'Correspondence in the lite pack: CenterNet detector (COCO-80, ONNX) and object checks',
  notes: [
    `median of ${RUNS} runs after 3 warm-up runs (object checks: ${RUNS * 20} runs); CPU ms = process CPU time ÷ runs (all threads)`,
    'detector: models/lite/detector.onnx (MobileNetV3 CenterNet from @vladmandic/human, converted by tools/tfjs-to-onnx, int8 by tools/tfjs-to-onnx/detector-int8.sh), input 512² NHWC, ending at its heads (peaks found in src/model/object-detector.ts); its float16 conversion (with the tfjs graph\'s own peak decoding) measured in the same run',
    'onnxruntime sessions with allow_spinning off (src/model/onnx-session.ts)',
    'end to end: LiteScorer in-process, 2 onnxruntime threads for the quality model and the detector (one worker; "on 1 thread": the detector as when several workers run, detectorThreads), the two requests alternated in one loop; the quality model runs in both; CPU ms there is the median per score',
    ...(CANDIDATES.length > 0
      ? [`candidates (BENCH_DETECTOR_CANDIDATES) in the shipped detector's place, alternated with it in the same loops: ${CANDIDATES.map((f) => basename(f)).join(', ')}; their detector CPU ms is the median per run`]
      : []),
    `machine: ${cpus().length} cores shared with other work; load average at the end: ${loadavg().map((v) => v.toFixed(1)).join(' ')}`,
    `peak RSS of the benchmark process: ${peakRssMb()} MB`,
  ],
  table: { columns: ['what', 'median ms', 'min ms', 'CPU ms'], rows },
  raw: { runs: RUNS, ...raw, peakRssMb: peakRssMb() },
});
process.stdout.write(`wrote ${path}\n`);
