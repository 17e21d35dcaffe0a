// Load benchmark of `agiqa serve` on loopback: throughput and p50/p99 of POST /v1/score with a 1024²
// PNG at 1, 4 and 16 concurrent clients on the lite pack, the server's peak RSS, and its overhead
// over calling the bare scorer (same pack, same workers) at the same concurrency in the same run.
// Every request carries a distinct image (a unique PNG text chunk) so the dedupe never answers it.
// The server's scoring workers make the dashboard's thumbnails from the pixels they decoded; at
// 4 clients the bare scorer runs once more asking for a thumbnail of every image (what that costs a worker),
// and both ways of making one are timed apart: from the file's bytes (a second decode, what the main
// thread did before) and from decoded pixels (what a worker does now).
import { spawn, spawnSync } from 'node:child_process';
import { Agent, request as httpRequest } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { servingPid, startServeProcess, waitUntilReady, type ServeProcess } from '../test/e2e/serve-process.js';
import { noisyGradient, pngOf, pngWithText, pngWithTextParts } from './images.js';
import { percentile, processCpuMs, round2, writeResults } from './lib.js';
import { MALLOC_TUNABLES } from '../src/cli/malloc-supervisor.js';

// The bare scorer runs in this process: under the malloc setting `agiqa serve` gives its own process
// (glibc reads it at start only, hence once more with it), or the baseline would be the slower one.
if (process.platform === 'linux' && !(process.env.GLIBC_TUNABLES ?? '').includes(MALLOC_TUNABLES)) {
  const tunables = process.env.GLIBC_TUNABLES ? `${process.env.GLIBC_TUNABLES}:${MALLOC_TUNABLES}` : MALLOC_TUNABLES;
  const again = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit', env: { ...process.env, GLIBC_TUNABLES: tunables } });
  process.exit(again.status ?? 1);
}

const DURATION_MS = Number(process.env.BENCH_SECONDS ?? 8) * 1000;
const WARMUP_MS = 1500;
/**
 * Each level alternates bare and served rounds (DURATION_MS split between them): the machine's load
 * drifts within seconds here, and one window per side put the drift into the ratio.
 */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const LEVELS = [1, 4, 16];
const WORKERS = 2;
const SIDE = 1024;

const basePng = (): Promise<Buffer> => pngOf(noisyGradient(SIDE), SIDE);
const variantParts = (png: Buffer, n: number): Buffer[] => pngWithTextParts(png, String(n));
const variant = (png: Buffer, n: number): Uint8Array<ArrayBuffer> => pngWithText(png, String(n));

interface LevelResult {
  clients: number;
  requests: number;
  busy503: number;
  imagesPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Calls finished during the warm-up and the measured part: the denominator of CPU per image. */
  completed: number;
}

let counter = 0;

/** Runs `clients` loops of `call` for a warm-up and then `durationMs`; latencies of the measured part only (in `latencies` when given). */
async function drive<Image>(
  clients: number,
  call: (image: Image) => Promise<boolean>,
  makeImage: (n: number) => Image,
  options: { warmupMs?: number; durationMs?: number; latencies?: number[] } = {},
): Promise<LevelResult> {
  const latencies: number[] = options.latencies ?? [];
  const before = latencies.length;
  let busy = 0;
  let completed = 0;
  const warmEnd = Date.now() + (options.warmupMs ?? WARMUP_MS);
  const end = warmEnd + (options.durationMs ?? DURATION_MS);
  let measuredStart = 0;
  const loop = async () => {
    while (Date.now() < end) {
      const image = makeImage(counter++);
      const t0 = performance.now();
      const ok = await call(image);
      const elapsed = performance.now() - t0;
      completed += 1;
      if (Date.now() < warmEnd) continue;
      if (measuredStart === 0) measuredStart = t0;
      if (ok) latencies.push(elapsed);
      else busy += 1;
    }
  };
  await Promise.all(Array.from({ length: clients }, loop));
  const seconds = (performance.now() - measuredStart) / 1000;
  return {
    clients,
    requests: latencies.length - before,
    busy503: busy,
    imagesPerSecond: round2((latencies.length - before) / seconds),
    p50Ms: round2(percentile(latencies, 50)),
    p99Ms: round2(percentile(latencies, 99)),
    completed,
  };
}

