// Rasterises an SVG document to PNG (for `agiqa eval --plot`): callers draw in SVG text, this module
// keeps sharp behind the image layer.
import sharp from 'sharp';
import { agiqaError } from '../errors/index.js';

/** Renders `svg` at its own width/height to PNG bytes; throws AGQ_ERR_INVALID_INPUT when librsvg refuses it. */
export async function svgToPng(svg: string): Promise<Buffer> {
  try {
    return await sharp(Buffer.from(svg, 'utf8'), { density: 72 }).png().toBuffer();
  } catch (cause) {
    throw agiqaError('AGQ_ERR_INVALID_INPUT', { where: 'SVG plot', issues: [(cause as Error).message] }, { cause });
  }
}
