// Benchmark of computeSignals (the hot path of the lite pack): median over ≥ 30 runs per size.
// Run: npx tsx bench/signals.bench.ts
// Reports wall time and this process's CPU time per run: on a shared, loaded machine the wall time
// includes time spent descheduled, the CPU time does not.
import { computeSignals } from '../src/signals/index.js';
import { scene } from '../test/signals/synthetic.js';

const RUNS = 41;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

for (const size of [512, 1024]) {
  const image = scene(size, size, 3);
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
    `computeSignals ${size}×${size}: median wall ${median(wall).toFixed(2)} ms, median CPU ${median(cpu).toFixed(2)} ms over ${RUNS} runs (min wall ${Math.min(...wall).toFixed(2)} ms)`,
  );
}
