// Runs the lite pack's detector and object checks over a generated detection set (make-set.ts) and
// reports "object present" precision/recall, count accuracy and position accuracy per score threshold.
//   npx tsx tools/detection-fixtures/evaluate.ts --set /tmp/detection-set [--json out.json] [--model other-detector.onnx]
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { decodeImage } from '../../src/image/index.js';
import { ObjectDetector, type Detection } from '../../src/model/object-detector.js';
import { loadPack } from '../../src/model/packs.js';
import { COCO_CLASSES } from '../../src/prompts/index.js';
import { relativePosition, type LabelledBox } from '../../src/scoring/rounds/object-checks-round.js';
import type { TruthScene } from './make-set.js';

export interface SetMetrics {
  threshold: number;
  images: number;
  present: { precision: number; recall: number; truePositives: number; falsePositives: number; falseNegatives: number };
  count: { accuracy: number; scenes: number };
  position: { accuracy: number; accuracyWhenBothFound: number; scenes: number; bothFound: number };
}

/** Metrics of `detections` (per scene, all boxes above the detector's floor) against the truth at one threshold. */
export function setMetrics(scenes: readonly TruthScene[], detections: readonly Detection[][], threshold: number): SetMetrics {
  const classes = new Set(scenes.flatMap((s) => s.objects.map((o) => o.cocoClass)));
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let countOk = 0;
  let countScenes = 0;
  let posOk = 0;
  let posScenes = 0;
  let bothFound = 0;
  scenes.forEach((scene, i) => {
    const boxes: LabelledBox[] = detections[i]!.filter((d) => d.score >= threshold).map((d) => ({ ...d, label: COCO_CLASSES[d.classIndex]! }));
    const seen = (c: string) => boxes.filter((b) => b.label === c);
    for (const c of classes) {
      const truth = scene.objects.some((o) => o.cocoClass === c);
      const found = seen(c).length > 0;
      if (truth && found) tp++;
      else if (found) fp++;
      else if (truth) fn++;
    }
    if (scene.kind === 'single' || scene.kind === 'count') {
      countScenes++;
      if (seen(scene.objects[0]!.cocoClass).length === scene.objects.length) countOk++;
    }
    if (scene.kind === 'pair') {
      posScenes++;
      const [a, b] = [seen(scene.objects[0]!.cocoClass)[0], seen(scene.objects[1]!.cocoClass)[0]];
      if (a !== undefined && b !== undefined) {
        bothFound++;
        if (relativePosition(a, b, 0.1).has(scene.relation!)) posOk++;
      }
    }
  });
  const r4 = (x: number) => Math.round(x * 1e4) / 1e4;
  return {
    threshold,
    images: scenes.length,
    present: { precision: r4(tp / (tp + fp)), recall: r4(tp / (tp + fn)), truePositives: tp, falsePositives: fp, falseNegatives: fn },
    count: { accuracy: r4(countOk / countScenes), scenes: countScenes },
    position: { accuracy: r4(posOk / posScenes), accuracyWhenBothFound: r4(posOk / Math.max(1, bothFound)), scenes: posScenes, bothFound },
  };
}

/** Runs the lite pack's detector (or `model` in its place, e.g. a candidate conversion) on every image of the set. */
export async function detectSet(dir: string, model?: string): Promise<{ scenes: TruthScene[]; detections: Detection[][] }> {
  const scenes = (await readFile(path.join(dir, 'truth.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as TruthScene);
  const lite = await loadPack('lite');
  const pack = model === undefined ? lite : { ...lite, files: new Map(lite.files).set(lite.manifest.models.detector!.file, path.resolve(model)) };
  const detector = (await ObjectDetector.load(pack, 2))!;
  const detections: Detection[][] = [];
  for (const scene of scenes) {
    const image = await decodeImage(await readFile(path.join(dir, scene.file)), scene.file);
    detections.push(await detector.detect(image));
  }
  await detector.close();
  return { scenes, detections };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { set: { type: 'string' }, json: { type: 'string' }, model: { type: 'string' } } });
  if (values.set === undefined) {
    process.stderr.write('usage: npx tsx tools/detection-fixtures/evaluate.ts --set <dir from make-set.ts> [--json out.json] [--model detector.onnx]\n');
    process.exit(2);
  }
  const { scenes, detections } = await detectSet(values.set, values.model);
  const rows = [0.2, 0.25, 0.3, 0.35, 0.4].map((t) => setMetrics(scenes, detections, t));
  process.stdout.write('| threshold | present precision | present recall | count accuracy | position accuracy (both found) |\n|---|---|---|---|---|\n');
  for (const m of rows) {
    process.stdout.write(`| ${m.threshold} | ${m.present.precision} | ${m.present.recall} | ${m.count.accuracy} (${m.count.scenes}) | ${m.position.accuracy} (${m.position.accuracyWhenBothFound} of ${m.position.bothFound}/${m.position.scenes}) |\n`);
  }
  if (values.json !== undefined) await writeFile(values.json, `${JSON.stringify(rows, null, 2)}\n`);
}
