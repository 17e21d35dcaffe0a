// The object detector of packs that carry one (models.detector): a CenterNet over COCO's 80 classes
// that takes the picture stretched to a square (RGB 0–255, as the tfjs original was fed, NHWC or planar; the side is the
// one the graph declares for its input, e.g. 512 or 384) and gives its 100 strongest heat-map peaks as boxes. Here they are thresholded, de-duplicated (NMS) and mapped
// back to the picture's pixels; which class is which is the caller's table (COCO order).
import { agiqaError } from '../errors/index.js';
import type { RgbImage } from './lite-crops.js';
import { OnnxModel } from './onnx-session.js';
import type { LoadedPack } from './packs.js';

/** The size the published CenterNet was trained at; a pack's graph may take another (read from its input). */
export const DETECTOR_INPUT_SIZE = 512;
/**
 * onnxruntime intra-op threads for a scoring worker's detector: the worker's own when it is the only one
 * (one image at a time, so latency counts: a second thread cut the detector's wall time 11 % on an idle
 * 2-core machine), one when several workers score side by side (throughput counts: that second thread
 * cost +22 % CPU, taken from the other workers' images). docs/object-checks.md, "Speed".
 */
export function detectorThreads(workers: number, threadsPerWorker: number): number {
  return workers > 1 ? 1 : threadsPerWorker;
}
const PEAKS = 100;
// The heat map's cell is STRIDE input pixels on a side (CenterNet's output stride).
const STRIDE = 4;
// Below this nothing is reported at all; the checks apply their own, higher, thresholds.
const MIN_SCORE = 0.15;
// Same class, overlapping this much: one object seen twice (CenterNet peaks come in pairs on big objects).
const SAME_CLASS_IOU = 0.5;
// Any class, overlapping this much: one object under two names; the weaker name goes.
const CROSS_CLASS_IOU = 0.8;

