// Input preparation of `lite-crops` packs: native-resolution square crops, because resizing a whole
// image to 224 px erases the very artifacts (noise, blocking, blur) the quality model must see.
// training/lite/ implements the same plan in Python; change both together.

export interface CropRect {
  left: number;
  top: number;
}

/**
 * Crop origins of `count` crops of `size`² whose centres lie on the main diagonal at fractions
 * (i+1)/(count+1) of width and height, clamped inside the image (count 1 → the centre crop).
 * The image must be at least `size` on both sides (see `fitShortSide`).
 */
export function cropPlan(width: number, height: number, count: number, size: number): CropRect[] {
  const rects: CropRect[] = [];
  for (let i = 0; i < count; i++) {
    const fraction = (i + 1) / (count + 1);
    const left = Math.min(width - size, Math.max(0, Math.round(fraction * width - size / 2)));
    const top = Math.min(height - size, Math.max(0, Math.round(fraction * height - size / 2)));
    rects.push({ left, top });
  }
  return rects;
}

export interface RgbImage {
  rgb: Uint8Array;
  width: number;
  height: number;
}

/** Bilinearly enlarges an image whose short side is below `size` so that it becomes `size`; others are returned as they are. */
export function fitShortSide(image: RgbImage, size: number): RgbImage {
  const short = Math.min(image.width, image.height);
  if (short >= size) return image;
  const scale = size / short;
  const width = Math.max(size, Math.round(image.width * scale));
  const height = Math.max(size, Math.round(image.height * scale));
  const out = new Uint8Array(width * height * 3);
  const { rgb, width: w0, height: h0 } = image;
  for (let y = 0; y < height; y++) {
    // Pixel-centre alignment, as PIL and OpenCV do for bilinear resampling.
    const sy = Math.min(h0 - 1, Math.max(0, (y + 0.5) / scale - 0.5));
    const y0 = Math.floor(sy);
    const y1 = Math.min(h0 - 1, y0 + 1);
    const fy = sy - y0;
    for (let x = 0; x < width; x++) {
      const sx = Math.min(w0 - 1, Math.max(0, (x + 0.5) / scale - 0.5));
      const x0 = Math.floor(sx);
      const x1 = Math.min(w0 - 1, x0 + 1);
      const fx = sx - x0;
      for (let c = 0; c < 3; c++) {
        const a = rgb[(y0 * w0 + x0) * 3 + c]!;
        const b = rgb[(y0 * w0 + x1) * 3 + c]!;
        const d = rgb[(y1 * w0 + x0) * 3 + c]!;
        const e = rgb[(y1 * w0 + x1) * 3 + c]!;
        const top = a + (b - a) * fx;
        const bottom = d + (e - d) * fx;
        out[(y * width + x) * 3 + c] = Math.round(top + (bottom - top) * fy);
      }
    }
  }
  return { rgb: out, width, height };
}

/** The `crops` tensor [count, size, size, 3] (NHWC, RGB, values 0–255) of an image. */
export function cropTensor(image: RgbImage, count: number, size: number): { data: Float32Array; dims: number[] } {
  const fitted = fitShortSide(image, size);
  const rects = cropPlan(fitted.width, fitted.height, count, size);
  const data = new Float32Array(count * size * size * 3);
  const rowLength = size * 3;
  rects.forEach((rect, i) => {
    for (let y = 0; y < size; y++) {
      const src = ((rect.top + y) * fitted.width + rect.left) * 3;
      const dst = (i * size + y) * rowLength;
      for (let k = 0; k < rowLength; k++) data[dst + k] = fitted.rgb[src + k]!;
    }
  });
  return { data, dims: [count, size, size, 3] };
}
