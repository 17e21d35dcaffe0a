// Shared helpers of the benchmarks: medians, percentiles, machine facts and the results file format.
import { writeFile, mkdir } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';

export const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo);
}

export function machine() {
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: availableParallelism(),
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  };
}

export function peakRssMb(): number {
  // maxRSS is in kilobytes.
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

/** A results file: the raw figures plus a markdown table that BENCHMARKS.md quotes as it is. */
export interface BenchResults {
  name: string;
  title: string;
  date: string;
  machine: ReturnType<typeof machine>;
  notes: string[];
  table: { columns: string[]; rows: (string | number)[][] };
  raw: unknown;
}

export async function writeResults(results: Omit<BenchResults, 'date' | 'machine'>): Promise<string> {
  await mkdir(RESULTS_DIR, { recursive: true });
  const path = `${RESULTS_DIR}${results.name}.json`;
  const full: BenchResults = { ...results, date: new Date().toISOString(), machine: machine() };
  await writeFile(path, `${JSON.stringify(full, null, 2)}\n`);
  return path;
}

export const round2 = (v: number) => Math.round(v * 100) / 100;

/** CPU time (user + system) a process has used so far, in ms, from /proc (Linux; clock ticks of 10 ms). */
export function processCpuMs(pid: number): number {
  // utime and stime are fields 14 and 15 of stat, counted from the pid; index 11 and 12 after the name.
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}