/** The server's main-thread GC time so far (its /metrics), in ms. */
async function gcMs(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return [...text.matchAll(/^agiqa_nodejs_gc_duration_seconds_sum(?:\{[^}]*\})? ([0-9.e+-]+)$/gm)].reduce((sum, match) => sum + Number(match[1]) * 1000, 0);
}

/** CPU this process used while running `work`, in ms. */
async function ownCpuMs<T>(work: () => Promise<T>): Promise<{ result: T; cpuMs: number }> {
  const start = process.cpuUsage();
  const result = await work();
  const used = process.cpuUsage(start);
  return { result, cpuMs: (used.user + used.system) / 1000 };
}

const png = await basePng();
process.stderr.write(`1024² PNG: ${png.length} bytes\n`);

// The real server process (the built CLI: `npm run bench` builds dist/ first), started as the e2e
// tests start it and driven over loopback HTTP. A fresh home for each server's database; the packs of
// the caller's AGIQA_HOME (if any) are linked in so that both halves of the comparison load the same pack.
async function startServer(): Promise<ServeProcess> {
  const home = mkdtempSync(join(tmpdir(), 'agiqa-bench-'));
  if (process.env.AGIQA_HOME && existsSync(join(process.env.AGIQA_HOME, 'models'))) symlinkSync(join(process.env.AGIQA_HOME, 'models'), join(home, 'models'));
  const served = await startServeProcess(home, [], { AGIQA_WORKERS: String(WORKERS), AGIQA_MAX_QUEUE: '64' });
  await waitUntilReady(served);
  return served;
}

/** Starts a new peak-RSS window for a process (Linux: writing 5 to clear_refs resets VmHWM). */
function resetPeakRss(pid: number): void {
  writeFileSync(`/proc/${pid}/clear_refs`, '5');
}

/** Peak resident memory of a server process since its last reset, worker threads included. */
function peakRssMb(pid: number): number {
  return Math.round(Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024);
}

// The transport alone: a process that reads each upload whole and answers a small JSON body, as the
// server does, but scores nothing. Its p50 is what any HTTP server pays to take a 2.7 MB image.
const SINK = `
const http = require('node:http');
const server = http.createServer((request, response) => {
  const chunks = [];
  request.on('data', (chunk) => chunks.push(chunk));
  request.on('end', () => { Buffer.concat(chunks); response.setHeader('content-type', 'application/json'); response.end('{"ok":true}'); });
});
server.listen(0, '127.0.0.1', () => console.log('http://127.0.0.1:' + server.address().port));
`;
async function startSink(): Promise<{ url: string; stop: () => void }> {
  const child = spawn(process.execPath, ['-e', SINK], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve) => child.stdout!.once('data', (chunk) => resolve(String(chunk).trim())));
  return { url, stop: () => child.kill('SIGTERM') };
}

async function stopServer(served: ServeProcess): Promise<void> {
  served.child.kill('SIGTERM');
  await served.exited;
}

// node:http with a keep-alive agent: undici's fetch costs the client several times more CPU per
// 1 MB upload, and the client shares the machine's two cores with the server.
const agent = new Agent({ keepAlive: true, maxSockets: 64 });
function postImage(url: string, parts: Buffer[]): Promise<number> {
  const target = new URL(url);
  const length = parts.reduce((sum, part) => sum + part.length, 0);
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      { host: target.hostname, port: target.port, method: 'POST', path: '/v1/score', agent, headers: { 'content-type': 'image/png', 'content-length': length } },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      },
    );
    request.on('error', reject);
    for (const part of parts) request.write(part);
    request.end();
  });
}
// The bare scorer, in this process, through the same worker pool and the same built code as the
// server. Each level alternates bare and served rounds, so that a change in the machine's load hits
// both sides alike; images/s is the median round, the ratio the median of each served round ÷ the
// bare round before it, latencies and CPU per image over all rounds.
const { createScorer } = (await import(new URL('../dist/scoring/index.js', import.meta.url).href)) as typeof import('../src/scoring/index.js');
const serveLevel = (url: string, clients: number, options: Parameters<typeof drive>[3] = {}) =>
  drive(
    clients,
    async (image: Buffer[]) => {
      const status = await postImage(url, image);
      if (status !== 200 && status !== 503) throw new Error(`unexpected status ${status}`);
      return status === 200;
    },
    (n) => variantParts(png, n),
    options,
  );
