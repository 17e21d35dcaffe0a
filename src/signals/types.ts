// Shapes shared by the signal modules: the plain RGB input, the luminance planes and tile layouts.

/** 8-bit sRGB, 3 channels interleaved, row-major (what src/image/ produces after decoding). */
export interface SignalImage {
  rgb: Uint8Array;
  width: number;
  height: number;
}

/** A single-channel float plane (luminance in 0..255 levels). */
export interface Plane {
  data: Float32Array;
  width: number;
  height: number;
}

/**
 * Deterministic sampling regions on a plane: `origins` holds x0,y0 pairs; every tile is
 * tileWidth × tileHeight pixels. Origins are multiples of 8 whenever the plane allows it, so
 * statistics inside a tile keep the JPEG 8×8 grid phase of the image.
 */
export interface Tiles {
  origins: Int32Array;
  count: number;
  tileWidth: number;
  tileHeight: number;
}
