// Benchmark of computeSignals (the hot path of the lite pack): median over 41 runs per image, for
// synthetic scenes (512², 1024²) and real photos at a small (451×300) and a large (1024²) size.
// Run: npx tsx bench/signals.bench.ts
// Reports wall time and this process's CPU time per run: on a shared, loaded machine the wall time
// includes time spent descheduled, the CPU time does not.
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { decodeImage } from '../src/image/index.js';
import { computeSignals, type SignalImage } from '../src/signals/index.js';
import { scene } from '../test/signals/synthetic.js';

const RUNS = 41;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const examples = new URL('../examples/', import.meta.url);

async function photo(file: string, size?: number): Promise<SignalImage> {
  let bytes = new Uint8Array(await readFile(new URL(file, examples)));
  if (size !== undefined) bytes = new Uint8Array(await sharp(bytes).resize(size, size, { fit: 'fill' }).png().toBuffer());
  const { rgb, width, height } = await decodeImage(bytes, file);
  return { rgb, width, height };
}

const images: [string, SignalImage][] = [
  ['scene 512×512', scene(512, 512, 3)],
  ['scene 1024×1024', scene(1024, 1024, 3)],
  ['chelsea-noisy 451×300', await photo('chelsea-noisy.png')],
  ['coffee 1024×1024', await photo('coffee.png', 1024)],
];

for (const [name, image] of images) {
  for (let i = 0; i < 15; i++) computeSignals(image); // warm-up: let V8 optimise the loops
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    computeSignals(image);
    wall.push(Number(process.hrtime.bigint() - t0) / 1e6);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  console.log(
    `computeSignals ${name}: median wall ${median(wall).toFixed(2)} ms, median CPU ${median(cpu).toFixed(2)} ms over ${RUNS} runs (min wall ${Math.min(...wall).toFixed(2)} ms)`,
  );
}