const median = (values: number[]) => percentile(values, 50);
/** The rounds of one side as one level: images/s of the median round, latencies and counts over all. */
function combined(clients: number, rounds: LevelResult[], latencies: number[]): LevelResult {
  return {
    clients,
    requests: rounds.reduce((sum, round) => sum + round.requests, 0),
    busy503: rounds.reduce((sum, round) => sum + round.busy503, 0),
    imagesPerSecond: round2(median(rounds.map((round) => round.imagesPerSecond))),
    p50Ms: round2(percentile(latencies, 50)),
    p99Ms: round2(percentile(latencies, 99)),
    completed: rounds.reduce((sum, round) => sum + round.completed, 0),
  };
}
const bare: LevelResult[] = [];
const served: LevelResult[] = [];
const pairedRatios: number[] = [];
const peakRss: number[] = [];
const cpuPerImage: { bare: number; server: number; client: number; serverGc: number }[] = [];
let bareWithThumbnails: { level: LevelResult; cpuMs: number } | undefined;
const scorer = await createScorer({ pack: 'lite', workers: WORKERS, maxQueue: 64 });
const server = await startServer();
const scoreBare = async (image: Uint8Array<ArrayBuffer>) => (await scorer.score({ image, name: 'bench.png', handOver: true }), true);
for (const clients of LEVELS) {
  const sides = { bare: { rounds: [] as LevelResult[], latencies: [] as number[], cpuMs: 0 }, served: { rounds: [] as LevelResult[], latencies: [] as number[], cpuMs: 0, serverCpuMs: 0, gcMs: 0 } };
  const ratios: number[] = [];
  resetPeakRss(servingPid(server.child));
  for (let round = 0; round < ROUNDS; round += 1) {
    // The first round warms up for WARMUP_MS; later ones briefly, to reach steady load again.
    const timing = { warmupMs: round === 0 ? WARMUP_MS : 500, durationMs: DURATION_MS / ROUNDS };
    const bareRun = await ownCpuMs(() => drive(clients, scoreBare, (n) => variant(png, n), { ...timing, latencies: sides.bare.latencies }));
    sides.bare.rounds.push(bareRun.result);
    sides.bare.cpuMs += bareRun.cpuMs;
    const serverCpuBefore = processCpuMs(servingPid(server.child));
    const gcBefore = await gcMs(server.url);
    const servedRun = await ownCpuMs(() => serveLevel(server.url, clients, { ...timing, latencies: sides.served.latencies }));
    sides.served.gcMs += (await gcMs(server.url)) - gcBefore;
    sides.served.serverCpuMs += processCpuMs(servingPid(server.child)) - serverCpuBefore;
    sides.served.rounds.push(servedRun.result);
    sides.served.cpuMs += servedRun.cpuMs;
    ratios.push(servedRun.result.imagesPerSecond / bareRun.result.imagesPerSecond);
    process.stderr.write(`${clients} clients, round ${round + 1}: bare ${bareRun.result.imagesPerSecond} img/s, server ${servedRun.result.imagesPerSecond} img/s\n`);
  }
  bare.push(combined(clients, sides.bare.rounds, sides.bare.latencies));
  served.push(combined(clients, sides.served.rounds, sides.served.latencies));
  pairedRatios.push(round2(median(ratios)));
  peakRss.push(peakRssMb(servingPid(server.child)));
  const bareDone = bare.at(-1)!.completed;
  const servedDone = served.at(-1)!.completed;
  // The "client" is this process while it drives the server: making each variant and uploading it.
  cpuPerImage.push({
    bare: round2(sides.bare.cpuMs / bareDone),
    server: round2(sides.served.serverCpuMs / servedDone),
    client: round2(sides.served.cpuMs / servedDone),
    serverGc: round2(sides.served.gcMs / servedDone),
  });
  process.stderr.write(`bare scorer ${clients} clients: ${JSON.stringify(bare.at(-1))}\n`);
  process.stderr.write(`server ${clients} clients: ${JSON.stringify(served.at(-1))}, ratio ${pairedRatios.at(-1)}, peak RSS ${peakRss.at(-1)} MB, CPU ms per image ${JSON.stringify(cpuPerImage.at(-1))}\n`);
  if (clients === 4) {
    const thumbed = await ownCpuMs(() =>
      drive(clients, async (image: Uint8Array<ArrayBuffer>) => (await scorer.score({ image, name: 'bench.png', handOver: true, thumbnail: { size: 256, made: () => undefined } }), true), (n) => variant(png, n)),
    );
    bareWithThumbnails = { level: thumbed.result, cpuMs: round2(thumbed.cpuMs / thumbed.result.completed) };
    process.stderr.write(`bare scorer + thumbnails ${clients} clients: ${JSON.stringify(bareWithThumbnails)}\n`);
  }
}
// The overhead at one client, paired: bare and served calls alternate, so a change in the machine's
// speed during the run hits both halves of every pair (separate 8 s windows drift by several ms here).
const PAIRS = Number(process.env.BENCH_PAIRS ?? 150);
const pairedBare: number[] = [];
const pairedServed: number[] = [];
for (let i = 0; i < PAIRS + 10; i++) {
  const image = variant(png, counter++);
  const parts = variantParts(png, counter++);
  const t0 = performance.now();
  await scorer.score({ image, name: 'bench.png', handOver: true });
  const t1 = performance.now();
  const status = await postImage(server.url, parts);
  const t2 = performance.now();
  if (status !== 200) throw new Error(`unexpected status ${status}`);
  if (i < 10) continue; // warm-up
  pairedBare.push(t1 - t0);
  pairedServed.push(t2 - t1);
}
const paired = { pairs: PAIRS, bareP50Ms: round2(percentile(pairedBare, 50)), servedP50Ms: round2(percentile(pairedServed, 50)) };
process.stderr.write(`paired, 1 client: ${JSON.stringify(paired)}\n`);
// The two ways of making a 256 px thumbnail of this image, alternating, one at a time in this process:
// from the PNG's bytes (decode + resize + WebP: what the main thread did before) and from the decoded
// pixels (resize + WebP: what a scoring worker adds to each image now).
const { decodeImage, makePreview, thumbnailOfPixels } = (await import(new URL('../dist/image/index.js', import.meta.url).href)) as typeof import('../src/image/index.js');
const decodedPng = await decodeImage(png, 'bench.png');
const thumbnailCpu = { fromBytes: [] as number[], fromPixels: [] as number[] };
for (let i = 0; i < 40; i++) {
  const fromBytes = await ownCpuMs(() => makePreview(png, { size: 256, maxPixels: SIDE * SIDE }));
  const fromPixels = await ownCpuMs(() => thumbnailOfPixels(decodedPng.rgb, { width: SIDE, height: SIDE, channels: 3 }, 256));
  if (i < 5) continue; // warm-up
  thumbnailCpu.fromBytes.push(fromBytes.cpuMs);
  thumbnailCpu.fromPixels.push(fromPixels.cpuMs);
}
const thumbnails = { fromBytesCpuMs: round2(percentile(thumbnailCpu.fromBytes, 50)), fromPixelsCpuMs: round2(percentile(thumbnailCpu.fromPixels, 50)) };
process.stderr.write(`thumbnail CPU ms (p50): ${JSON.stringify(thumbnails)}\n`);
await stopServer(server);
await scorer.close();
const sink = await startSink();
const transport = await serveLevel(sink.url, 1);
sink.stop();
process.stderr.write(`transport only, 1 client: ${JSON.stringify(transport)}\n`);
agent.destroy();

