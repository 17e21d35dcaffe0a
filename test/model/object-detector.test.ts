// The detector's input (stretch to 512², area-averaged) and output decoding (threshold, NMS, scaling
// back to the picture), on hand-made tensors, and the thread count its session gets; the shipped ONNX runs in test/cli/score.test.ts.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeImage } from '../../src/image/index.js';
import { decodeDetections, detectorThreads, detectorInput, detectorInputShape, iou, ObjectDetector, peakDetections, type RawHeads } from '../../src/model/object-detector.js';
import { loadPack } from '../../src/model/packs.js';

function raw(rows: number[][]): Float32Array {
  const out = new Float32Array(600);
  rows.forEach((r, i) => out.set(r, i * 6));
  return out;
}

describe('detectorInput', () => {
  it('averages the pixels each output pixel covers when shrinking', () => {
    // 4x2 image: left half black, right half white; to 2x2 → one black and one white column.
    const rgb = new Uint8Array([0, 0, 0, 0, 0, 0, 255, 255, 255, 255, 255, 255, 0, 0, 0, 0, 0, 0, 255, 255, 255, 255, 255, 255]);
    const out = detectorInput({ rgb, width: 4, height: 2 }, 2);
    expect(Array.from(out)).toEqual([0, 0, 0, 255, 255, 255, 0, 0, 0, 255, 255, 255]);
    const stripes = new Uint8Array(4 * 1 * 3).map((_, i) => (Math.floor(i / 3) % 2 === 0 ? 0 : 200));
    expect(Array.from(detectorInput({ rgb: stripes, width: 4, height: 1 }, 1))).toEqual([100, 100, 100]);
  });

  it('gives each output pixel the mean of its 2×2 block at exactly twice the side, as at any other ratio', () => {
    const side = 6;
    const rgb = new Uint8Array(side * side * 3).map((_, i) => (i * 97 + 13) % 256);
    const at = (x: number, y: number, c: number) => rgb[(y * side + x) * 3 + c]!;
    const mean = (x: number, y: number, c: number) => (at(2 * x, 2 * y, c) + at(2 * x + 1, 2 * y, c) + at(2 * x, 2 * y + 1, c) + at(2 * x + 1, 2 * y + 1, c)) / 4;
    const expected = Array.from({ length: 27 }, (_, i) => Math.fround(mean(Math.floor(i / 3) % 3, Math.floor(i / 9), i % 3)));
    expect(Array.from(detectorInput({ rgb, width: side, height: side }, 3))).toEqual(expected);
    // One column more takes the general path: its first output pixel spans 3 source columns.
    const wider = new Uint8Array(7 * side * 3).fill(10);
    expect(new Set(detectorInput({ rgb: wider, width: 7, height: side }, 3))).toEqual(new Set([10]));
  });

  it('interpolates when enlarging and keeps a flat image flat', () => {
    const flat = new Uint8Array(3 * 3 * 3).fill(77);
    expect(new Set(detectorInput({ rgb: flat, width: 3, height: 3 }, 8))).toEqual(new Set([77]));
  });

  it('writes into a buffer it is given, every value, and into a new one when that has the wrong length', () => {
    for (const [width, height, size] of [[8, 8, 4], [9, 7, 4], [3, 5, 6]] as const) {
      const image = { rgb: new Uint8Array(width * height * 3).map((_, i) => (i * 31 + 5) % 256), width, height };
      const into = new Float32Array(size * size * 3).fill(NaN);
      expect(detectorInput(image, size, true, into)).toBe(into);
      expect(Array.from(into)).toEqual(Array.from(detectorInput(image, size, true)));
      expect(detectorInput(image, size, false, new Float32Array(5))).toHaveLength(size * size * 3);
    }
  });

  it('writes the same values as planes (NCHW) when asked, on each path (2×2 means, area average, bilinear)', () => {
    for (const [width, height, size] of [[8, 8, 4], [9, 7, 4], [3, 5, 6]] as const) {
      const image = { rgb: new Uint8Array(width * height * 3).map((_, i) => (i * 53 + 7) % 256), width, height };
      const nhwc = detectorInput(image, size);
      const planes = Array.from({ length: 3 * size * size }, (_, i) => nhwc[(i % (size * size)) * 3 + Math.floor(i / (size * size))]);
      expect(Array.from(detectorInput(image, size, true))).toEqual(planes);
    }
  });
});

