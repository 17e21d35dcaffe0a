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
export { IMAGE_EXTENSIONS, listImageFiles, readImageBytes, readImageFile } from './files.js';
export { readPngText, isPng } from './png-text.js';
export { readExifText, decodeUserComment } from './exif-text.js';
export { svgToPng } from './svg.js';
export { dataUrlOf, encodeForModel, type EncodedForModel } from './encode-for-model.js';
