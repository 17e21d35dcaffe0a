// Hostile clients and inputs beside real requests (issue 12): for each attack, a fresh `agiqa serve`
// (lite pack, 2 workers) takes a steady client of real 512² PNG requests while the attack runs; we
// report the real requests' p50 and failures and the server's peak RSS. Then 200 concurrent requests
// against the queue: counts by status and p50/p95. "before" is a build of the code before this work
// (BENCH_BEFORE_BIN, default /work/main/bin/agiqa.js when it still lacks the fixes), "after" this tree,
// measured in the same run.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { hostilePngs } from '../test/fixtures/hostile/hostile-inputs.js';
import { servingPid } from '../test/e2e/serve-process.js';
import { noisyGradient, pngOf, pngWithText } from './images.js';
import { percentile, round2, writeResults } from './lib.js';

const ATTACK_MS = Number(process.env.BENCH_SECONDS ?? 6) * 1000;
const AFTER_BIN = fileURLToPath(new URL('../bin/agiqa.js', import.meta.url));
const BEFORE_BIN = process.env.BENCH_BEFORE_BIN ?? '/work/main/bin/agiqa.js';

interface Server {
  child: ChildProcess;
  url: string;
  port: number;
}

async function startServer(bin: string, env: Record<string, string> = {}): Promise<Server> {
  const home = mkdtempSync(join(tmpdir(), 'agiqa-bench-hostile-'));
  const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('AGIQA_')));
  const child = spawn(process.execPath, [bin, 'serve', '--port', '0'], { cwd: home, env: { ...clean, AGIQA_HOME: home, AGIQA_WORKERS: '2', AGIQA_LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'ignore'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk) => {
      out += String(chunk);
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match) resolve(match[1]!);
    });
    child.on('exit', (code) => reject(new Error(`agiqa serve exited with ${code}`)));
  });
  for (let i = 0; i < 300; i++) {
    const health = await fetch(`${url}/v1/health`).then((r) => r.json() as Promise<{ status: string }>, () => ({ status: 'down' }));
    if (health.status === 'ok') break;
    await sleep(100);
  }
  return { child, url, port: Number(new URL(url).port) };
}