describe('detectorInputShape', () => {
  const model = (shape: number[] | undefined) => ({ label: 'lite/detector.onnx', inputShape: () => shape });
  it('is the side the graph declares for its NHWC or planar input, and which of the two', () => {
    expect(detectorInputShape(model([1, 384, 384, 3]))).toEqual({ size: 384, planar: false });
    expect(detectorInputShape(model([1, 512, 512, 3]))).toEqual({ size: 512, planar: false });
    expect(detectorInputShape(model([1, 3, 512, 512]))).toEqual({ size: 512, planar: true });
  });

  it('refuses a graph without a fixed square RGB input', () => {
    for (const shape of [undefined, [1, -1, -1, 3], [1, 3, -1, -1], [1, 384, 512, 3], [1, 3, 384, 512], [1, 4, 384, 384], [2, 384, 384, 3], [1, 3, 16, 16]]) {
      expect(() => detectorInputShape(model(shape))).toThrow(expect.objectContaining({ code: 'AGQ_ERR_MODEL_INPUT' }));
    }
  });
});

describe('ObjectDetector.detect', () => {
  it("writes each picture over the last one's input buffer, and concurrent runs do not share it", async () => {
    const detector = (await ObjectDetector.load(await loadPack('lite'), 1))!;
    try {
      const dir = fileURLToPath(new URL('../fixtures/detection/', import.meta.url));
      const [a, b] = await Promise.all(['scene-0009.jpg', 'scene-0003.jpg'].map(async (f) => decodeImage(await readFile(dir + f), f)));
      const first = await detector.detect(a!);
      const other = await detector.detect(b!);
      expect(first.length).toBeGreaterThan(0);
      expect(other).not.toEqual(first);
      expect(await detector.detect(a!)).toEqual(first);
      expect(await Promise.all([detector.detect(a!), detector.detect(b!), detector.detect(a!)])).toEqual([first, other, first]);
    } finally {
      await detector.close();
    }
  });
});