const rows = LEVELS.map((clients, index) => {
  const s = served[index]!;
  const b = bare[index]!;
  const cpu = cpuPerImage[index]!;
  return [clients, s.imagesPerSecond, s.p50Ms, s.p99Ms, b.imagesPerSecond, b.p50Ms, round2(s.p50Ms - b.p50Ms), pairedRatios[index]!, cpu.bare, cpu.server, round2(cpu.server / cpu.bare), cpu.serverGc, cpu.client, peakRss[index]!, s.busy503];
});
const path = await writeResults({
  name: 'server',
  title: 'Server: POST /v1/score, 1024² PNG, lite pack, loopback',
  notes: [
    `${WORKERS} scoring workers, ${DURATION_MS / 1000} s per level and side in ${ROUNDS} alternating rounds (bare, served, bare, …; ${WARMUP_MS / 1000} s warm-up before the first, 0.5 s before the others); img/s = the median round; server/bare = the median of each served round ÷ the bare round before it; latencies and CPU over all rounds. The client runs in the benchmark process; server and bare scorer run the built dist/, both under the malloc setting agiqa serve applies (GLIBC_TUNABLES) and the heap growth createScorer sets (src/scoring/heap-growth.ts).`,
    'Every request is a distinct image (unique PNG text chunk), so nothing is answered from the database.',
    'Overhead = server p50 − bare scorer p50 at the same concurrency (HTTP, hashing, SQLite write, verdict). CPU server/bare = server CPU ms/img ÷ bare CPU ms/img: on 2 busy cores the images/s ratio follows it, and it swings less with the machine\'s load.',
    `Overhead at 1 client, paired (${paired.pairs} bare and served calls alternating, so drift in the machine's speed hits both): server p50 ${paired.servedP50Ms} ms − bare p50 ${paired.bareP50Ms} ms = **${round2(paired.servedP50Ms - paired.bareP50Ms)} ms**.`,
    `Transport alone (the same uploads to a process that only reads them and answers a small JSON body), 1 client: p50 ${transport.p50Ms} ms; the server's own work beyond moving the bytes is then ${round2(paired.servedP50Ms - paired.bareP50Ms - transport.p50Ms)} ms at p50 (paired figures).`,
    'CPU ms per image (user + system, all threads): bare = this process while scoring in-process (variant, decode, signals, model); server = the server process; client = this process while making the variants and uploading them. Two cores give at most 2000 ms of CPU per second, shared by server and client.',
    'Server GC ms/img: the main thread\'s garbage collection (agiqa_nodejs_gc_duration_seconds from /metrics) over the level, per image.',
    bareWithThumbnails === undefined
      ? 'No run with thumbnails.'
      : `Thumbnails: the server's workers make them (256 px WebP) from the pixels they decoded, after answering; while images wait for a worker at most one a second. The bare scorer asked for one of every image at 4 clients: ${bareWithThumbnails.level.imagesPerSecond} img/s, ${bareWithThumbnails.cpuMs} CPU ms per image (without: ${bare[1]?.imagesPerSecond} img/s, ${cpuPerImage[1]?.bare} ms); server ÷ that = ${round2((served[1]?.imagesPerSecond ?? NaN) / bareWithThumbnails.level.imagesPerSecond)}. One thumbnail apart, CPU ms p50 of 35: from the PNG's bytes (decode + resize + WebP, what the main thread did before) ${thumbnails.fromBytesCpuMs}; from the decoded pixels (resize + WebP, what a worker adds now) ${thumbnails.fromPixelsCpuMs}.`,
    'Peak RSS: VmHWM of the server process (worker threads included) during that level alone (reset through /proc/<pid>/clear_refs before it).',
    `1-minute load average at the end: ${loadavg()[0]!.toFixed(2)} on 2 cores.`,
  ],
  table: { columns: ['clients', 'server img/s', 'server p50 ms', 'server p99 ms', 'bare img/s', 'bare p50 ms', 'overhead p50 ms', 'server/bare', 'bare CPU ms/img', 'server CPU ms/img', 'CPU server/bare', 'server GC ms/img', 'client CPU ms/img', 'server peak RSS MB', '503s'], rows },
  raw: { served, bare, pairedRatios, cpuPerImage, bareWithThumbnails, thumbnails, paired, transport, peakRssMb: peakRss, pngBytes: png.length },
});
process.stderr.write(`wrote ${path}\n`);