function stopServer(server: Server): Promise<void> {
  // SIGKILL: a server whose workers spin (the "before" build under hostile PNGs) never ends on SIGTERM.
  server.child.kill('SIGKILL');
  return new Promise((resolve) => (server.child.exitCode !== null ? resolve() : server.child.once('exit', () => resolve())));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The server's own peak RSS: under the malloc supervisor the process started is its parent, not it. */
function peakRssMb(server: Server): number {
  return Math.round(Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${servingPid(server.child)}/status`, 'utf8'))![1]) / 1024);
}

const basePng = (side: number): Promise<Buffer> => pngOf(noisyGradient(side, { step: 2, blue: 128 }), side);

/** The same image with a unique tEXt chunk: identical pixels, a new hash, so the store never answers it. */
const variant = (png: Buffer, n: number): Uint8Array<ArrayBuffer> => pngWithText(png, `${n}-${Math.random()}`);

async function post(url: string, body: Uint8Array<ArrayBuffer>, type = 'image/png'): Promise<{ status: number; ms: number }> {
  const started = performance.now();
  try {
    const response = await fetch(`${url}/v1/score`, { method: 'POST', headers: { 'content-type': type }, body, signal: AbortSignal.timeout(60_000) });
    await response.arrayBuffer();
    return { status: response.status, ms: performance.now() - started };
  } catch {
    return { status: 0, ms: performance.now() - started };
  }
}

/** Raw TCP: sends `head` and `body` (which may be shorter than declared) and resolves when the server closes or `holdMs` passes. */
function rawSend(port: number, localAddress: string, head: string, body: Buffer, holdMs: number, abort = false): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, localAddress }, () => {
      socket.write(head);
      socket.write(body, () => {
        if (abort) socket.destroy();
      });
    });
    const timer = setTimeout(() => socket.destroy(), holdMs);
    socket.on('data', () => undefined);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

const rawHead = (port: number, type: string, length: number) => `POST /v1/score HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: ${type}\r\nContent-Length: ${length}\r\n\r\n`;

type Attack = (server: Server, until: number) => Promise<void>;

/** Runs `lanes` loops of `once` until the deadline. */
const lanes = (count: number, once: (lane: number) => Promise<unknown>): ((until: number) => Promise<void>) => async (until) => {
  await Promise.all(
    Array.from({ length: count }, async (_, lane) => {
      while (Date.now() < until) await once(lane);
    }),
  );
};

async function attacks(): Promise<Record<string, Attack>> {
  const pngs = Object.values(await hostilePngs());
  const big = await sharp({ create: { width: 8192, height: 8192, channels: 3, background: { r: 90, g: 120, b: 200 } } })
    .composite([{ input: await basePng(512), tile: true }])
    .jpeg({ quality: 80 })
    .toBuffer();
  const oversize = Buffer.alloc(40 * 1024 * 1024);
  let n = 0;
  return {
    none: async (_server, until) => {
      await sleep(until - Date.now());
    },
    // 40 connections sending the head and one byte of a 100 KB body, reopened when cut.
    'slow-loris ×40': (server, until) => lanes(40, () => rawSend(server.port, '127.0.0.2', rawHead(server.port, 'image/png', 100_000), Buffer.from([0x89]), Math.max(0, until - Date.now())))(until),
    // 4 clients streaming 40 MiB raw bodies (over maxImageBytes, under maxBodyBytes) as fast as they can.
    'oversize uploads ×4': (server, until) => lanes(4, () => rawSend(server.port, '127.0.0.3', rawHead(server.port, 'image/png', oversize.length), oversize, 10_000))(until),
    // 4 clients each sending 100 KB of a 1 MB upload, then hanging up.
    'aborted uploads ×4': (server, until) => lanes(4, () => rawSend(server.port, '127.0.0.4', rawHead(server.port, 'image/png', 1_000_000), Buffer.alloc(100_000), 10_000, true))(until),
    // 2 clients sending r-parse's hostile PNGs (graph diamonds, 60k-char parameters, zTXt floods, bombs) in turn.
    'hostile PNGs ×2': (server, until) => lanes(2, () => post(server.url, new Uint8Array(pngs[n++ % pngs.length]!)))(until),
    // 1 client sending an 8192² JPEG (distinct each time) in a loop.
    '8192² JPEG ×1': (server, until) => lanes(1, () => post(server.url, variantJpeg(big, n++), 'image/jpeg'))(until),
  };
}

/** A JPEG made distinct by a trailing comment after EOI-less append (decoders ignore bytes after EOI). */
function variantJpeg(jpeg: Buffer, n: number): Uint8Array<ArrayBuffer> {
  return new Uint8Array(Buffer.concat([jpeg, Buffer.from(`\n${n}-${Math.random()}`)]));
}

interface AttackResult {
  build: string;
  attack: string;
  real: number;
  failed: number;
  p50: number;
  peakRssMb: number;
}

async function underAttack(build: string, bin: string, name: string, attack: Attack, png: Buffer): Promise<AttackResult> {
  const server = await startServer(bin);
  try {
    await post(server.url, variant(png, 0)); // warm the workers
    const until = Date.now() + ATTACK_MS;
    const latencies: number[] = [];
    let failed = 0;
    const real = (async () => {
      await sleep(300); // let the attack take hold first
      let i = 1;
      while (Date.now() < until) {
        const { status, ms } = await post(server.url, variant(png, i++));
        if (status === 200) latencies.push(ms);
        else failed++;
      }
    })();
    await Promise.all([attack(server, until), real]);
    return { build, attack: name, real: latencies.length + failed, failed, p50: round2(percentile(latencies, 50)), peakRssMb: peakRssMb(server) };
  } finally {
    await stopServer(server);
  }
}

interface QueueResult {
  build: string;
  statuses: Record<string, number>;
  p50: number;
  p95: number;
  peakRssMb: number;
}

async function queueBurst(build: string, bin: string, png: Buffer, env: Record<string, string> = {}): Promise<QueueResult> {
  const server = await startServer(bin, env);
  try {
    await post(server.url, variant(png, 0));
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => post(server.url, variant(png, 1000 + i))));
    const statuses: Record<string, number> = {};
    for (const { status } of results) statuses[String(status)] = (statuses[String(status)] ?? 0) + 1;
    const ms = results.map((r) => r.ms);
    return { build, statuses, p50: round2(percentile(ms, 50)), p95: round2(percentile(ms, 95)), peakRssMb: peakRssMb(server) };
  } finally {
    await stopServer(server);
  }
}

const builds: [string, string][] = [['after', AFTER_BIN]];
if (existsSync(BEFORE_BIN)) builds.unshift(['before', BEFORE_BIN]);
const png = await basePng(512);
const attackList = await attacks();
const attackResults: AttackResult[] = [];
for (const [name, attack] of Object.entries(attackList)) {
  for (const [build, bin] of builds) {
    const result = await underAttack(build, bin, name, attack, png);
    process.stderr.write(`${JSON.stringify(result)}\n`);
    attackResults.push(result);
  }
}
const queueResults: QueueResult[] = [];
for (const [build, bin] of builds) queueResults.push(await queueBurst(build, bin, png));
// The per-client cap answers most of 200 requests from one address with 429; raised, the queue bound does.
queueResults.push({ ...(await queueBurst('after', AFTER_BIN, png, { AGIQA_MAX_REQUESTS_PER_CLIENT: '1000' })), build: 'after, maxRequestsPerClient 1000' });
for (const result of queueResults) process.stderr.write(`${JSON.stringify(result)}\n`);

const rows: (string | number)[][] = attackResults.map((r) => [r.attack, r.build, r.real, r.failed, Number.isNaN(r.p50) ? '—' : r.p50, r.peakRssMb]);
for (const q of queueResults) {
  rows.push([`200 concurrent (${Object.entries(q.statuses).map(([s, c]) => `${c}× ${s === '0' ? 'no answer' : s}`).join(', ')})`, q.build, 200, 200 - (q.statuses['200'] ?? 0), `${q.p50} (p95 ${q.p95})`, q.peakRssMb]);
}
const path = await writeResults({
  name: 'hostile',
  title: 'Hostile clients and inputs beside real requests (`npm run bench -- hostile`)',
  notes: [
    `Fresh \`agiqa serve\` (lite pack, 2 workers) per row; a steady client posts distinct 512² PNGs (raw) for ${ATTACK_MS / 1000} s while the attack runs from other loopback addresses.`,
    `"before" is the build at BENCH_BEFORE_BIN (${BEFORE_BIN}: main without this branch's server work), "after" this tree, in the same run; timings on a shared 2-core machine swing ±40 %.`,
    'failed = real requests not answered 200 (503, 504, or no answer within 60 s); peak RSS is the server process\'s VmHWM.',
    '200 concurrent: 200 distinct 512² PNGs at once from one address against capacity 34 (maxQueue 32 + 2 workers); status counts, then p50 (p95) ms of all answers.',
  ],
  table: { columns: ['attack', 'build', 'real requests', 'failed', 'p50 ms of real requests', 'server peak RSS MB'], rows },
  raw: { attackResults, queueResults },
});
process.stderr.write(`wrote ${path}\n`);
