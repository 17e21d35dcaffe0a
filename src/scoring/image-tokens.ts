// Image tokens from a fast pack for a predictor over a judge's rounds (layout judge/1): the lite
// quality model's spatial map pooled to 3×3, or a CLIP-family pack's image embedding as one token,
// whose text tower also embeds the judge's descriptions. Runs in the calling thread.
import { agiqaError } from '../errors/index.js';
import type { DecodedImage } from '../image/index.js';
import { ClipEncoder } from '../model/clip/clip-encoder.js';
import type { LoadedPack } from '../model/packs.js';
import { DEFAULT_TOKEN_GRID, LiteEncoder } from '../model/predictor-encoder.js';
import type { FeatureLayout } from '../model/predictor-manifest.js';
import { computeSignals } from '../signals/index.js';

export interface ImageTokenEncoder {
  readonly source: FeatureLayout['imageTokens']['source'];
  readonly tokenGrid: number;
  readonly pack: { name: string; version: string };
  /** [tokenGrid², dim] tokens of one image. */
  encode(image: DecodedImage): Promise<Float32Array>;
  /** Embeds texts with the pack's text encoder; null when the pack has none (lite). */
  embedTexts(texts: readonly string[]): Promise<Float32Array[]> | null;
  close(): Promise<void>;
}

/** Throws AGQ_ERR_PACK_INVALID for a pack that makes no image tokens (a judge pack), and the encoders' load errors. */
export async function loadImageTokenEncoder(pack: LoadedPack, threads: number): Promise<ImageTokenEncoder> {
  const { manifest } = pack;
  const id = { name: manifest.name, version: manifest.version };
  switch (manifest.input.kind) {
    case 'lite-crops': {
      const encoder = await LiteEncoder.load(pack, threads, DEFAULT_TOKEN_GRID);
      return {
        source: 'lite-spatial',
        tokenGrid: DEFAULT_TOKEN_GRID,
        pack: id,
        encode: async (image) => (await encoder.encode(image, computeSignals(image).features)).tokens,
        embedTexts: () => null,
        close: () => encoder.close(),
      };
    }
    case 'clip': {
      const encoder = await ClipEncoder.load(pack, { threads });
      return {
        source: 'clip-image-embedding',
        tokenGrid: 1,
        pack: id,
        encode: async (image) => (await encoder.encodeImages([image]))[0]!,
        embedTexts: (texts) => encoder.encodeTexts(texts),
        close: () => encoder.close(),
      };
    }
    default:
      throw agiqaError('AGQ_ERR_PACK_INVALID', { pack: manifest.name, issues: [`input.kind ${manifest.input.kind} makes no image tokens; use a lite or CLIP-family pack`] });
  }
}
