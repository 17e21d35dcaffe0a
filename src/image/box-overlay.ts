// Draws labelled boxes over an image (for `agiqa score --boxes`): the image is decoded as the scorer
// decoded it (auto-oriented, first frame, alpha flattened), so box coordinates line up.
import sharp from 'sharp';
import { agiqaError } from '../errors/index.js';
import { ALPHA_BACKGROUND, DEFAULT_IMAGE_LIMITS, type ImageLimits } from './decode.js';

export interface OverlayBox {
  label: string;
  score: number;
  box: { x: number; y: number; width: number; height: number };
}

const PALETTE = ['#e6194b', '#3cb44b', '#4363d8', '#f58231', '#911eb4', '#42d4f4', '#f032e6', '#bfef45', '#fabed4', '#469990'];

const escapeXml = (text: string) => text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The SVG layer of `boxes` for a `width`×`height` image: one colour per label, label and score above each box. */
export function boxesSvg(boxes: readonly OverlayBox[], width: number, height: number): string {
  const labels = [...new Set(boxes.map((b) => b.label))];
  const stroke = Math.max(2, Math.round(Math.min(width, height) / 250));
  const font = Math.max(11, Math.round(Math.min(width, height) / 40));
  const parts = boxes.map((b) => {
    const colour = PALETTE[labels.indexOf(b.label) % PALETTE.length]!;
    const { x, y, width: w, height: h } = b.box;
    const text = `${escapeXml(b.label)} ${Math.round(b.score * 100)}%`;
    const ty = y >= font + 4 ? y - 4 : y + font + 2;
    return (
      `<rect x="${x}" y="${y}" width="${w}" height="${h}" fill="none" stroke="${colour}" stroke-width="${stroke}"/>` +
      `<text x="${x + 2}" y="${ty}" font-family="sans-serif" font-size="${font}" fill="${colour}" stroke="#000" stroke-width="0.6">${text}</text>`
    );
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${parts.join('')}</svg>`;
}

/**
 * PNG bytes of the image `bytes` with `boxes` drawn on it. Throws AGQ_ERR_IMAGE_CORRUPT when sharp
 * cannot decode it (the scorer decoded the same bytes, so this means they changed on disk).
 */
export async function drawBoxes(bytes: Uint8Array, name: string, boxes: readonly OverlayBox[], limits: ImageLimits = DEFAULT_IMAGE_LIMITS): Promise<Buffer> {
  try {
    const base = sharp(bytes, { failOn: 'error', limitInputPixels: limits.maxPixels, autoOrient: true, pages: 1 }).flatten({
      background: { r: ALPHA_BACKGROUND[0], g: ALPHA_BACKGROUND[1], b: ALPHA_BACKGROUND[2] },
    });
    const { data, info } = await base.raw().toBuffer({ resolveWithObject: true });
    const svg = Buffer.from(boxesSvg(boxes, info.width, info.height), 'utf8');
    return await sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } })
      .composite([{ input: svg, top: 0, left: 0 }])
      .png()
      .toBuffer();
  } catch (cause) {
    throw agiqaError('AGQ_ERR_IMAGE_CORRUPT', { file: name, detail: (cause as Error).message }, { cause });
  }
}
