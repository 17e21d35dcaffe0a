// Ships a predictor trained by `agiqa train --pack lite` into the embedded lite pack, touching only
// what this step owns in models/lite/pack.json: `predictor`, `metrics.ablation.predictor`, and the files[]
// entry of predictor.onnx (the schema requires every referenced file to be listed with its hash).
//   npx tsx training/predictor/ship-lite.ts --trained /tmp/lite-m3 [--pack models/lite]
// When the ablation's winner is not a predictor (the pack's own head won), only metrics.ablation is
// written and the pack keeps predictor: null.
import { createHash } from 'node:crypto';
import { copyFile, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { trained: { type: 'string' }, pack: { type: 'string', default: 'models/lite' } } });
if (values.trained === undefined) {
  process.stderr.write('usage: npx tsx training/predictor/ship-lite.ts --trained <folder written by agiqa train> [--pack models/lite]\n');
  process.exit(2);
}
const trained = JSON.parse(await readFile(join(values.trained, 'pack.json'), 'utf8'));
const packPath = join(values.pack, 'pack.json');
const lite = JSON.parse(await readFile(packPath, 'utf8'));
const qualityFile = lite.models.quality.file;
const trainedEncoder = trained.files.find((f: { path: string }) => f.path === qualityFile);
const liteEncoder = lite.files.find((f: { path: string }) => f.path === qualityFile);
if (trainedEncoder?.sha256 !== liteEncoder?.sha256) {
  process.stderr.write(`the predictor was trained on features of another ${qualityFile} (sha256 ${trainedEncoder?.sha256} ≠ ${liteEncoder?.sha256}); retrain it\n`);
  process.exit(1);
}

lite.files = lite.files.filter((f: { path: string }) => f.path !== 'predictor.onnx');
const target = join(values.pack, 'predictor.onnx');
if (trained.predictor !== null) {
  await copyFile(join(values.trained, 'predictor.onnx'), target);
  const bytes = await readFile(target);
  lite.files.push({
    path: 'predictor.onnx',
    sha256: createHash('sha256').update(bytes).digest('hex'),
    bytes: bytes.length,
    license: lite.license,
    source: `training/predictor (agiqa train on ${trained.training.data.labelFiles.join(', ')}, seed ${trained.training.seed})`,
  });
  lite.predictor = trained.predictor;
} else {
  await rm(target, { force: true });
  lite.predictor = null;
}
lite.metrics = lite.metrics ?? {};
// metrics.ablation also holds the quality model's own variants (training/lite): add ours under its
// own key and leave theirs as they are.
lite.metrics.ablation = { ...(lite.metrics.ablation ?? {}) };
lite.metrics.ablation.predictor = {
  ...trained.metrics.ablation,
  heldOut: trained.metrics.heldOut,
  data: trained.training.data,
  split: trained.training.split,
  seed: trained.training.seed,
  trainer: trained.training.trainer,
};
await writeFile(packPath, `${JSON.stringify(lite, null, 2)}\n`);
process.stdout.write(`${packPath}: predictor ${lite.predictor === null ? 'none (the head won)' : lite.predictor.kind}; ablation winner ${trained.metrics.ablation.winner}\n`);
