// The bare scorer for bench/pipeline.bench.ts, in a process of its own started with the malloc setting
// `agiqa serve` gives its own process (GLIBC_TUNABLES, see src/cli/malloc-supervisor.ts), so the
// baseline scores exactly as the server's scorer does: 2 workers, raw 512² frames handed over. Reads a
// round number per line on stdin; answers one JSON line {wallMs} per round (a batch of 4 frames).
import { createInterface } from 'node:readline';
import sharp from 'sharp';
import { createScorer } from '../../src/scoring/index.js';

const scorer = await createScorer({ pack: 'lite', workers: 2 });
process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
for await (const line of createInterface({ input: process.stdin })) {
  const round = Number(line.trim());
  if (!Number.isInteger(round)) continue;
  const frames = await Promise.all(
    [0, 1, 2, 3].map(async (k) => {
      const { data } = await sharp({ create: { width: 512, height: 512, channels: 3, background: { r: (round * 7 + k * 13) & 255, g: 90, b: 160 } } })
        .blur(0.3)
        .raw()
        .toBuffer({ resolveWithObject: true });
      return new Uint8Array(data);
    }),
  );
  const started = performance.now();
  await scorer.scoreBatch(frames.map((image, k) => ({ image, pixels: { width: 512, height: 512, channels: 3 }, name: `bare-${round}-${k}`, prompt: 'a gradient', handOver: true })));
  process.stdout.write(`${JSON.stringify({ wallMs: performance.now() - started })}\n`);
}
await scorer.close();
