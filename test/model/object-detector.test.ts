// The detector's input (stretch to 512², area-averaged) and output decoding (threshold, NMS, scaling
// back to the picture), on hand-made tensors; the shipped ONNX runs in test/cli/score.test.ts.
import { describe, expect, it } from 'vitest';
import { decodeDetections, detectorInput, detectorInputSize, iou } from '../../src/model/object-detector.js';

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

  it('interpolates when enlarging and keeps a flat image flat', () => {
    const flat = new Uint8Array(3 * 3 * 3).fill(77);
    expect(new Set(detectorInput({ rgb: flat, width: 3, height: 3 }, 8))).toEqual(new Set([77]));
  });
});

describe('detectorInputSize', () => {
  const model = (shape: number[] | undefined) => ({ label: 'lite/detector.onnx', inputShape: () => shape });
  it('is the side the graph declares for its NHWC input', () => {
    expect(detectorInputSize(model([1, 384, 384, 3]))).toBe(384);
    expect(detectorInputSize(model([1, 512, 512, 3]))).toBe(512);
  });

  it('refuses a graph without a fixed square RGB input', () => {
    for (const shape of [undefined, [1, -1, -1, 3], [1, 384, 512, 3], [1, 3, 384, 384], [2, 384, 384, 3]]) {
      expect(() => detectorInputSize(model(shape))).toThrow(expect.objectContaining({ code: 'AGQ_ERR_MODEL_INPUT' }));
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
