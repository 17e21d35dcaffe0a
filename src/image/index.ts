// Image input: the only importer of sharp. Decoding to RGB, size caps, file discovery, embedded prompts.
export {
  ALPHA_BACKGROUND,
  checkImageSize,
  configureDecoderForWorkers,
  decodeImage,
  DEFAULT_IMAGE_LIMITS,
  readEmbeddedMetadata,
  type DecodedImage,
  type DecodeOptions,
  type EmbeddedMetadata,
  type ImageFormat,
  type ImageLimits,
} from './decode.js';
export { checkRawLayout, rawPixelsSha256, rawPixelsToImage, RAW_CHANNELS, type RawPixels } from './raw-pixels.js';
export { fileKind, IMAGE_EXTENSIONS, listImageFiles, readImageBytes, readImageFile, readRegularFile, type ReadFileOptions } from './files.js';
export { isPng, MAX_METADATA_TEXT_BYTES, readPngText, withoutTextChunks, type PngText } from './png-text.js';
export { readExifText, decodeUserComment } from './exif-text.js';
export { svgToPng } from './svg.js';
export { boxesSvg, drawBoxes, type OverlayBox } from './box-overlay.js';
export { dataUrlOf, encodeForModel, type EncodedForModel } from './encode-for-model.js';
export { makePreview, type ImagePreview } from './thumbnail.js';
export { decodedFrameSha256, savedGenerationId, SAVED_SCORE_CHUNK } from './saved-marker.js';