export interface Detection {
  /** 0-based COCO-80 index. */
  classIndex: number;
  score: number;
  /** Box in the picture's pixels. */
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

/**
 * Where value c of output pixel p goes: p × pixel + c × channel. NHWC (the tfjs graph's layout) is
 * pixel 3, channel 1; planar NCHW (the shipped int8 file's: its first convolution reads planes, and the
 * layout transpose onnxruntime ran on every picture is gone) is pixel 1, channel size².
 */
interface Layout {
  pixel: number;
  channel: number;
}

/**
 * The picture stretched to `size`² by area averaging (downscale) or bilinear sampling (upscale), float
 * 0–255, NHWC or planar (NCHW), written into `into` when given (every value is written).
 */
export function detectorInput(image: RgbImage, size = DETECTOR_INPUT_SIZE, planar = false, into?: Float32Array): Float32Array {
  const layout = planar ? { pixel: 1, channel: size * size } : { pixel: 3, channel: 1 };
  const out = into?.length === size * size * 3 ? into : new Float32Array(size * size * 3);
  if (image.width <= size && image.height <= size) return bilinear(image, size, layout, out);
  return image.width === 2 * size && image.height === 2 * size ? halve(image, size, layout, out) : areaAverage(image, size, layout, out);
}

// Exactly twice the side (1024² pictures for the 512² graph, the commonest case): the 2×2 means without
// span bookkeeping, half the time of areaAverage and the same values.
function halve(image: RgbImage, size: number, { pixel, channel }: Layout, out: Float32Array): Float32Array {
  const { rgb, width } = image;
  const stride = width * 3;
  const channel2 = 2 * channel;
  for (let y = 0; y < size; y++) {
    let a = 2 * y * stride;
    let b = a + stride;
    let o = y * size * pixel;
    for (let x = 0; x < size; x++, a += 6, b += 6, o += pixel) {
      out[o] = (rgb[a]! + rgb[a + 3]! + rgb[b]! + rgb[b + 3]!) / 4;
      out[o + channel] = (rgb[a + 1]! + rgb[a + 4]! + rgb[b + 1]! + rgb[b + 4]!) / 4;
      out[o + channel2] = (rgb[a + 2]! + rgb[a + 5]! + rgb[b + 2]! + rgb[b + 5]!) / 4;
    }
  }
  return out;
}

/** The source pixels [start, end) output pixel i of `size` covers along a side of `length` (whole pixels, enough at these ratios). */
function spans(length: number, size: number): { start: Int32Array; end: Int32Array } {
  const start = new Int32Array(size);
  const end = new Int32Array(size);
  const step = length / size;
  for (let i = 0; i < size; i++) {
    start[i] = Math.floor(i * step);
    end[i] = Math.max(start[i]! + 1, Math.min(length, Math.ceil((i + 1) * step)));
  }
  return { start, end };
}

// Downscale: the mean over the source pixels each output pixel covers, row by row into integer sums with
// the column spans worked out once.
function areaAverage(image: RgbImage, size: number, { pixel, channel }: Layout, out: Float32Array): Float32Array {
  const { rgb, width, height } = image;
  const cols = spans(width, size);
  const rows = spans(height, size);
  const sums = new Uint32Array(size * 3);
  for (let y = 0; y < size; y++) {
    sums.fill(0);
    const ya = rows.start[y]!;
    const yb = rows.end[y]!;
    for (let yy = ya; yy < yb; yy++) {
      const row = yy * width * 3;
      for (let x = 0, s = 0; x < size; x++, s += 3) {
        let r = 0;
        let g = 0;
        let b = 0;
        for (let p = row + cols.start[x]! * 3, e = row + cols.end[x]! * 3; p < e; p += 3) {
          r += rgb[p]!;
          g += rgb[p + 1]!;
          b += rgb[p + 2]!;
        }
        sums[s] = sums[s]! + r;
        sums[s + 1] = sums[s + 1]! + g;
        sums[s + 2] = sums[s + 2]! + b;
      }
    }
    for (let x = 0, s = 0, o = y * size * pixel; x < size; x++, s += 3, o += pixel) {
      const n = (yb - ya) * (cols.end[x]! - cols.start[x]!);
      out[o] = sums[s]! / n;
      out[o + channel] = sums[s + 1]! / n;
      out[o + 2 * channel] = sums[s + 2]! / n;
    }
  }
  return out;
}

// Upscale (neither side longer than `size`): bilinear at the pixel centre.
function bilinear(image: RgbImage, size: number, { pixel, channel }: Layout, out: Float32Array): Float32Array {
  const { rgb, width, height } = image;
  const sx = width / size;
  const sy = height / size;
  for (let y = 0; y < size; y++) {
    const fy = Math.min(height - 1, Math.max(0, (y + 0.5) * sy - 0.5));
    const iy = Math.floor(fy);
    const iy1 = Math.min(height - 1, iy + 1);
    const ty = fy - iy;
    for (let x = 0; x < size; x++) {
      const fx = Math.min(width - 1, Math.max(0, (x + 0.5) * sx - 0.5));
      const ix = Math.floor(fx);
      const ix1 = Math.min(width - 1, ix + 1);
      const tx = fx - ix;
      const o = (y * size + x) * pixel;
      for (let c = 0; c < 3; c++) {
        const a = rgb[(iy * width + ix) * 3 + c]!;
        const b = rgb[(iy * width + ix1) * 3 + c]!;
        const d = rgb[(iy1 * width + ix) * 3 + c]!;
        const e = rgb[(iy1 * width + ix1) * 3 + c]!;
        out[o + c * channel] = (a + (b - a) * tx) * (1 - ty) + (d + (e - d) * tx) * ty;
      }
    }
  }
  return out;
}

export function iou(a: Detection, b: Detection): number {
  const w = Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1);
  const h = Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  const area = (d: Detection) => (d.x2 - d.x1) * (d.y2 - d.y1);
  return inter / (area(a) + area(b) - inter);
}

/**
 * Boxes from the graph's `detections` [100,6] (x1 y1 x2 y2 in input pixels, score, class): above
 * MIN_SCORE, greedy NMS (per class, then across classes), scaled to `width`×`height` and clamped.
 */
