// Writes test/signals/fixtures/signals-3-golden.json: the feature vectors and measures of
// computeSignals for the golden cases. Run only when SIGNALS_VERSION changes on purpose:
//   npx tsx test/signals/make-golden.ts
import { writeFile } from 'node:fs/promises';
import { computeSignals, SIGNALS_VERSION } from '../../src/signals/index.js';
import { GOLDEN_PATH, goldenCases } from './golden-cases.js';

const cases = [];
for (const c of await goldenCases()) {
  const image = await c.image();
  const { features, measures } = computeSignals({ rgb: image.rgb, width: image.width, height: image.height });
  cases.push({ name: c.name, width: image.width, height: image.height, features: Array.from(features), measures });
}
await writeFile(GOLDEN_PATH, `${JSON.stringify({ signalsVersion: SIGNALS_VERSION, cases }, null, 1)}\n`);
console.log(`wrote ${cases.length} cases to ${GOLDEN_PATH}`);
