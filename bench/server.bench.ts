// Load benchmark of `agiqa serve` on loopback: throughput and p50/p99 of POST /v1/score with a 1024²
// PNG at 1, 4 and 16 concurrent clients on the lite pack, the server's peak RSS, and its overhead
// over calling the bare scorer (same pack, same workers) at the same concurrency in the same run.
// Every request carries a distinct image (a unique PNG text chunk) so the dedupe never answers it.
import { Agent, request as httpRequest } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { startServeProcess, waitUntilReady, type ServeProcess } from '../test/e2e/serve-process.js';
import { percentile, round2, writeResults } from './lib.js';

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

/** The same image with a unique tEXt chunk before IEND: identical pixels, a different sha256. */
function variant(png: Buffer, n: number): Uint8Array<ArrayBuffer> {
  const data = Buffer.from(`bench\0${n}`, 'latin1');
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write('tEXt', 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  const iend = png.length - 12;
  return new Uint8Array(Buffer.concat([png.subarray(0, iend), head, data, crc, png.subarray(iend)]));
}

interface LevelResult {
  clients: number;
  requests: number;
  busy503: number;
  imagesPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

let counter = 0;

/** Runs `clients` loops of `call` for a warm-up and then DURATION_MS; latencies of the measured part only. */
async function drive(clients: number, call: (image: Uint8Array<ArrayBuffer>) => Promise<boolean>, png: Buffer): Promise<LevelResult> {
  const latencies: number[] = [];
  let busy = 0;
  const warmEnd = Date.now() + WARMUP_MS;
  const end = warmEnd + DURATION_MS;
  let measuredStart = 0;
  const loop = async () => {
    while (Date.now() < end) {
      const image = variant(png, counter++);
      const t0 = performance.now();
      const ok = await call(image);
      const elapsed = performance.now() - t0;
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
  };
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

async function stopServer(served: ServeProcess): Promise<void> {
  served.child.kill('SIGTERM');
  await served.exited;
}

// node:http with a keep-alive agent: undici's fetch costs the client several times more CPU per
// 1 MB upload, and the client shares the machine's two cores with the server.
const agent = new Agent({ keepAlive: true, maxSockets: 64 });
function postImage(url: string, image: Uint8Array): Promise<number> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      { host: target.hostname, port: target.port, method: 'POST', path: '/v1/score', agent, headers: { 'content-type': 'image/png', 'content-length': image.length } },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      },
    );
    request.on('error', reject);
    request.end(image);
  });
}
// The bare scorer, in this process, through the same worker pool and the same built code as the
// server. Each level runs bare then served back to back, so that a change in the machine's load hits
// both sides alike.
const { createScorer } = (await import(new URL('../dist/scoring/index.js', import.meta.url).href)) as typeof import('../src/scoring/index.js');
const serveLevel = (url: string, clients: number) =>
  drive(
    clients,
    async (image) => {
      const status = await postImage(url, image);
      if (status !== 200 && status !== 503) throw new Error(`unexpected status ${status}`);
      return status === 200;
    },
    png,
  );
const bare: LevelResult[] = [];
const served: LevelResult[] = [];
const peakRss: number[] = [];
const scorer = await createScorer({ pack: 'lite', workers: WORKERS, maxQueue: 64 });
const server = await startServer();
for (const clients of LEVELS) {
  bare.push(await drive(clients, async (image) => (await scorer.score({ image, name: 'bench.png', handOver: true }), true), png));
  process.stderr.write(`bare scorer ${clients} clients: ${JSON.stringify(bare.at(-1))}\n`);
  resetPeakRss(server.child.pid!);
  served.push(await serveLevel(server.url, clients));
  peakRss.push(peakRssMb(server.child.pid!));
  process.stderr.write(`server ${clients} clients: ${JSON.stringify(served.at(-1))}, peak RSS ${peakRss.at(-1)} MB\n`);
}
await stopServer(server);
await scorer.close();
agent.destroy();

const rows = LEVELS.map((clients, index) => {
  const s = served[index]!;
  const b = bare[index]!;
  return [clients, s.imagesPerSecond, s.p50Ms, s.p99Ms, b.imagesPerSecond, b.p50Ms, round2(s.p50Ms - b.p50Ms), round2(s.imagesPerSecond / b.imagesPerSecond), peakRss[index]!, s.busy503];
});
const path = await writeResults({
  name: 'server',
  title: 'Server: POST /v1/score, 1024² PNG, lite pack, loopback',
  notes: [
    `${WORKERS} scoring workers, ${DURATION_MS / 1000} s per level after a ${WARMUP_MS / 1000} s warm-up; the client runs in the benchmark process; server and bare scorer run the built dist/.`,
    'Every request is a distinct image (unique PNG text chunk), so nothing is answered from the database.',
    'Overhead = server p50 − bare scorer p50 at the same concurrency (HTTP, hashing, SQLite write, verdict); ratio = server img/s ÷ bare img/s.',
    'Peak RSS: VmHWM of the server process (worker threads included) during that level alone (reset through /proc/<pid>/clear_refs before it).',
    `1-minute load average at the end: ${loadavg()[0]!.toFixed(2)} on 2 cores.`,
  ],
  table: { columns: ['clients', 'server img/s', 'server p50 ms', 'server p99 ms', 'bare img/s', 'bare p50 ms', 'overhead p50 ms', 'server/bare', 'server peak RSS MB', '503s'], rows },
  raw: { served, bare, peakRssMb: peakRss, pngBytes: png.length },
});
process.stderr.write(`wrote ${path}\n`);
