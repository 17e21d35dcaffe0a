// The one-pipeline issue's figures, side by side in one run on the embedded lite pack (`agiqa serve`
// with 2 workers, its malloc supervisor on):
//  1. the ComfyUI Score node (its Python code against the server) on a 512² batch of 4: wall time per
//     image, sending raw frames (now) and PNG + base64 (before), against the bare scorer's time for the
//     same 4 images in this process (the server's own scoring cost), alternating;
//  2. POST /v1/score with 1024² images at 4 clients: raw-pixel uploads against PNG uploads (images/s);
//  3. a burst of 100 ComfyUI outputs through the bridge: admitted through the server's queue (capacity
//     smaller than the burst), counted in /metrics, none lost.
import { spawn } from 'node:child_process';
import { Agent, request as httpRequest } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import pino from 'pino';
import sharp from 'sharp';
import { startComfyBridges } from '../src/bridges/comfyui/index.js';
import { configSchema } from '../src/config/index.js';
import { MALLOC_TUNABLES } from '../src/cli/malloc-supervisor.js';
import { createScorer } from '../src/scoring/index.js';
import { startServer } from '../src/server/index.js';
import { ComfyDouble } from '../test/bridges/comfyui/comfyui-double.js';
import { mainGraph } from '../test/bridges/comfyui/harness.js';
import { readFileSync } from 'node:fs';
import { ROOT, servingPid, startServeProcess, waitUntilReady } from '../test/e2e/serve-process.js';
import { noisyGradient, pngOf, pngWithTextParts } from './images.js';
import { median, percentile, processCpuMs, round2, writeResults } from './lib.js';

const DURATION_MS = Number(process.env.BENCH_SECONDS ?? 8) * 1000;
// Rounds of a few tens of ms each on a machine whose load swings: enough of them that the medians settle.
const NODE_ROUNDS = Number(process.env.BENCH_NODE_ROUNDS ?? 32);

// ── 1. the Score node ──────────────────────────────────────────────────────────────────────────
/** A ComfyUI queue samples for seconds between two Score node runs; each timed batch starts this long after the last ended. */
const PAUSE_MS = 300;
const pause = () => new Promise((resolve) => setTimeout(resolve, PAUSE_MS));

type NodeVariant = 'raw' | 'raw2' | 'png' | 'whole';
interface NodeRound {
  variant: NodeVariant;
  wallMs: number;
  convertMs: number;
  ids: number[];
}

/** A child process answering one JSON line per line it is sent (the Python node client, the bare scorer). */
function lineChild(command: string, args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(command, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += String(chunk)));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return {
    async next<T>(): Promise<T> {
      const next = await lines.next();
      if (next.done === true) throw new Error(`${args[args.length - 1]} ended: ${stderr}`);
      return JSON.parse(next.value) as T;
    },
    async ask<T>(line: string): Promise<T> {
      child.stdin.write(`${line}\n`);
      return this.next<T>();
    },
    close: () => new Promise<void>((resolve) => {
      child.on('exit', () => resolve());
      child.stdin.end();
    }),
  };
}

