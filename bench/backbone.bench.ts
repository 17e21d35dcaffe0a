// Latency probe (not a test) of the MobileNetV2 backbone converted from nsfwjs, in onnxruntime-node,
// for 1 and 2 intra-op threads and batches of 1, 2 and 4 crops of 224 px:
//   npx tsx bench/backbone.bench.ts [--model training/data/mobilenet_v2.onnx]   (BENCH_RUNS=30)
// Without the file it converts nsfwjs's model in memory. The per-crop cost decides how many crops
// the lite quality model can afford within its budget.
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { convertNsfwjsMobilenet } from '../tools/tfjs-to-onnx/index.js';
import { median, percentile, round2, writeResults } from './lib.js';

const { values } = parseArgs({ options: { model: { type: 'string', default: 'training/data/mobilenet_v2.onnx' } } });
const RUNS = Math.max(30, Number(process.env.BENCH_RUNS ?? 30));
const source = existsSync(values.model) ? values.model : 'nsfwjs (converted in memory)';
const modelBytes = existsSync(values.model) ? new Uint8Array(await readFile(values.model)) : (await convertNsfwjsMobilenet()).bytes;

const rows: (string | number)[][] = [];
const raw: unknown[] = [];
for (const threads of [1, 2]) {
  const session = await ort.InferenceSession.create(modelBytes, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
  });
  for (const batch of [1, 2, 4]) {
    const data = new Float32Array(batch * 224 * 224 * 3);
    for (let i = 0; i < data.length; i++) data[i] = (Math.imul(i, 2654435761) >>> 24) / 255;
    const feeds = { input: new ort.Tensor('float32', data, [batch, 224, 224, 3]) };
    for (let i = 0; i < 5; i++) await session.run(feeds); // warm-up: arena allocation, kernel choice
    const times: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t0 = performance.now();
      await session.run(feeds);
      times.push(performance.now() - t0);
    }
    const m = {
      threads,
      batch,
      medianMs: round2(median(times)),
      p90Ms: round2(percentile(times, 90)),
      // the fastest run approximates the cost on an idle machine when other work shares the cores
      minMs: round2(Math.min(...times)),
      perCropMs: round2(median(times) / batch),
    };
    raw.push({ ...m, times: times.map(round2) });
    rows.push([threads, batch, m.medianMs, m.p90Ms, m.minMs, m.perCropMs]);
  }
  await session.release();
}
const columns = ['threads', 'batch', 'median ms', 'p90 ms', 'min ms', 'median ms / crop'];
process.stdout.write(`${source}, ${RUNS} runs each, load average ${loadavg().map((v) => v.toFixed(1)).join(' ')}\n${columns.join(' | ')}\n${rows.map((r) => r.join(' | ')).join('\n')}\n`);
await writeResults({
  name: 'backbone',
  title: 'MobileNetV2 backbone (nsfwjs → ONNX), onnxruntime-node, 224×224 crops',
  notes: [`model: ${source}`, `${RUNS} timed runs after 5 warm-up runs; input NHWC float32`, `load average at the end: ${loadavg().map((v) => v.toFixed(1)).join(' ')}`],
  table: { columns, rows },
  raw,
});
