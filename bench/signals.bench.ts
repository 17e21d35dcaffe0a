// Benchmark of computeSignals (the hot path of the lite pack): median over ≥ 30 runs per size.
// Run: npx tsx bench/signals.bench.ts
import { computeSignals } from '../src/signals/index.js';
import { scene } from '../test/signals/synthetic.js';

const RUNS = 41;
for (const size of [512, 1024]) {
  const image = scene(size, size, 3);
  for (let i = 0; i < 10; i++) computeSignals(image); // warm-up: let V8 optimise the loops
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = process.hrtime.bigint();
    computeSignals(image);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  const median = times[times.length >> 1]!;
  console.log(`computeSignals ${size}×${size}: median ${median.toFixed(2)} ms over ${RUNS} runs (min ${times[0]!.toFixed(2)}, max ${times[times.length - 1]!.toFixed(2)})`);
}