async function nodeBench(url: string) {
  const client = lineChild('/usr/bin/python3', [join(ROOT, 'bench/pipeline/node_client.py'), join(ROOT, 'plugin-manifest/comfyui')], { ...process.env, AGIQA_URL: url });
  // The baseline with the malloc setting the server runs under (its supervisor sets it for its child).
  const bareScorer = lineChild(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/pipeline/bare-scorer.ts')], { ...process.env, GLIBC_TUNABLES: MALLOC_TUNABLES });
  await bareScorer.next();
  const rounds: (NodeRound & { round: number })[] = [];
  const bare: number[] = [];
  // Interleaved, so a change in the machine's load touches every variant alike.
  for (let round = 0; round < NODE_ROUNDS; round += 1) {
    // Streamed and whole-body take turns in the first place (the one after the last round's back-to-back
    // batches, whose background work may still run), so neither gets that place every time.
    const order = round % 2 === 0 ? (['raw', 'bare', 'whole', 'png', 'raw2'] as const) : (['whole', 'bare', 'raw', 'png', 'raw2'] as const);
    for (const variant of order) {
      await pause();
      if (variant === 'bare') bare.push((await bareScorer.ask<{ wallMs: number }>(String(round))).wallMs);
      else rounds.push({ ...(await client.ask<NodeRound>(variant)), round });
    }
  }
  await client.close();
  await bareScorer.close();
  const skip = 2; // warm-up rounds
  const perImage = (variant: NodeVariant) => rounds.filter((r) => r.variant === variant && r.round >= skip).map((r) => r.wallMs / 4);
  const convertPerImage = rounds.filter((r) => r.variant === 'raw' && r.round >= skip).map((r) => r.convertMs / 4);
  return { raw: perImage('raw'), rawWhole: perImage('whole'), rawBackToBack: perImage('raw2'), png: perImage('png'), bare: bare.slice(skip).map((ms) => ms / 4), convertPerImage };
}

// ── 2. raw vs PNG uploads ──────────────────────────────────────────────────────────────────────
const SIDE = 1024;

const basePixels = async (): Promise<Buffer> => noisyGradient(SIDE);

/**
 * The uploads' prompt names no COCO object: "bench" (as before) is one, so the object detector ran on
 * every upload on both sides (most of the server's CPU per upload), and the comparison measured the detector more than
 * the upload form. BENCH_UPLOAD_PROMPT="a bench" measures that case too.
 */
const UPLOAD_PROMPT = process.env.BENCH_UPLOAD_PROMPT ?? 'a gradient';

function multipart(fields: Record<string, string>, field: string, filename: string, parts: Buffer[]): { pieces: Buffer[]; type: string; length: number } {
  const boundary = `bench${Math.random().toString(16).slice(2)}`;
  const head = Buffer.from(
    Object.entries(fields)
      .map(([key, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${key}"\r\n\r\n${value}\r\n`)
      .join('') + `--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="${filename}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const pieces = [head, ...parts, tail];
  return { pieces, type: `multipart/form-data; boundary=${boundary}`, length: pieces.reduce((sum, piece) => sum + piece.length, 0) };
}

function post(url: string, agent: Agent, body: { pieces: Buffer[]; type: string; length: number }): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(`${url}/v1/score`, { method: 'POST', agent, headers: { 'content-type': body.type, 'content-length': body.length } }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    });
    request.on('error', reject);
    for (const piece of body.pieces) request.write(piece);
    request.end();
  });
}

async function uploads(url: string, variant: 'png' | 'raw', pixels: Buffer, png: Buffer, counter: { n: number }): Promise<{ imagesPerSecond: number; latencies: number[]; errors: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  const latencies: number[] = [];
  let errors = 0;
  let completed = 0;
  const end = Date.now() + DURATION_MS;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (Date.now() < end) {
        const n = (counter.n += 1);
        let body;
        if (variant === 'raw') {
          // A distinct frame: the first pixel carries the request number (one 3-byte piece, no copy of the rest).
          const first = Buffer.from([n & 255, (n >> 8) & 255, (n >> 16) & 255]);
          body = multipart({ width: String(SIDE), height: String(SIDE), channels: '3', prompt: UPLOAD_PROMPT }, 'pixels', `r${n}.raw`, [first, pixels.subarray(3)]);
        } else {
          body = multipart({ prompt: UPLOAD_PROMPT }, 'image', `p${n}.png`, pngWithTextParts(png, String(n)));
        }
        const t0 = performance.now();
        const status = await post(url, agent, body);
        if (status === 200) {
          completed += 1;
          latencies.push(performance.now() - t0);
        } else errors += 1;
      }
    }),
  );
  agent.destroy();
  return { imagesPerSecond: completed / ((performance.now() - started) / 1000), latencies, errors };
}

/** CPU ms (user + system, all threads) the process has used: the cost per image under a shared CPU. */
// ── 3. a burst of bridge images ───────────────────────────────────────────────────────────────
async function bridgeBurst() {
  const home = mkdtempSync(join(tmpdir(), 'agiqa-bench-burst-'));
  let colour = 1;
  const double = new ComfyDouble({
    makeImage: async () => sharp({ create: { width: 256, height: 256, channels: 3, background: { r: colour & 255, g: (colour >> 8) & 255, b: (colour += 97) & 255 } } }).blur(0.5).png().toBuffer(),
  });
  await double.start();
  const config = configSchema.parse({ port: 0, logLevel: 'silent', home, queue: { workers: 2, maxQueue: 6 }, comfyui: [{ url: double.url, feedback: false }] });
  const scorer = await createScorer({ pack: 'lite', workers: 2, maxQueue: 6 });
  const server = await startServer({ config, scorer, logger: pino({ level: 'silent' }), listPacks: async () => [] });
  const bridges = await startComfyBridges({ instances: config.comfyui, pipeline: server.service, store: server.store, logger: { debug() {}, info() {}, warn() {}, error() {} } });
  while (double.connectedClients().length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
  let peakInFlight = 0;
  let peakWaiting = 0;
  const sampler = setInterval(() => {
    const load = server.service.load;
    peakInFlight = Math.max(peakInFlight, load.inFlight);
    peakWaiting = Math.max(peakWaiting, load.waiting);
  }, 2);
  const started = performance.now();
  const prompts = Array.from({ length: 25 }, (_, i) => double.submit(mainGraph(`burst ${i}`, 4), 'browser'));
  for (;;) {
    const handled = await server.store.comfyui.handledPrompts(double.url);
    if (prompts.every((id) => handled.has(id))) break;
    if (performance.now() - started > 300_000) throw new Error('the burst did not finish in 5 minutes');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  const scored = [...metrics.matchAll(/^agiqa_scores_total\{verdict="[a-z]+"\} (\d+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
  const rejections = Number(/^agiqa_queue_rejections_total (\d+)$/m.exec(metrics)?.[1] ?? NaN);
  const outputs = (await Promise.all(prompts.map((id) => server.store.comfyui.ranking(id)))).flat();
  await bridges.stop();
  await server.close();
  await double.stop();
  return { images: 100, scored, stored: outputs.filter((o) => o.generationId !== null).length, lost: 100 - outputs.filter((o) => o.generationId !== null).length, rejections, capacity: server.service.load.capacity, peakInFlight, peakWaiting, seconds };
}

// ── run ───────────────────────────────────────────────────────────────────────────────────────
const home = mkdtempSync(join(tmpdir(), 'agiqa-bench-pipeline-'));
const served = await startServeProcess(home, [], { AGIQA_WORKERS: '2', AGIQA_MAX_QUEUE: '64', AGIQA_LOG_LEVEL: 'warn' });
await waitUntilReady(served);
const node = await nodeBench(served.url);
const pixels = await basePixels();
const png = await pngOf(pixels, SIDE);
const counter = { n: 0 };
await uploads(served.url, 'raw', pixels, png, counter).catch(() => undefined); // warm-up
const upload = { png: [] as number[], raw: [] as number[], pngP50: [] as number[], rawP50: [] as number[], pngCpu: [] as number[], rawCpu: [] as number[], errors: 0 };
const serverPid = servingPid(served.child);
for (let round = 0; round < 3; round += 1) {
  for (const variant of ['png', 'raw'] as const) {
    const cpuBefore = processCpuMs(serverPid);
    const result = await uploads(served.url, variant, pixels, png, counter);
    upload[variant === 'png' ? 'pngCpu' : 'rawCpu'].push((processCpuMs(serverPid) - cpuBefore) / (result.imagesPerSecond * (DURATION_MS / 1000)));
    upload[variant].push(result.imagesPerSecond);
    upload[variant === 'png' ? 'pngP50' : 'rawP50'].push(percentile(result.latencies, 50));
    upload.errors += result.errors;
  }
}
served.child.kill('SIGTERM');
await served.exited;

// ── 2b. pooled image buffers: raw uploads to a server with the pool and to one without ─────────
/** A counter or sum from a /metrics text, summed over its labels. */
function metric(text: string, name: string): number {
  return [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'gm'))].reduce((sum, match) => sum + Number(match[1]), 0);
}
/** The process's peak RSS since the last reset (VmHWM), in MB; reset() starts a new peak. */
const peakRss = {
  reset: (pid: number) => writeFileSync(`/proc/${pid}/clear_refs`, '5'),
  read: (pid: number) => Number(/^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024,
};
const pooling = { pooled: [] as number[], unpooled: [] as number[], pooledCpu: [] as number[], unpooledCpu: [] as number[], pooledAlloc: [] as number[], unpooledAlloc: [] as number[], pooledGc: [] as number[], unpooledGc: [] as number[], pooledRss: [] as number[], unpooledRss: [] as number[] };
{
  const servers = {
    pooled: await startServeProcess(mkdtempSync(join(tmpdir(), 'agiqa-bench-pool-')), [], { AGIQA_WORKERS: '2', AGIQA_MAX_QUEUE: '64', AGIQA_LOG_LEVEL: 'warn' }),
    unpooled: await startServeProcess(mkdtempSync(join(tmpdir(), 'agiqa-bench-nopool-')), [], { AGIQA_WORKERS: '2', AGIQA_MAX_QUEUE: '64', AGIQA_LOG_LEVEL: 'warn', AGIQA_BUFFER_POOL: 'off' }),
  };
  for (const server of Object.values(servers)) {
    await waitUntilReady(server);
    await uploads(server.url, 'raw', pixels, png, counter).catch(() => undefined); // warm-up
  }
  for (let round = 0; round < 3; round += 1) {
    for (const variant of ['pooled', 'unpooled'] as const) {
      const server = servers[variant];
      const pid = servingPid(server.child);
      const before = await (await fetch(`${server.url}/metrics`)).text();
      const cpuBefore = processCpuMs(pid);
      peakRss.reset(pid);
      const result = await uploads(server.url, 'raw', pixels, png, counter);
      const after = await (await fetch(`${server.url}/metrics`)).text();
      const images = metric(after, 'agiqa_scores_total') - metric(before, 'agiqa_scores_total') || result.imagesPerSecond * (DURATION_MS / 1000);
      pooling[variant].push(result.imagesPerSecond);
      pooling[`${variant}Cpu`].push((processCpuMs(pid) - cpuBefore) / images);
      pooling[`${variant}Alloc`].push((metric(after, 'agiqa_image_buffers_allocated_total') - metric(before, 'agiqa_image_buffers_allocated_total')) / images);
      pooling[`${variant}Gc`].push(((metric(after, 'agiqa_nodejs_gc_duration_seconds_sum') - metric(before, 'agiqa_nodejs_gc_duration_seconds_sum')) * 1000) / images);
      pooling[`${variant}Rss`].push(peakRss.read(pid));
    }
  }
  for (const server of Object.values(servers)) {
    server.child.kill('SIGTERM');
    await server.exited;
  }
}
const burst = await bridgeBurst();

const nodeRaw = median(node.raw);
const nodePng = median(node.png);
const nodeBackToBack = median(node.rawBackToBack);
// Each raw round against the bare round next to it: a second view of the ratio that a load swing between rounds cannot bend.
const pairedRatio = median(node.raw.map((ms, i) => ms / node.bare[i]!));
const pairedWholeRatio = median(node.rawWhole.map((ms, i) => ms / node.bare[i]!));
const nodeWhole = median(node.rawWhole);
// Streamed against the whole-body server, each round against its own: the direct effect of scoring frames as they arrive.
const pairedStreamed = median(node.raw.map((ms, i) => ms / node.rawWhole[i]!));
const bare = median(node.bare);
const uploadPng = median(upload.png);
const uploadRaw = median(upload.raw);
const path = await writeResults({
  name: 'pipeline',
  title: 'One pipeline: the ComfyUI Score node, raw-pixel uploads, a bridge burst (lite, 2 workers)',
  notes: [
    `Score node: ${NODE_ROUNDS - 2} rounds after 2 warm-ups, each round five batches interleaved (streamed and whole-body taking turns in first place): the node pack's own Python on a 512² IMAGE batch of 4 (score_images: frames converted one at a time as the body streams out, one POST /v1/rank; the server starts scoring each frame as soon as it has arrived) against \`agiqa serve\`; the same with the frames' file names left out, which the server does not start before the body is complete (the server before streaming); the bare scorer on 4 raw 512² frames (2 workers, as the server, in a process of its own under the malloc setting the server runs with): the server's own scoring cost; the old sender (PNG level 1 per image + base64 JSON); and two node batches back to back, the second timed. Each batch starts ${PAUSE_MS} ms after the previous one ended (a ComfyUI queue samples for seconds between two Score node runs), except the back-to-back one, which follows the first at once. Per image = batch wall ÷ 4; ratio = median node ÷ median bare (paired: median of each node round ÷ the bare round beside it). Python conversion = the Frames conversion of the same batch timed apart; it is part of the added latency.`,
    `Uploads: 4 clients for ${DURATION_MS / 1000} s per variant, three rounds alternating, 1024² (multipart \`image\` PNG ${round2(png.length / 1e6)} MB vs multipart \`pixels\` ${round2(pixels.length / 1e6)} MB raw RGB); every request distinct (no dedupe); prompt "${UPLOAD_PROMPT}"${process.env.BENCH_UPLOAD_PROMPT === undefined ? ", which names no COCO object, so no object detection on either side (the detector's cost is the same for both forms)" : ' (BENCH_UPLOAD_PROMPT: when it names a COCO object, the object detector runs on both sides)'}.`,
    `Pooled buffers: two servers, one with AGIQA_BUFFER_POOL=off, raw 1024² uploads at 4 clients for ${DURATION_MS / 1000} s each, three rounds alternating; allocations = agiqa_image_buffers_allocated_total per image scored (buffers of 256 KiB and up read on the main thread), GC = agiqa_nodejs_gc_duration_seconds (main thread), peak RSS = VmHWM of the server process during its round (reset before it).`,
    `Burst: 25 ComfyUI prompts × 4 outputs (256² PNG) queued at once on a ComfyUI double; the server's admission capacity is ${burst.capacity} (queue.maxQueue 6 + 2 workers), so bridge batches wait in line; counted from /metrics.`,
    `A 2-core machine shared with other work (1-minute load average ${loadavg()[0]!.toFixed(1)} at the end of this run): compare the ratios, not the absolute figures. Server CPU ms per image is less sensitive to that than images/s (a busy machine gives the server a varying share of the cores).`,
  ],
  table: {
    columns: ['measure', 'value', 'baseline', 'ratio', 'target'],
    rows: [
      ['Score node, raw frames: ms per image (p50)', round2(nodeRaw), `bare scorer ${round2(bare)}`, `${round2(nodeRaw / bare)} (paired ${round2(pairedRatio)})`, '≤ 1.3×'],
      ['Score node, raw frames, server waiting for the whole body (before): ms per image (p50)', round2(nodeWhole), `bare scorer ${round2(bare)}`, `${round2(nodeWhole / bare)} (paired ${round2(pairedWholeRatio)})`, 'reported'],
      ['  streamed ÷ whole body, paired (p50)', round2(pairedStreamed), '', '', 'reported'],
      ['Score node, raw frames, two batches back to back: ms per image (p50)', round2(nodeBackToBack), `bare scorer ${round2(bare)}`, round2(nodeBackToBack / bare), 'reported'],
      ['Score node, PNG + base64 (before): ms per image (p50)', round2(nodePng), `bare scorer ${round2(bare)}`, round2(nodePng / bare), 'was ~2–3×'],
      ['Score node added latency per image, raw (p50 ms)', round2(nodeRaw - bare), '', '', 'reported'],
      ['  of which Python uint8 conversion per image (p50 ms)', round2(median(node.convertPerImage)), '', '', ''],
      ['POST /v1/score 1024², 4 clients: raw-pixel uploads (images/s)', round2(uploadRaw), `PNG uploads ${round2(uploadPng)}`, round2(uploadRaw / uploadPng), '≥ 1.3×'],
      ['  p50 latency raw / PNG (ms)', round2(median(upload.rawP50)), round2(median(upload.pngP50)), '', ''],
      ['  server CPU ms per image raw / PNG', round2(median(upload.rawCpu)), round2(median(upload.pngCpu)), round2(median(upload.pngCpu) / median(upload.rawCpu)), ''],
      ['Raw uploads 1024², 4 clients, pooled image buffers: images/s', round2(median(pooling.pooled)), `pool off ${round2(median(pooling.unpooled))}`, round2(median(pooling.pooled) / median(pooling.unpooled)), 'reported'],
      ['  image buffers allocated per image, pooled / pool off', round2(median(pooling.pooledAlloc)), round2(median(pooling.unpooledAlloc)), '', 'fewer'],
      ['  main-thread GC ms per image, pooled / pool off', round2(median(pooling.pooledGc)), round2(median(pooling.unpooledGc)), '', ''],
      ['  server CPU ms per image, pooled / pool off', round2(median(pooling.pooledCpu)), round2(median(pooling.unpooledCpu)), round2(median(pooling.unpooledCpu) / median(pooling.pooledCpu)), ''],
      ['  server peak RSS MB, pooled / pool off', Math.round(median(pooling.pooledRss)), Math.round(median(pooling.unpooledRss)), '', ''],
      ['Bridge burst: images scored (/metrics agiqa_scores_total)', burst.scored, `of ${burst.images}`, '', 'all'],
      ['Bridge burst: lost / queue rejections', `${burst.lost} / ${burst.rejections}`, '', '', '0 / 0'],
      ['Bridge burst: peak admitted (capacity) / peak batches waiting', `${burst.peakInFlight} (${burst.capacity}) / ${burst.peakWaiting}`, '', '', '≤ capacity'],
      ['Bridge burst: seconds for 100 images', round2(burst.seconds), '', '', ''],
    ],
  },
  raw: { node, upload, pooling, burst },
});
process.stdout.write(`wrote ${path}\n`);
