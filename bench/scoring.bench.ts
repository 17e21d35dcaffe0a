// The scorer's cost per image, split into decode / signals / model, for 512² and 1024² PNG and JPEG
// on 1 and 2 onnxruntime threads, against a baseline measured in the same run: decoding alone.
import sharp from 'sharp';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { configureDecoderForWorkers, decodeImage } from '../src/image/index.js';
import { loadPack } from '../src/model/packs.js';
import { LiteScorer } from '../src/scoring/lite-scorer.js';
import { median, peakRssMb, round2, writeResults } from './lib.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 40);
const SOURCE = fileURLToPath(new URL('../examples/coffee.png', import.meta.url));

async function makeInputs(): Promise<{ label: string; bytes: Uint8Array }[]> {
  const source = await readFile(SOURCE);
  const inputs = [];
  for (const side of [512, 1024]) {
    const base = sharp(source).resize(side, side, { fit: 'cover', kernel: 'lanczos3' });
    // Encoded as ComfyUI's SaveImage writes (PIL: zlib level 4, adaptive row filters), which costs more
    // to decode than sharp's default unfiltered PNG.
    inputs.push({ label: `${side}² PNG`, bytes: await base.clone().png({ compressionLevel: 4, adaptiveFiltering: true }).toBuffer() });
    inputs.push({ label: `${side}² JPEG q90`, bytes: await base.clone().jpeg({ quality: 90 }).toBuffer() });
  }
  return inputs;
}

const pack = await loadPack('lite');
const inputs = await makeInputs();
const rows: (string | number)[][] = [];
const raw: unknown[] = [];
for (const threads of [1, 2]) {
  // As a scoring worker sets it up (no libvips operation cache, `threads` decode threads).
  configureDecoderForWorkers(threads);
  const scorer = await LiteScorer.create(pack, { threads });
  for (const input of inputs) {
    const request = { image: input.bytes, name: input.label };
    for (let i = 0; i < 5; i++) await scorer.score(request); // warm-up
    const decodeOnly: number[] = [];
    const stages = { decode: [] as number[], signals: [] as number[], model: [] as number[], total: [] as number[] };
    const baseline = async () => {
      const t0 = performance.now();
      await decodeImage(input.bytes, input.label);
      decodeOnly.push(performance.now() - t0);
    };
    for (let i = 0; i < RUNS; i++) {
      // Alternate which of the two goes first: whatever the previous call leaves behind (garbage to
      // collect, caches) then weighs on both alike.
      if (i % 2 === 0) await baseline();
      const result = await scorer.score(request);
      stages.decode.push(result.timings.decodeMs);
      stages.signals.push(result.timings.signalsMs);
      stages.model.push(result.timings.modelMs);
      stages.total.push(result.timings.totalMs);
      if (i % 2 === 1) await baseline();
    }
    const m = {
      image: input.label,
      threads,
      baselineDecodeMs: round2(median(decodeOnly)),
      decodeMs: round2(median(stages.decode)),
      signalsMs: round2(median(stages.signals)),
      modelMs: round2(median(stages.model)),
      totalMs: round2(median(stages.total)),
    };
    raw.push(m);
    rows.push([m.image, m.threads, m.decodeMs, m.signalsMs, m.modelMs, m.totalMs, m.baselineDecodeMs, round2(m.totalMs / m.baselineDecodeMs)]);
    process.stderr.write(`${JSON.stringify(m)}\n`);
  }
  await scorer.close();
}

const path = await writeResults({
  name: 'scoring',
  title: 'Scoring one image with the lite pack (in-process, one image at a time)',
  notes: [
    `median of ${RUNS} runs after 5 warm-up runs; images made from examples/coffee.png (resized, so 1024² is smoother than a typical photo); PNGs encoded like ComfyUI's SaveImage (zlib level 4, adaptive filters); sharp set up as in a scoring worker (no cache, threads = ort threads)`,
    'baseline: decoding the same bytes alone (src/image decodeImage), measured in the same run; ratio = total ÷ baseline',
    `peak RSS of the benchmark process: ${peakRssMb()} MB`,
  ],
  table: { columns: ['image', 'ort threads', 'decode ms', 'signals ms', 'model ms', 'total ms', 'decode-only baseline ms', 'total ÷ baseline'], rows },
  raw: { runs: RUNS, results: raw, peakRssMb: peakRssMb() },
});
process.stdout.write(`wrote ${path}\n`);
