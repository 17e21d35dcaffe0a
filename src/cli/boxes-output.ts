// `agiqa score --boxes DIR`: for each scored image, the detector's boxes as JSON and the image with
// the boxes drawn, named after the image (`coffee.png` → `coffee.png.boxes.json`, `coffee.png.boxes.png`).
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { drawBoxes, readImageBytes } from '../image/index.js';
import type { ScoreResult } from '../scoring/index.js';

/** Writes both files for `file`; an image whose pack has no detector gets an empty list and no PNG. */
export async function writeBoxes(dir: string, file: string, result: ScoreResult): Promise<void> {
  await mkdir(dir, { recursive: true });
  const base = path.join(dir, `${path.basename(file)}.boxes`);
  const detections = result.detections ?? [];
  const json = { file, image: { width: result.image.width, height: result.image.height }, pack: result.pack, detections };
  await writeFile(`${base}.json`, `${JSON.stringify(json, null, 2)}\n`);
  if (result.detections !== undefined) await writeFile(`${base}.png`, await drawBoxes(await readImageBytes(file), file, detections));
}