export function decodeDetections(raw: Float32Array, width: number, height: number, inputSize = DETECTOR_INPUT_SIZE): Detection[] {
  const candidates: Detection[] = [];
  for (let i = 0; i < Math.min(PEAKS, raw.length / 6); i++) {
    const score = raw[i * 6 + 4]!;
    const classIndex = raw[i * 6 + 5]!;
    if (!(score >= MIN_SCORE) || !Number.isInteger(classIndex) || classIndex < 0 || classIndex >= 80) continue;
    const clampX = (v: number) => Math.min(width, Math.max(0, (v / inputSize) * width));
    const clampY = (v: number) => Math.min(height, Math.max(0, (v / inputSize) * height));
    const d = { classIndex, score, x1: clampX(raw[i * 6]!), y1: clampY(raw[i * 6 + 1]!), x2: clampX(raw[i * 6 + 2]!), y2: clampY(raw[i * 6 + 3]!) };
    if (d.x2 - d.x1 >= 1 && d.y2 - d.y1 >= 1) candidates.push(d);
  }
  candidates.sort((a, b) => b.score - a.score);
  const kept: Detection[] = [];
  for (const d of candidates) {
    const duplicate = kept.some((k) => iou(k, d) > (k.classIndex === d.classIndex ? SAME_CLASS_IOU : CROSS_CLASS_IOU));
    if (!duplicate) kept.push(d);
  }
  return kept;
}

/** A quantized graph's raw heads (tools/tfjs-to-onnx/quantize_detector.py `raw_heads`), side² cells. */
export interface RawHeads {
  /** Class logits as uint8, [cells, classes] (NHWC); logit = (q − zeroPoint) × scale. */
  heatmap: Uint8Array;
  /** Each cell's largest `heatmap` value. */
  cellMax: Uint8Array;
  /** [cells, 4]: left, top, right and bottom distances in input pixels from the cell's point. */
  extents: Float32Array;
  scale: number;
  zeroPoint: number;
  side: number;
}

/**
 * The graph's 100 strongest heat-map peaks as `detections` rows (x1 y1 x2 y2 in input pixels, score,
 * class), computed as the tfjs graph's own tail did (sigmoid, 3×3 max-pool peaks, TopK 100, box gather)
 * but only over the cells whose strongest class reaches MIN_SCORE: in onnxruntime that tail cost 4 ms of
 * passes over all 1.3 M heat-map values a picture. A peak is a value no neighbour in its class exceeds
 * (ties are all peaks, as the max-pool equality made them); peaks rank by score, then by position in the
 * map (TopK's order).
 */
export function peakDetections(heads: RawHeads): Float32Array {
  const { heatmap, cellMax, extents, side } = heads;
  const cells = side * side;
  const classes = heatmap.length / cells;
  // Score of each uint8 logit, dequantized in float32 as onnxruntime does.
  const score = new Float32Array(256);
  for (let q = 0; q < 256; q++) score[q] = 1 / (1 + Math.exp(-Math.fround((q - heads.zeroPoint) * Math.fround(heads.scale))));
  const found: number[] = [];
  for (let cell = 0; cell < cells; cell++) {
    if (!(score[cellMax[cell]!]! >= MIN_SCORE)) continue;
    const x = cell % side;
    const y = (cell - x) / side;
    for (let c = 0, i = cell * classes; c < classes; c++, i++) {
      if (score[heatmap[i]!]! >= MIN_SCORE && isPeak(heatmap, heatmap[i]!, x, y, c, side, classes)) found.push(i);
    }
  }
  found.sort((a, b) => heatmap[b]! - heatmap[a]! || a - b);
  const rows = Math.min(PEAKS, found.length);
  const out = new Float32Array(rows * 6);
  for (let k = 0; k < rows; k++) {
    const i = found[k]!;
    const cell = Math.floor(i / classes);
    const x = (cell % side) * STRIDE;
    const y = Math.floor(cell / side) * STRIDE;
    const e = cell * 4;
    out.set([x - extents[e]!, y - extents[e + 1]!, x + extents[e + 2]!, y + extents[e + 3]!, score[heatmap[i]!]!, i % classes], k * 6);
  }
  return out;
}

function isPeak(heatmap: Uint8Array, v: number, x: number, y: number, c: number, side: number, classes: number): boolean {
  for (let yy = Math.max(0, y - 1); yy <= Math.min(side - 1, y + 1); yy++) {
    for (let xx = Math.max(0, x - 1); xx <= Math.min(side - 1, x + 1); xx++) {
      if (heatmap[(yy * side + xx) * classes + c]! > v) return false;
    }
  }
  return true;
}

/**
 * The square picture `model` takes: its input `images` is [1, S, S, 3] (NHWC, the converted tfjs graph)
 * or [1, 3, S, S] (planar, the shipped int8 file) with S fixed. Throws AGQ_ERR_MODEL_INPUT for any other
 * declared shape (a graph the detector cannot feed).
 */
