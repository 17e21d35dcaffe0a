// Latency probe (not a test) of the M3 predictor in onnxruntime-node, per image (batch 1) and per
// batch of 8, with 1 and 2 intra-op threads:
//   npx tsx bench/predictor.bench.ts [--model models/lite/predictor.onnx]   (BENCH_RUNS=200)
// Without a shipped predictor it exports an untrained one of the lite pack's shape (1280-d tokens on
// a 3×3 grid, 72 signals, width 64, 3 blocks) with training/predictor/parity.py: latency depends on
// the graph, not on the weights. Target: ≤ 2 ms per image, so the predictor never dominates the backbone.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PredictorModel, type PredictorItem } from '../src/model/predictor.js';
import { predictorManifestSchema, type PredictorManifest } from '../src/model/predictor-manifest.js';
import { median, percentile, round2, writeResults } from './lib.js';

const { values } = parseArgs({ options: { model: { type: 'string', default: 'models/lite/predictor.onnx' } } });
const RUNS = Math.max(50, Number(process.env.BENCH_RUNS ?? 200));
const PYTHON = process.env.AGIQA_PYTHON ?? '/usr/bin/python3';

let modelPath = values.model;
let manifest: PredictorManifest;
let scratch: string | undefined;
let source: string;
if (existsSync(modelPath)) {
  const pack = JSON.parse(await readFile(join(modelPath, '..', 'pack.json'), 'utf8')) as { predictor: unknown };
  manifest = predictorManifestSchema.parse(pack.predictor);
  source = modelPath;
} else {
  scratch = await mkdtemp(join(tmpdir(), 'agiqa-bench-predictor-'));
  const args = ['training/predictor/parity.py', '--out', scratch, '--token-dim', '1280', '--evidence', '72', '--width', '64', '--blocks', '3', '--batch', '4'];
  const run = spawnSync(PYTHON, args, { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`exporting a predictor failed: ${run.stderr}`);
  modelPath = join(scratch, 'predictor.onnx');
  manifest = { file: 'predictor.onnx', kind: 'xlstm', tokenGrid: 3, tokenDim: 1280, evidence: { quality: 'signals' }, evidenceWidth: 72, outputs: ['quality', 'correspondence', 'authenticity', 'overall'] };
  source = 'untrained xLSTM of the lite shape (training/predictor/parity.py, width 64, 3 blocks)';
}

function item(seed: number): PredictorItem {
  const tokens = manifest.tokenGrid ** 2 * manifest.tokenDim;
  const width = 5 + manifest.evidenceWidth;
  const imageTokens = Float32Array.from({ length: tokens }, (_, i) => ((Math.imul(i + seed, 2654435761) >>> 24) / 255) * 6);
  const rounds = Float32Array.from({ length: 3 * width }, (_, i) => (i < width ? Math.sin(i + seed) : 0));
  return { imageTokens, rounds, roundMask: Float32Array.from([1, 0, 0]) };
}

const rows: (string | number)[][] = [];
const raw: unknown[] = [];
for (const threads of [1, 2]) {
  const model = await PredictorModel.load(modelPath, manifest, { threads, pack: 'bench' });
  for (const batch of [1, 8]) {
    const items = Array.from({ length: batch }, (_, i) => item(i));
    for (let i = 0; i < 20; i++) await model.run(items); // warm-up
    const times: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t0 = performance.now();
      await model.run(items);
      times.push(performance.now() - t0);
    }
    const m = { threads, batch, medianMs: round2(median(times)), p90Ms: round2(percentile(times, 90)), minMs: round2(Math.min(...times)), perImageMs: round2(median(times) / batch) };
    raw.push({ ...m, times: times.map(round2) });
    rows.push([threads, batch, m.medianMs, m.p90Ms, m.minMs, m.perImageMs]);
  }
  await model.close();
}
if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
const load = loadavg().map((v) => v.toFixed(1)).join(' ');
const columns = ['threads', 'batch', 'median ms', 'p90 ms', 'min ms', 'median ms / image'];
process.stdout.write(`${source}, ${RUNS} runs each, load average ${load}\n${columns.join(' | ')}\n${rows.map((r) => r.join(' | ')).join('\n')}\n`);
await writeResults({
  name: 'predictor',
  title: 'M3 predictor (xLSTM over 9 image tokens + 3 round tokens), onnxruntime-node, through PredictorModel',
  notes: [
    `model: ${source}`,
    `${RUNS} timed runs after 20 warm-up runs; times include building the input tensors`,
    'target: ≤ 2 ms per image',
    `load average at the end: ${load} (the machine is shared; min ms approximates an idle machine)`,
  ],
  table: { columns, rows },
  raw,
});
