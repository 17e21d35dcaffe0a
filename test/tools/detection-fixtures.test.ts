// The lite pack's detector on the committed detection fixtures (generated from tuxpaint stamps at known
// classes, counts and positions), and the arithmetic of the set metrics reported in docs/object-checks.md.
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { detectSet, setMetrics } from '../../tools/detection-fixtures/evaluate.js';
import type { TruthScene } from '../../tools/detection-fixtures/make-set.js';

const SET = fileURLToPath(new URL('../fixtures/detection/', import.meta.url));

describe('setMetrics', () => {
  const scenes: TruthScene[] = [
    { file: 'a', kind: 'single', prompt: '', objects: [{ cocoClass: 'dog', box: [0, 0, 10, 10] }] },
    { file: 'b', kind: 'pair', prompt: '', relation: 'left of', objects: [{ cocoClass: 'dog', box: [0, 0, 10, 10] }, { cocoClass: 'car', box: [50, 0, 60, 10] }] },
    { file: 'c', kind: 'empty', prompt: '', objects: [] },
  ];
  const d = (classIndex: number, x1: number, score = 0.9) => ({ classIndex, score, x1, y1: 0, x2: x1 + 10, y2: 10 });
  it('counts present/absent per class, exact counts and GenEval positions', () => {
    const m = setMetrics(scenes, [[d(16, 0), d(16, 30)], [d(16, 0), d(2, 50)], [d(2, 0, 0.1)]], 0.25);
    expect(m.present).toMatchObject({ truePositives: 3, falsePositives: 0, falseNegatives: 0, precision: 1, recall: 1 });
    expect(m.count).toEqual({ accuracy: 0, scenes: 1 }); // two dogs where one was placed
    expect(m.position).toMatchObject({ accuracy: 1, bothFound: 1 });
    const swapped = setMetrics(scenes, [[d(16, 0)], [d(16, 50), d(2, 0)], [d(2, 0, 0.9)]], 0.25);
    expect(swapped.position.accuracy).toBe(0);
    expect(swapped.present).toMatchObject({ falsePositives: 1, precision: 0.75 });
    expect(swapped.count.accuracy).toBe(1);
  });
});

describe('lite detector on the committed detection fixtures', () => {
  it('finds most placed objects, few absent ones, and places pairs right', async () => {
    const { scenes, detections } = await detectSet(SET);
    expect(scenes).toHaveLength(12);
    const m = setMetrics(scenes, detections, 0.25);
    // Floors under the measured figures: 12 images swing more than 240 (docs/object-checks.md). The int8
    // detector measures recall 0.50 and precision 0.78 here (the float conversion 0.79 and 1.00): it loses
    // the weak objects these scenes hold (float scores 0.32-0.36); on the 240 scenes the gap is 0.03.
    expect(m.present.recall).toBeGreaterThanOrEqual(0.45);
    expect(m.present.precision).toBeGreaterThanOrEqual(0.7);
    expect(m.position.accuracyWhenBothFound).toBe(1);
  }, 120_000);
});
