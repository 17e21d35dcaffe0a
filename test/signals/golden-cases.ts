// The images of the signals golden fixture: every example photo plus synthetic images that reach
// the odd corners (tiny, odd sizes, strips, flat, noisy, pixelated, over-sharpened, JPEG-like).
// Shared by make-golden.ts (writes the fixture) and golden.test.ts (checks against it).
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { decodeImage } from '../../src/image/index.js';
import type { SignalImage } from '../../src/signals/index.js';
import { addNoise, blockMean, flat, mapValues, scene, unsharp } from './synthetic.js';

export const EXAMPLES_DIR = fileURLToPath(new URL('../../examples/', import.meta.url));
export const GOLDEN_PATH = fileURLToPath(new URL('./fixtures/signals-3-golden.json', import.meta.url));

export interface GoldenCase {
  name: string;
  image: () => Promise<SignalImage>;
}

const synthetic = (name: string, make: () => SignalImage): GoldenCase => ({ name, image: async () => make() });

export async function goldenCases(): Promise<GoldenCase[]> {
  const files = (await readdir(EXAMPLES_DIR)).filter((f) => /\.(png|jpe?g)$/i.test(f)).sort();
  const examples = files.map(
    (file): GoldenCase => ({
      name: `examples/${file}`,
      image: async () => decodeImage(new Uint8Array(await readFile(EXAMPLES_DIR + file)), file),
    }),
  );
  return [
    ...examples,
    synthetic('flat 1×1', () => flat(1, 1, 90, 120, 200)),
    synthetic('noisy 2×2', () => addNoise(flat(2, 2, 128), 20)),
    synthetic('noisy 7×3', () => addNoise(flat(7, 3, 128), 20)),
    synthetic('noisy 3×7', () => addNoise(flat(3, 7, 128), 20)),
    synthetic('noisy 1×50', () => addNoise(flat(1, 50, 128), 20)),
    synthetic('noisy 50×1', () => addNoise(flat(50, 1, 128), 20)),
    synthetic('scene 37×23', () => scene(37, 23, 2)),
    synthetic('scene 225×301', () => scene(225, 301, 3)),
    synthetic('scene 1024×1024', () => scene(1024, 1024, 3)),
    synthetic('scene 1500×130', () => scene(1500, 130, 4)),
    synthetic('flat grey 128×96', () => flat(128, 96, 140)),
    synthetic('flat colour 67×45', () => flat(67, 45, 200, 10, 30)),
    synthetic('flat black 64×64', () => flat(64, 64, 0)),
    synthetic('flat white 80×80', () => flat(80, 80, 255)),
    synthetic('grey noise σ 10 256×256', () => addNoise(flat(256, 256, 128), 10)),
    synthetic('noisy scene 301×257', () => addNoise(scene(301, 257, 5), 12)),
    synthetic('pixelated 4× 256×192', () => blockMean(scene(256, 192, 6), 4)),
    synthetic('jpeg-like 8× shifted 240×200', () => blockMean(scene(240, 200, 7), 8, 3)),
    synthetic('over-sharpened 200×160', () => unsharp(scene(200, 160, 8), 2, 1.5)),
    synthetic('posterised 320×240', () => mapValues(scene(320, 240, 9), (v) => Math.round(v / 32) * 32)),
    synthetic('dark clipped 160×120', () => mapValues(scene(160, 120, 10), (v) => v - 150)),
  ];
}
