// Generates the detection fixture set: photo cut-outs (with alpha) from Debian's tuxpaint-stamps-default
// composited onto generated backgrounds at known classes, counts, positions and scales, with the truth
// and a GenEval-style prompt per image in truth.jsonl.
//   apt-get download tuxpaint-stamps-default && dpkg-deb -x tuxpaint-stamps-default_*.deb stamps-deb
//   npx tsx tools/detection-fixtures/make-set.ts --stamps stamps-deb/usr/share/tuxpaint/stamps --out /tmp/detection-set [--images 240] [--seed 1]
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { seededRandom } from '../../src/evaluation/datasets.js';
import { STAMPS, type Stamp } from './stamps.js';

export interface TruthObject {
  cocoClass: string;
  /** x1, y1, x2, y2 in pixels: the stamp's opaque area. */
  box: [number, number, number, number];
}

export interface TruthScene {
  file: string;
  kind: 'single' | 'count' | 'pair' | 'empty';
  prompt: string;
  objects: TruthObject[];
  /** For pairs: where the first object is relative to the second. */
  relation?: 'left of' | 'right of' | 'above' | 'below';
}

const WIDTH = 640;
const HEIGHT = 480;

interface LoadedStamp extends Stamp {
  rgba: Buffer;
  width: number;
  height: number;
  /** Opaque bounding box inside the stamp. */
  opaque: [number, number, number, number];
}

async function loadStamp(dir: string, stamp: Stamp): Promise<LoadedStamp> {
  const { data, info } = await sharp(path.join(dir, stamp.file)).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  let [x1, y1, x2, y2] = [info.width, info.height, 0, 0];
  for (let y = 0; y < info.height; y++)
    for (let x = 0; x < info.width; x++)
      if (data[(y * info.width + x) * 4 + 3]! > 127) [x1, y1, x2, y2] = [Math.min(x1, x), Math.min(y1, y), Math.max(x2, x + 1), Math.max(y2, y + 1)];
  return { ...stamp, rgba: data, width: info.width, height: info.height, opaque: [x1, y1, x2, y2] };
}

/** A smooth two-colour gradient with low-frequency mottling: a plausible, object-free backdrop. */
function background(next: () => number): Buffer {
  const top = [0, 1, 2].map(() => 60 + next() * 190);
  const bottom = [0, 1, 2].map(() => 30 + next() * 190);
  const waves = [0, 1, 2].map(() => ({ fx: 1 + next() * 4, fy: 1 + next() * 4, phase: next() * 6.28, amp: 6 + next() * 14 }));
  const out = Buffer.alloc(WIDTH * HEIGHT * 3);
  for (let y = 0; y < HEIGHT; y++)
    for (let x = 0; x < WIDTH; x++) {
      const t = y / HEIGHT;
      const mottle = waves.reduce((s, w) => s + w.amp * Math.sin((w.fx * x) / WIDTH * 6.28 + (w.fy * y) / HEIGHT * 6.28 + w.phase), 0);
      for (let c = 0; c < 3; c++) out[(y * WIDTH + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(top[c]! * (1 - t) + bottom[c]! * t + mottle)));
    }
  return out;
}

interface Placement {
  stamp: LoadedStamp;
  /** Target height of the whole stamp in pixels. */
  height: number;
  left: number;
  top: number;
}

function scaledSize(p: Placement): [number, number] {
  const scale = p.height / p.stamp.height;
  return [Math.max(1, Math.round(p.stamp.width * scale)), Math.max(1, Math.round(p.stamp.height * scale))];
}

function truthOf(p: Placement): TruthObject {
  const scale = p.height / p.stamp.height;
  const [a, b, c, d] = p.stamp.opaque;
  return { cocoClass: p.stamp.cocoClass, box: [p.left + a * scale, p.top + b * scale, p.left + c * scale, p.top + d * scale].map((v) => Math.round(v)) as TruthObject['box'] };
}

/** A stamp height that keeps its width within `maxWidth`. */
function fitHeight(stamp: LoadedStamp, wanted: number, maxWidth: number): number {
  return Math.floor(Math.min(wanted, (maxWidth * stamp.height) / stamp.width));
}

function pick<T>(items: readonly T[], next: () => number): T {
  return items[Math.floor(next() * items.length)]!;
}

const NUMBER = ['zero', 'one', 'two', 'three', 'four'];
const plural = (c: string) => (c === 'sheep' ? 'sheep' : c === 'bus' ? 'buses' : c === 'person' ? 'people' : `${c}s`);
const an = (c: string) => (/^[aeiou]/.test(c) ? 'an' : 'a');

