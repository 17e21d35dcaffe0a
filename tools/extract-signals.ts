// Extracts the classical signal features of many images for the training recipe:
//   npx tsx tools/extract-signals.ts --list <paths.txt> --out <prefix> [--workers 2]
// writes <prefix>.f32 (row-major float32 little-endian, N × F), <prefix>.json
// ({ names, version, count, files, failed }) and <prefix>.measures.json (the named measures behind
// findings, one object per kept file, same order; the findings calibration reads them).
// Decoding and signals run in worker threads.
import { readFileSync, writeFileSync } from 'node:fs';
import { endianness } from 'node:os';
import { resolve } from 'node:path';
import { isMainThread, parentPort, Worker } from 'node:worker_threads';
import sharp from 'sharp';
import { computeSignals, SIGNAL_FEATURE_NAMES, SIGNALS_VERSION, type SignalMeasures } from '../src/signals/index.js';

interface Job {
  index: number;
  file: string;
}
type Reply = { index: number; features: Float32Array; measures: SignalMeasures } | { index: number; error: string };

/** Decodes like the training recipe expects: EXIF-rotated, alpha flattened on white, 8-bit sRGB. */
async function decodeRgb(file: string): Promise<{ rgb: Uint8Array; width: number; height: number }> {
  const { data, info } = await sharp(file)
    .rotate()
    .flatten({ background: '#ffffff' })
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  const { width, height, channels } = info;
  if (channels === 3) return { rgb: new Uint8Array(data.buffer, data.byteOffset, data.length), width, height };
  // Grey (1) or grey+alpha (2) slips through on some inputs: expand to RGB, dropping alpha.
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    const s = i * channels;
    const grey = channels < 3;
    rgb[3 * i] = data[s]!;
    rgb[3 * i + 1] = data[grey ? s : s + 1]!;
    rgb[3 * i + 2] = data[grey ? s : s + 2]!;
  }
  return { rgb, width, height };
}

function runWorker(): void {
  sharp.concurrency(1); // one libvips thread per worker: the workers already use every core
  sharp.cache(false);
  parentPort!.on('message', (job: Job) => {
    decodeRgb(job.file)
      .then((image) => {
        const { features, measures } = computeSignals(image);
        parentPort!.postMessage({ index: job.index, features, measures } satisfies Reply, [features.buffer as ArrayBuffer]);
      })
      .catch((e: unknown) => {
        parentPort!.postMessage({ index: job.index, error: e instanceof Error ? e.message : String(e) } satisfies Reply);
      });
  });
}

function parseArgs(argv: string[]): { list: string; out: string; workers: number } {
  const get = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const list = get('--list');
  const out = get('--out');
  const workers = Number(get('--workers') ?? 2);
  if (!list || !out || !Number.isInteger(workers) || workers < 1) {
    console.error('usage: npx tsx tools/extract-signals.ts --list <file with one image path per line> --out <prefix> [--workers 2]');
    process.exit(2);
  }
  return { list, out, workers };
}

// Under tsx the worker must register tsx's loader before importing this TypeScript file.
function spawn(): Worker {
  const self = new URL(import.meta.url);
  const bootstrap = `import('tsx/esm/api').then((api) => { api.register(); return import(${JSON.stringify(self.href)}); })`;
  return self.pathname.endsWith('.ts') ? new Worker(bootstrap, { eval: true }) : new Worker(self);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const files = readFileSync(args.list, 'utf8')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  const width = SIGNAL_FEATURE_NAMES.length;
  const rows: (Float32Array | undefined)[] = new Array(files.length);
  const measures: (SignalMeasures | undefined)[] = new Array(files.length);
  const failed: { file: string; error: string }[] = [];
  const started = Date.now();
  let next = 0;
  let done = 0;
  await new Promise<void>((finish, fail) => {
    if (files.length === 0) return finish();
    const workers = Array.from({ length: Math.min(args.workers, files.length) }, spawn);
    let live = workers.length;
    const feed = (w: Worker): void => {
      if (next < files.length) {
        const index = next++;
        w.postMessage({ index, file: resolve(files[index]!) } satisfies Job);
      } else {
        void w.terminate();
        if (--live === 0) finish();
      }
    };
    for (const w of workers) {
      w.on('message', (r: Reply) => {
        if ('features' in r) {
          rows[r.index] = r.features;
          measures[r.index] = r.measures;
        }
        else failed.push({ file: files[r.index]!, error: r.error });
        done++;
        if (done % 500 === 0 || done === files.length) {
          const s = (Date.now() - started) / 1000;
          console.log(`${done}/${files.length} images, ${(done / s).toFixed(1)} img/s, ${failed.length} failed`);
        }
        feed(w);
      });
      w.on('error', fail);
      feed(w);
    }
  });
  const kept: string[] = [];
  const keptMeasures: SignalMeasures[] = [];
  const matrix = new Float32Array(files.length * width);
  let n = 0;
  for (let i = 0; i < files.length; i++) {
    const row = rows[i];
    if (!row) continue;
    matrix.set(row, n * width);
    kept.push(files[i]!);
    keptMeasures.push(measures[i]!);
    n++;
  }
  const bytes = Buffer.alloc(n * width * 4);
  if (endianness() === 'LE') Buffer.from(matrix.buffer, 0, n * width * 4).copy(bytes);
  else for (let i = 0; i < n * width; i++) bytes.writeFloatLE(matrix[i]!, 4 * i);
  writeFileSync(`${args.out}.f32`, bytes);
  writeFileSync(
    `${args.out}.json`,
    JSON.stringify({ names: SIGNAL_FEATURE_NAMES, version: SIGNALS_VERSION, count: n, files: kept, failed }, null, 1),
  );
  writeFileSync(`${args.out}.measures.json`, JSON.stringify(keptMeasures));
  console.log(`wrote ${args.out}.f32 (${n} × ${width}) and ${args.out}.json in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

if (isMainThread) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
} else {
  runWorker();
}
