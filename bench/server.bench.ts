// Load benchmark of `agiqa serve` on loopback: throughput and p50/p99 of POST /v1/score with a 1024²
// PNG at 1, 4 and 16 concurrent clients on the lite pack, the server's peak RSS, and its overhead
// over calling the bare scorer (same pack, same workers) at the same concurrency in the same run.
// Every request carries a distinct image (a unique PNG text chunk) so the dedupe never answers it.
import { spawn, spawnSync } from 'node:child_process';
import { Agent, request as httpRequest } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { servingPid, startServeProcess, waitUntilReady, type ServeProcess } from '../test/e2e/serve-process.js';
import { percentile, round2, writeResults } from './lib.js';
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
const LEVELS = [1, 4, 16];
const WORKERS = 2;
const SIDE = 1024;

async function basePng(): Promise<Buffer> {
  const pixels = Buffer.alloc(SIDE * SIDE * 3);
  let seed = 7;
  for (let i = 0; i < pixels.length; i += 3) {
    const p = i / 3;
    const x = p % SIDE;
    const y = Math.floor(p / SIDE);
    seed = (seed * 1103515245 + 12345) >>> 0;
    const noise = (seed >>> 24) & 31;
    pixels[i] = (x / 4 + noise) & 255;
    pixels[i + 1] = (y / 4 + noise) & 255;
    pixels[i + 2] = ((x + y) / 8) & 255;
  }
  return sharp(pixels, { raw: { width: SIDE, height: SIDE, channels: 3 } }).png().toBuffer();
}

/**
 * The same image with a unique tEXt chunk before IEND (identical pixels, a different sha256), as the
 * pieces of the file in order: an uploader writes them one after another without joining them.
 */
function variantParts(png: Buffer, n: number): Buffer[] {
  const data = Buffer.from(`bench\0${n}`, 'latin1');
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write('tEXt', 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  const iend = png.length - 12;
  return [png.subarray(0, iend), Buffer.concat([head, data, crc]), png.subarray(iend)];
}

/** The variant as one buffer of its own, for the in-process scorer. */
function variant(png: Buffer, n: number): Uint8Array<ArrayBuffer> {
  return new Uint8Array(Buffer.concat(variantParts(png, n)));
}

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

/** Runs `clients` loops of `call` for a warm-up and then DURATION_MS; latencies of the measured part only. */
async function drive<Image>(clients: number, call: (image: Image) => Promise<boolean>, makeImage: (n: number) => Image): Promise<LevelResult> {
  const latencies: number[] = [];
  let busy = 0;
  let completed = 0;
  const warmEnd = Date.now() + WARMUP_MS;
  const end = warmEnd + DURATION_MS;
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
    requests: latencies.length,
    busy503: busy,
    imagesPerSecond: round2(latencies.length / seconds),
    p50Ms: round2(percentile(latencies, 50)),
    p99Ms: round2(percentile(latencies, 99)),
    completed,
  };
}

/** CPU time (user + system) a process has used so far, in ms, threads included (Linux /proc). */
function processCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // utime and stime are fields 14 and 15 of stat, counted from the pid; index 11 and 12 after the name.
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
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
// server. Each level runs bare then served back to back, so that a change in the machine's load hits
// both sides alike.
const { createScorer } = (await import(new URL('../dist/scoring/index.js', import.meta.url).href)) as typeof import('../src/scoring/index.js');
const serveLevel = (url: string, clients: number) =>
  drive(
    clients,
    async (image: Buffer[]) => {
      const status = await postImage(url, image);
      if (status !== 200 && status !== 503) throw new Error(`unexpected status ${status}`);
      return status === 200;
    },
    (n) => variantParts(png, n),
  );