function scene(index: number, stamps: LoadedStamp[], next: () => number): { kind: TruthScene['kind']; placements: Placement[]; prompt: string; relation?: TruthScene['relation'] } {
  const roll = index % 10;
  if (roll === 9) return { kind: 'empty', placements: [], prompt: `a photo of ${an(pick(stamps, next).cocoClass)} ${pick(stamps, next).cocoClass}` };
  if (roll < 3) {
    const s = pick(stamps, next);
    const height = fitHeight(s, HEIGHT * (0.4 + next() * 0.3), WIDTH * 0.8);
    const [w, h] = scaledSize({ stamp: s, height, left: 0, top: 0 });
    return { kind: 'single', placements: [{ stamp: s, height, left: Math.floor(next() * (WIDTH - w)), top: Math.floor(next() * (HEIGHT - h)) }], prompt: `a photo of ${an(s.cocoClass)} ${s.cocoClass}` };
  }
  if (roll < 6) {
    const s = pick(stamps, next);
    const n = 2 + Math.floor(next() * 3);
    const slot = WIDTH / n;
    const placements = Array.from({ length: n }, (_, k) => {
      const height = fitHeight(s, HEIGHT * (0.25 + next() * 0.15), slot * 0.9);
      const [w, h] = scaledSize({ stamp: s, height, left: 0, top: 0 });
      return { stamp: s, height, left: Math.floor(k * slot + next() * (slot - w)), top: Math.floor(next() * (HEIGHT - h)) };
    });
    return { kind: 'count', placements, prompt: `a photo of ${NUMBER[n]} ${plural(s.cocoClass)}` };
  }
  const a = pick(stamps, next);
  let b = pick(stamps, next);
  while (b.cocoClass === a.cocoClass) b = pick(stamps, next);
  const relation = pick(['left of', 'right of', 'above', 'below'] as const, next);
  const horizontal = relation === 'left of' || relation === 'right of';
  const place = (s: LoadedStamp, first: boolean): Placement => {
    const maxW = horizontal ? WIDTH * 0.45 : WIDTH * 0.7;
    const height = fitHeight(s, HEIGHT * (horizontal ? 0.35 + next() * 0.2 : 0.3 + next() * 0.12), maxW);
    const [w, h] = scaledSize({ stamp: s, height, left: 0, top: 0 });
    // The first object goes on the side its relation names; the other opposite.
    const onLowSide = (relation === 'left of' || relation === 'above') === first;
    if (horizontal) return { stamp: s, height, left: Math.floor(onLowSide ? next() * (WIDTH / 2 - w) : WIDTH / 2 + next() * (WIDTH / 2 - w)), top: Math.floor(next() * (HEIGHT - h)) };
    return { stamp: s, height, left: Math.floor(next() * (WIDTH - w)), top: Math.floor(onLowSide ? next() * (HEIGHT / 2 - h) : HEIGHT / 2 + next() * (HEIGHT / 2 - h)) };
  };
  return { kind: 'pair', placements: [place(a, true), place(b, false)], prompt: `a photo of ${an(a.cocoClass)} ${a.cocoClass} ${relation} ${an(b.cocoClass)} ${b.cocoClass}`, relation };
}

export async function makeSet(options: { stamps: string; out: string; images: number; seed: number }): Promise<TruthScene[]> {
  const next = seededRandom(options.seed);
  const stamps = await Promise.all(STAMPS.map((s) => loadStamp(options.stamps, s)));
  await mkdir(options.out, { recursive: true });
  const scenes: TruthScene[] = [];
  for (let i = 0; i < options.images; i++) {
    const s = scene(i, stamps, next);
    const layers = await Promise.all(
      s.placements.map(async (p) => {
        const [w, h] = scaledSize(p);
        const input = await sharp(p.stamp.rgba, { raw: { width: p.stamp.width, height: p.stamp.height, channels: 4 } }).resize(w, h).png().toBuffer();
        return { input, left: p.left, top: p.top };
      }),
    );
    const file = `scene-${String(i + 1).padStart(4, '0')}.jpg`;
    await sharp(background(next), { raw: { width: WIDTH, height: HEIGHT, channels: 3 } }).composite(layers).jpeg({ quality: 88 }).toFile(path.join(options.out, file));
    scenes.push({ file, kind: s.kind, prompt: s.prompt, objects: s.placements.map(truthOf), ...(s.relation ? { relation: s.relation } : {}) });
  }
  await writeFile(path.join(options.out, 'truth.jsonl'), scenes.map((t) => JSON.stringify(t)).join('\n') + '\n');
  return scenes;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { stamps: { type: 'string' }, out: { type: 'string' }, images: { type: 'string', default: '240' }, seed: { type: 'string', default: '1' } } });
  if (values.stamps === undefined || values.out === undefined) {
    process.stderr.write('usage: npx tsx tools/detection-fixtures/make-set.ts --stamps <tuxpaint stamps dir> --out <dir> [--images N] [--seed S]\n');
    process.exit(2);
  }
  const scenes = await makeSet({ stamps: values.stamps, out: values.out, images: Number(values.images), seed: Number(values.seed) });
  process.stdout.write(`wrote ${scenes.length} images and truth.jsonl to ${values.out}\n`);
}
