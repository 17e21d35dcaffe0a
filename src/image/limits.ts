// The one set of default image limits: the CLI, the server's config defaults and the decoder all
// read these, so one image is refused (or not) the same way everywhere, with the same code.

export interface ImageLimits {
  /** Largest encoded file accepted, in bytes. */
  maxBytes: number;
  /** Largest width × height accepted, checked on the header before any pixel is decoded. */
  maxPixels: number;
}

/** 8192² — the largest image accepted by default; decoding stays bounded above WORKING_PIXELS. */
export const DEFAULT_MAX_IMAGE_PIXELS = 8192 * 8192;
export const DEFAULT_MAX_IMAGE_BYTES = 32 * 1024 * 1024;

export const DEFAULT_IMAGE_LIMITS: Readonly<ImageLimits> = Object.freeze({
  maxBytes: DEFAULT_MAX_IMAGE_BYTES,
  maxPixels: DEFAULT_MAX_IMAGE_PIXELS,
});
