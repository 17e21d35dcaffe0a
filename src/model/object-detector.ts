// The object detector of packs that carry one (models.detector): a CenterNet over COCO's 80 classes
// that takes the picture stretched to a square (RGB 0–255, as the tfjs original was fed; the side is the
// one the graph declares for its input, e.g. 512 or 384) and gives its 100 strongest heat-map peaks as boxes. Here they are thresholded, de-duplicated (NMS) and mapped
// back to the picture's pixels; which class is which is the caller's table (COCO order).
import { agiqaError } from '../errors/index.js';
import type { RgbImage } from './lite-crops.js';
import { OnnxModel } from './onnx-session.js';
import type { LoadedPack } from './packs.js';

/** The size the published CenterNet was trained at; a pack's graph may take another (read from its input). */
export const DETECTOR_INPUT_SIZE = 512;
const PEAKS = 100;
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

/** The picture stretched to `size`² by area averaging (downscale) or bilinear sampling (upscale), as NHWC float 0–255. */
export function detectorInput(image: RgbImage, size = DETECTOR_INPUT_SIZE): Float32Array {
  const { rgb, width, height } = image;
  const out = new Float32Array(size * size * 3);
  const sx = width / size;
  const sy = height / size;
  for (let y = 0; y < size; y++) {
    const y0 = y * sy;
    const y1 = (y + 1) * sy;
    for (let x = 0; x < size; x++) {
      const x0 = x * sx;
      const x1 = (x + 1) * sx;
      const o = (y * size + x) * 3;
      if (sx <= 1 && sy <= 1) {
        // Upscale: bilinear at the pixel centre.
        const fy = Math.min(height - 1, Math.max(0, (y + 0.5) * sy - 0.5));
        const fx = Math.min(width - 1, Math.max(0, (x + 0.5) * sx - 0.5));
        const iy = Math.floor(fy);
        const ix = Math.floor(fx);
        const iy1 = Math.min(height - 1, iy + 1);
        const ix1 = Math.min(width - 1, ix + 1);
        const ty = fy - iy;
        const tx = fx - ix;
        for (let c = 0; c < 3; c++) {
          const a = rgb[(iy * width + ix) * 3 + c]!;
          const b = rgb[(iy * width + ix1) * 3 + c]!;
          const d = rgb[(iy1 * width + ix) * 3 + c]!;
          const e = rgb[(iy1 * width + ix1) * 3 + c]!;
          out[o + c] = (a + (b - a) * tx) * (1 - ty) + (d + (e - d) * tx) * ty;
        }
        continue;
      }
      // Downscale: the mean over the source pixels the output pixel covers (whole pixels, enough at these ratios).
      const ya = Math.floor(y0);
      const yb = Math.max(ya + 1, Math.min(height, Math.ceil(y1)));
      const xa = Math.floor(x0);
      const xb = Math.max(xa + 1, Math.min(width, Math.ceil(x1)));
      let r = 0;
      let g = 0;
      let b = 0;
      for (let yy = ya; yy < yb; yy++) {
        let p = (yy * width + xa) * 3;
        for (let xx = xa; xx < xb; xx++, p += 3) {
          r += rgb[p]!;
          g += rgb[p + 1]!;
          b += rgb[p + 2]!;
        }
      }
      const n = (yb - ya) * (xb - xa);
      out[o] = r / n;
      out[o + 1] = g / n;
      out[o + 2] = b / n;
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

/**
 * The side of the square picture `model` takes: its input `images` is [1, S, S, 3] (NHWC) with S fixed.
 * Throws AGQ_ERR_MODEL_INPUT for any other declared shape (a graph the detector cannot feed).
 */
export function detectorInputSize(model: Pick<OnnxModel, 'inputShape' | 'label'>): number {
  const shape = model.inputShape('images');
  const [n, h, w, c] = shape ?? [];
  if (shape?.length !== 4 || n !== 1 || c !== 3 || h !== w || !(h! >= 32)) {
    throw agiqaError('AGQ_ERR_MODEL_INPUT', { model: model.label, detail: `images is [${shape ?? ''}]; a detector takes [1,S,S,3] with a fixed S` });
  }
  return h!;
}

export class ObjectDetector {
  private constructor(
    private readonly model: OnnxModel,
    /** The side of the square the picture is stretched to, as the graph declares it. */
    readonly inputSize: number,
  ) {}

  /** The pack's detector, or null when the pack has none. Throws AGQ_ERR_PACK_FILE_MISSING / AGQ_ERR_MODEL_LOAD. */
  static async load(pack: LoadedPack, threads: number): Promise<ObjectDetector | null> {
    const role = pack.manifest.models.detector;
    if (role === undefined) return null;
    const path = pack.files.get(role.file);
    if (path === undefined) throw agiqaError('AGQ_ERR_PACK_FILE_MISSING', { pack: pack.manifest.name, file: role.file });
    const model = await OnnxModel.load(path, { threads, label: `${pack.manifest.name}/${role.file}`, pack: pack.manifest.name, file: role.file });
    try {
      model.assertInputs(['images']);
      return new ObjectDetector(model, detectorInputSize(model));
    } catch (err) {
      await model.close();
      throw err;
    }
  }

  async detect(image: RgbImage): Promise<Detection[]> {
    const size = this.inputSize;
    const out = await this.model.run({ images: { data: detectorInput(image, size), dims: [1, size, size, 3] } }, ['detections']);
    return decodeDetections(out.detections!.data, image.width, image.height, size);
  }

  async close(): Promise<void> {
    await this.model.close();
  }
}