describe('ObjectDetector.load', () => {
  it('gives the session the threads asked for: the worker\'s own when it is the only worker, one when several run', async () => {
    expect([detectorThreads(1, 2), detectorThreads(1, 8), detectorThreads(2, 1), detectorThreads(4, 2), detectorThreads(3, 4)]).toEqual([2, 8, 1, 1, 1]);
    const pack = await loadPack('lite');
    const [one, two] = [(await ObjectDetector.load(pack, 1))!, (await ObjectDetector.load(pack, 2))!];
    try {
      expect([one.threads, two.threads]).toEqual([1, 2]);
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
  });
});

describe('decodeDetections', () => {
  it('drops weak peaks and scales boxes from 512² to the picture', () => {
    const d = decodeDetections(raw([[0, 0, 256, 512, 0.9, 16], [10, 10, 20, 20, 0.05, 2]]), 1024, 256);
    expect(d).toEqual([{ classIndex: 16, score: expect.closeTo(0.9, 6), x1: 0, y1: 0, x2: 512, y2: 256 }]);
  });

  it('scales boxes from the input size the graph takes', () => {
    const d = decodeDetections(raw([[0, 96, 192, 384, 0.9, 16]]), 1024, 256, 384);
    expect(d).toEqual([{ classIndex: 16, score: expect.closeTo(0.9, 6), x1: 0, y1: 64, x2: 512, y2: 256 }]);
  });

  it('keeps one box per object: same class above IoU 0.5, any class above 0.8', () => {
    const d = decodeDetections(raw([[0, 0, 100, 100, 0.9, 16], [5, 5, 100, 100, 0.6, 16], [200, 200, 300, 300, 0.5, 16], [2, 2, 100, 100, 0.7, 15], [0, 0, 100, 60, 0.5, 0]]), 512, 512);
    expect(d.map((x) => [x.classIndex, x.x1])).toEqual([[16, 0], [16, 200], [0, 0]]);
  });

  it('clamps boxes to the picture and skips degenerate ones and NaN classes', () => {
    const d = decodeDetections(raw([[-20, -5, 600, 530, 0.9, 3], [50, 50, 50.5, 90, 0.9, 4], [0, 0, 9, 9, 0.9, NaN]]), 512, 512);
    expect(d).toEqual([{ classIndex: 3, score: expect.closeTo(0.9, 6), x1: 0, y1: 0, x2: 512, y2: 512 }]);
  });

  it('computes IoU', () => {
    const a = { classIndex: 0, score: 1, x1: 0, y1: 0, x2: 10, y2: 10 };
    expect(iou(a, { ...a, x1: 5 })).toBeCloseTo(0.5, 6);
    expect(iou(a, { ...a, x1: 20, x2: 30 })).toBe(0);
  });
});

/** The tfjs graph's own tail, as the converted graph computes it: sigmoid, 3×3 max-pool peaks, TopK 100 over the NHWC map. */
function tfjsTail(heads: RawHeads): Float32Array {
  const { heatmap, extents, side, scale, zeroPoint } = heads;
  const classes = heatmap.length / (side * side);
  const sig = Array.from(heatmap, (q) => Math.fround(1 / (1 + Math.exp(-Math.fround((q - zeroPoint) * Math.fround(scale))))));
  const peaks = sig.map((v, i) => {
    const c = i % classes;
    const cell = (i - c) / classes;
    const [x, y] = [cell % side, Math.floor(cell / side)];
    for (let yy = Math.max(0, y - 1); yy <= Math.min(side - 1, y + 1); yy++) {
      for (let xx = Math.max(0, x - 1); xx <= Math.min(side - 1, x + 1); xx++) if (sig[(yy * side + xx) * classes + c]! > v) return 0;
    }
    return v;
  });
  const top = peaks.map((v, i) => ({ v, i })).sort((a, b) => b.v - a.v || a.i - b.i).slice(0, 100);
  const out = new Float32Array(600);
  top.forEach(({ v, i }, k) => {
    const cell = Math.floor(i / classes);
    const [x, y] = [(cell % side) * 4, Math.floor(cell / side) * 4];
    out.set([x - extents[cell * 4]!, y - extents[cell * 4 + 1]!, x + extents[cell * 4 + 2]!, y + extents[cell * 4 + 3]!, v, i % classes], k * 6);
  });
  return out;
}

function heads(side: number, classes: number, seed: number, background = 150): RawHeads {
  let state = seed;
  const next = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  // Mostly background with clustered strong values and plateaus (ties), as a quantized heat map has.
  const heatmap = new Uint8Array(side * side * classes).map(() => (next() < 0.85 ? background - Math.floor(next() * 50) : 200 + Math.floor(next() * 8) * 5));
  const cellMax = new Uint8Array(side * side).map((_, cell) => Math.max(...heatmap.subarray(cell * classes, (cell + 1) * classes)));
  const extents = new Float32Array(side * side * 4).map(() => Math.fround(next() * 40));
  return { heatmap, cellMax, extents, scale: 0.08025873, zeroPoint: 228, side };
}

describe('peakDetections', () => {
  it('finds the peaks, scores and boxes the tfjs tail found, in its order', () => {
    for (const seed of [1, 2, 3]) {
      const h = heads(12, 5, seed);
      const expected = decodeDetections(tfjsTail(h), 480, 480, 48);
      const got = decodeDetections(peakDetections(h), 480, 480, 48);
      expect(got.length).toBeGreaterThan(3);
      expect(got).toEqual(expected);
    }
  });

  it('keeps the 100 strongest when more peaks pass the floor, ties in map order', () => {
    const h = heads(40, 3, 7, 215);
    const raw = peakDetections(h);
    expect(raw.length).toBe(600);
    expect(Array.from(raw)).toEqual(Array.from(tfjsTail(h)));
  });

  it('skips cells whose strongest class is below the score floor, and gives nothing for an empty map', () => {
    const h = heads(8, 4, 5);
    h.cellMax.fill(0);
    expect(peakDetections(h).length).toBe(0);
  });

  it('puts a lone peak at its cell, boxed by the extents, scored by the sigmoid of its logit', () => {
    const h: RawHeads = { heatmap: new Uint8Array(4 * 4 * 2), cellMax: new Uint8Array(16), extents: new Float32Array(64), scale: 0.5, zeroPoint: 100, side: 4 };
    const cell = 2 * 4 + 1; // x 1, y 2
    h.heatmap[cell * 2 + 1] = 102; // logit 1
    h.cellMax[cell] = 102;
    h.extents.set([3, 2, 5, 6], cell * 4);
    expect(Array.from(peakDetections(h))).toEqual([4 - 3, 8 - 2, 4 + 5, 8 + 6, Math.fround(1 / (1 + Math.exp(-1))), 1]);
  });
});