const bare: LevelResult[] = [];
const served: LevelResult[] = [];
const peakRss: number[] = [];
const cpuPerImage: { bare: number; server: number; client: number }[] = [];
const scorer = await createScorer({ pack: 'lite', workers: WORKERS, maxQueue: 64 });
const server = await startServer();
for (const clients of LEVELS) {
  const bareRun = await ownCpuMs(() => drive(clients, async (image: Uint8Array<ArrayBuffer>) => (await scorer.score({ image, name: 'bench.png', handOver: true }), true), (n) => variant(png, n)));
  bare.push(bareRun.result);
  process.stderr.write(`bare scorer ${clients} clients: ${JSON.stringify(bare.at(-1))}\n`);
  resetPeakRss(servingPid(server.child));
  const serverCpuBefore = processCpuMs(servingPid(server.child));
  const servedRun = await ownCpuMs(() => serveLevel(server.url, clients));
  served.push(servedRun.result);
  peakRss.push(peakRssMb(servingPid(server.child)));
  // The "client" is this process while it drives the server: making each variant and uploading it.
  cpuPerImage.push({
    bare: round2(bareRun.cpuMs / bareRun.result.completed),
    server: round2((processCpuMs(servingPid(server.child)) - serverCpuBefore) / servedRun.result.completed),
    client: round2(servedRun.cpuMs / servedRun.result.completed),
  });
  process.stderr.write(`server ${clients} clients: ${JSON.stringify(served.at(-1))}, peak RSS ${peakRss.at(-1)} MB, CPU ms per image ${JSON.stringify(cpuPerImage.at(-1))}\n`);
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
  return [clients, s.imagesPerSecond, s.p50Ms, s.p99Ms, b.imagesPerSecond, b.p50Ms, round2(s.p50Ms - b.p50Ms), round2(s.imagesPerSecond / b.imagesPerSecond), cpu.bare, cpu.server, cpu.client, peakRss[index]!, s.busy503];
});
const path = await writeResults({
  name: 'server',
  title: 'Server: POST /v1/score, 1024² PNG, lite pack, loopback',
  notes: [
    `${WORKERS} scoring workers, ${DURATION_MS / 1000} s per level after a ${WARMUP_MS / 1000} s warm-up; the client runs in the benchmark process; server and bare scorer run the built dist/, both under the malloc setting agiqa serve applies (GLIBC_TUNABLES).`,
    'Every request is a distinct image (unique PNG text chunk), so nothing is answered from the database.',
    'Overhead = server p50 − bare scorer p50 at the same concurrency (HTTP, hashing, SQLite write, verdict); ratio = server img/s ÷ bare img/s.',
    `Overhead at 1 client, paired (${paired.pairs} bare and served calls alternating, so drift in the machine's speed hits both): server p50 ${paired.servedP50Ms} ms − bare p50 ${paired.bareP50Ms} ms = **${round2(paired.servedP50Ms - paired.bareP50Ms)} ms**.`,
    `Transport alone (the same uploads to a process that only reads them and answers a small JSON body), 1 client: p50 ${transport.p50Ms} ms; the server's own work beyond moving the bytes is then ${round2(paired.servedP50Ms - paired.bareP50Ms - transport.p50Ms)} ms at p50 (paired figures).`,
    'CPU ms per image (user + system, all threads): bare = this process while scoring in-process (variant, decode, signals, model); server = the server process; client = this process while making the variants and uploading them. Two cores give at most 2000 ms of CPU per second, shared by server and client.',
    'Peak RSS: VmHWM of the server process (worker threads included) during that level alone (reset through /proc/<pid>/clear_refs before it).',
    `1-minute load average at the end: ${loadavg()[0]!.toFixed(2)} on 2 cores.`,
  ],
  table: { columns: ['clients', 'server img/s', 'server p50 ms', 'server p99 ms', 'bare img/s', 'bare p50 ms', 'overhead p50 ms', 'server/bare', 'bare CPU ms/img', 'server CPU ms/img', 'client CPU ms/img', 'server peak RSS MB', '503s'], rows },
  raw: { served, bare, cpuPerImage, paired, transport, peakRssMb: peakRss, pngBytes: png.length },
});
process.stderr.write(`wrote ${path}\n`);
