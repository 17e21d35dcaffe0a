// Shared setup of the bridge tests: a ComfyUI double making tiny PNGs, a temporary store, the
// text-chunk scorer, a log recorder, and graphs taken from the recorded captures.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ComfyBridge, type ComfyBridgeOptions } from '../../../src/bridges/comfyui/index.js';
import { ScoringPipeline } from '../../../src/pipeline/index.js';
import type { Policy } from '../../../src/policy/index.js';
import type { BridgeLogger, LogFields } from '../../../src/bridges/comfyui/logger.js';
import type { StoredEvent } from '../../../src/store/index.js';
import { Store } from '../../../src/store/index.js';
import { ComfyDouble, type ImageRequest } from './comfyui-double.js';
import { pngWithText, TextChunkScorer } from './test-images.js';

export type Graph = Record<string, { class_type: string; inputs: Record<string, unknown> }>;

const historyMain = JSON.parse(readFileSync(new URL('../../fixtures/comfyui/history-main.json', import.meta.url), 'utf8')) as Record<string, { prompt: [number, string, Graph] }>;
const historyError = JSON.parse(readFileSync(new URL('../../fixtures/comfyui/history-runtime-error.json', import.meta.url), 'utf8')) as Record<string, { prompt: [number, string, Graph] }>;

/** The recorded "main" workflow (EmptyImage → SaveImage + PreviewImage, two CLIPTextEncode), with its own text. */
export function mainGraph(text = 'a photo of a cat wearing a space helmet, 4k', batch = 1): Graph {
  const graph = structuredClone(Object.values(historyMain)[0]!.prompt[2]);
  graph['2']!.inputs.value = text;
  graph['6']!.inputs.text = text;
  graph['1']!.inputs.batch_size = batch;
  return graph;
}

/** The recorded runtime-error workflow (SaveImage with a prefix outside the output folder). */
export function errorGraph(): Graph {
  return structuredClone(Object.values(historyError)[0]!.prompt[2]);
}

/** A text-to-image graph with a KSampler seed, for regeneration. */
export function samplerGraph(seed: number, text = 'a red fox in snow', batch = 1): Graph {
  return {
    '3': { class_type: 'KSampler', inputs: { seed, steps: 20, cfg: 7, sampler_name: 'euler', scheduler: 'normal', denoise: 1, model: ['4', 0], positive: ['6', 0], negative: ['7', 0], latent_image: ['5', 0] } },
    '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'model.safetensors' } },
    '5': { class_type: 'EmptyLatentImage', inputs: { width: 512, height: 512, batch_size: batch } },
    '6': { class_type: 'CLIPTextEncode', inputs: { text, clip: ['4', 1] } },
    '7': { class_type: 'CLIPTextEncode', inputs: { text: 'blurry', clip: ['4', 1] } },
    '8': { class_type: 'VAEDecode', inputs: { samples: ['3', 0], vae: ['4', 2] } },
    '9': { class_type: 'SaveImage', inputs: { filename_prefix: 'fox', images: ['8', 0] } },
  };
}

export class LogRecorder implements BridgeLogger {
  readonly entries: { level: string; fields: LogFields; message: string }[] = [];
  debug(fields: LogFields, message: string) {
    this.entries.push({ level: 'debug', fields, message });
  }
  info(fields: LogFields, message: string) {
    this.entries.push({ level: 'info', fields, message });
  }
  warn(fields: LogFields, message: string) {
    this.entries.push({ level: 'warn', fields, message });
  }
  error(fields: LogFields, message: string) {
    this.entries.push({ level: 'error', fields, message });
  }
  find(text: string) {
    return this.entries.filter((entry) => entry.message.includes(text));
  }
}

/** Polls `predicate` until it holds; fails after `timeoutMs` (generous: never a timing assertion). */
export async function waitFor(predicate: () => boolean | Promise<boolean>, what: string, timeoutMs = 8_000): Promise<void> {
  const started = Date.now();
  while (!(await predicate())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export interface Harness {
  double: ComfyDouble;
  store: Store;
  scorer: TextChunkScorer;
  logs: LogRecorder;
  events: StoredEvent[];
  home: string;
  /** Makes (and starts) a bridge on the double with test defaults, scoring through a pipeline of its own. */
  bridge(options?: Partial<ComfyBridgeOptions> & BridgePipelineOptions): Promise<ComfyBridge>;
  /** A pipeline on the harness's scorer and store (what `agiqa serve` shares between routes and bridges). */
  pipeline(options?: BridgePipelineOptions): ScoringPipeline;
  close(): Promise<void>;
}

export interface BridgePipelineOptions {
  policy?: Policy;
  /** Images admitted at once (default 64). */
  capacity?: number;
}

export interface HarnessOptions {
  /** MOS written into each image (read back by the test scorer); default 3.5. */
  mos?: (request: ImageRequest) => number;
  /** Bytes to serve instead of a PNG (decode failures). */
  override?: (request: ImageRequest) => Uint8Array | null;
  /** Called with every image made (e.g. to write it into an output folder). */
  onImage?: (request: ImageRequest, bytes: Uint8Array) => void;
  verdictRoute?: boolean;
  startDouble?: boolean;
  scorerDelayMs?: number;
}

export async function harness(options: HarnessOptions = {}): Promise<Harness> {
  let colour = 0;
  const double = new ComfyDouble({
    verdictRoute: options.verdictRoute,
    makeImage: async (request) => {
      const override = options.override?.(request) ?? null;
      const bytes = override ?? (await pngWithText((colour += 7919), { prompt: JSON.stringify(request.graph), mos: String(options.mos?.(request) ?? 3.5) }));
      options.onImage?.(request, bytes);
      return bytes;
    },
  });
  if (options.startDouble !== false) await double.start();
  const home = mkdtempSync(join(tmpdir(), 'agiqa-comfy-'));
  const store = await Store.open(join(home, 'agiqa.db'));
  const scorer = new TextChunkScorer(options.scorerDelayMs);
  const logs = new LogRecorder();
  const events: StoredEvent[] = [];
  const bridges: ComfyBridge[] = [];
  const pipeline = ({ policy, capacity }: BridgePipelineOptions = {}) =>
    new ScoringPipeline({
      scorer,
      store,
      policy: policy ?? { thresholds: { overall: 2.5 }, maxRegenerations: 3 },
      capacity: capacity ?? 64,
      timeoutMs: 30_000,
      limits: { maxBytes: 50 * 1024 * 1024, maxPixels: 40_000_000 },
      publish: (stored) => events.push(...stored),
    });
  return {
    double,
    store,
    scorer,
    logs,
    events,
    home,
    pipeline,
    async bridge({ policy, capacity, ...extra } = {}) {
      const scoring = pipeline({ policy, capacity });
      // The scorer is ready at once; the pipeline learns it on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
      const bridge = new ComfyBridge({
        url: double.url,
        pipeline: scoring,
        store,
        logger: logs,
        reconnect: { initialMs: 10, maxMs: 40 },
        ...extra,
      });
      bridges.push(bridge);
      await bridge.start();
      return bridge;
    },
    async close() {
      for (const bridge of bridges) await bridge.stop();
      await double.stop();
      store.close();
    },
  };
}