export function detectorInputShape(model: Pick<OnnxModel, 'inputShape' | 'label'>): { size: number; planar: boolean } {
  const shape = model.inputShape('images');
  const [n, a, b, c] = shape ?? [];
  const planar = a === 3 && b === c;
  const size = planar ? b! : a!;
  if (shape?.length !== 4 || n !== 1 || !(planar || (c === 3 && a === b)) || !(size >= 32)) {
    throw agiqaError('AGQ_ERR_MODEL_INPUT', { model: model.label, detail: `images is [${shape ?? ''}]; a detector takes [1,S,S,3] or [1,3,S,S] with a fixed S` });
  }
  return { size, planar };
}

const RAW_HEAD_OUTPUTS = { heatmap: 'uint8', cell_max: 'uint8', extents: 'float32', heatmap_scale: 'float32', heatmap_zero_point: 'uint8' } as const;

export class ObjectDetector {
  private constructor(
    private readonly model: OnnxModel,
    /** The side of the square the picture is stretched to, as the graph declares it. */
    readonly inputSize: number,
    /** The graph takes the picture as planes (NCHW) rather than NHWC. */
    private readonly planar: boolean,
    /** The graph ends at its heads (the shipped int8 file) rather than at tfjs' `detections` (the conversion). */
    private readonly rawHeads: boolean,
    /** onnxruntime intra-op threads of its session. */
    readonly threads: number,
  ) {}

  /**
   * The input buffer of the last run, written over by the next: a fresh 3 MB array a picture cost more
   * CPU (zeroing, page faults, collection) than the 2×2 means written into it (3.5 against 1.7 ms). A run
   * takes it while it runs, so a concurrent one allocates its own.
   */
  private spare: Float32Array | undefined;

  /** The pack's detector, or null when the pack has none. Throws AGQ_ERR_PACK_FILE_MISSING / AGQ_ERR_MODEL_LOAD. */
  static async load(pack: LoadedPack, threads: number): Promise<ObjectDetector | null> {
    const role = pack.manifest.models.detector;
    if (role === undefined) return null;
    const path = pack.files.get(role.file);
    if (path === undefined) throw agiqaError('AGQ_ERR_PACK_FILE_MISSING', { pack: pack.manifest.name, file: role.file });
    const model = await OnnxModel.load(path, { threads, label: `${pack.manifest.name}/${role.file}`, pack: pack.manifest.name, file: role.file });
    try {
      model.assertInputs(['images']);
      const rawHeads = Object.keys(RAW_HEAD_OUTPUTS).every((name) => model.outputNames.includes(name));
      if (!rawHeads && !model.outputNames.includes('detections')) {
        throw agiqaError('AGQ_ERR_MODEL_INPUT', { model: model.label, detail: `outputs ${model.outputNames.join(', ')}; a detector gives detections or ${Object.keys(RAW_HEAD_OUTPUTS).join(', ')}` });
      }
      const { size, planar } = detectorInputShape(model);
      return new ObjectDetector(model, size, planar, rawHeads, threads);
    } catch (err) {
      await model.close();
      throw err;
    }
  }

  async detect(image: RgbImage): Promise<Detection[]> {
    const size = this.inputSize;
    const dims = this.planar ? [1, 3, size, size] : [1, size, size, 3];
    const data = detectorInput(image, size, this.planar, this.spare);
    this.spare = undefined;
    try {
      return await this.run(image, { images: { data, dims } });
    } finally {
      this.spare = data;
    }
  }

  private async run(image: RgbImage, inputs: Record<string, { data: Float32Array; dims: number[] }>): Promise<Detection[]> {
    const size = this.inputSize;
    if (!this.rawHeads) {
      const out = await this.model.run(inputs, ['detections']);
      return decodeDetections(out.detections!.data, image.width, image.height, size);
    }
    const out = await this.model.runMixed(inputs, RAW_HEAD_OUTPUTS);
    const heads = { heatmap: out.heatmap.data, cellMax: out.cell_max.data, extents: out.extents.data, scale: out.heatmap_scale.data[0]!, zeroPoint: out.heatmap_zero_point.data[0]!, side: size / STRIDE };
    return decodeDetections(peakDetections(heads), image.width, image.height, size);
  }

  async close(): Promise<void> {
    await this.model.close();
  }
}
