// Names the colour of an object from the pixels of its box: each pixel is converted to CIELAB and
// named by the nearest of a few prototypes of the 11 basic colour terms (Berlin & Kay), and the names
// are counted in a histogram weighted towards the box centre, where the object is (the box corners
// are mostly background). The box's colour is the histogram's mode; callers may also read the shares.

export const COLOUR_NAMES = ['black', 'white', 'grey', 'red', 'orange', 'yellow', 'green', 'blue', 'purple', 'pink', 'brown'] as const;
export type ColourName = (typeof COLOUR_NAMES)[number];

// sRGB prototypes per term: the focal colour and the shades people still call by that name. The
// mapping is tested colour by colour (test/signals/box-colour.test.ts); change both together.
const PROTOTYPES: Record<ColourName, [number, number, number][]> = {
  black: [[0, 0, 0], [35, 35, 40]],
  white: [[255, 255, 255], [235, 235, 228], [220, 225, 235]],
  grey: [[128, 128, 128], [90, 92, 95], [175, 175, 175], [150, 145, 140]],
  red: [[255, 0, 0], [205, 25, 30], [150, 15, 20], [225, 60, 50], [180, 30, 60]],
  orange: [[255, 140, 0], [255, 165, 0], [235, 115, 35], [250, 150, 80]],
  yellow: [[255, 255, 0], [255, 220, 0], [245, 235, 120], [230, 200, 40], [250, 240, 170]],
  green: [[0, 128, 0], [0, 200, 0], [100, 180, 60], [40, 90, 40], [150, 200, 100], [0, 150, 110], [110, 130, 50]],
  blue: [[0, 0, 255], [30, 80, 200], [0, 0, 128], [100, 150, 230], [135, 200, 235], [0, 140, 200], [40, 60, 110], [0, 190, 230], [25, 25, 112]],
  purple: [[128, 0, 128], [150, 60, 200], [85, 40, 130], [180, 130, 220], [110, 50, 110]],
  pink: [[255, 192, 203], [255, 105, 180], [230, 140, 170], [240, 80, 160], [250, 170, 190]],
  brown: [[139, 69, 19], [110, 70, 40], [160, 110, 60], [85, 55, 35], [165, 120, 80], [120, 85, 60]],
};

const LINEAR = Float64Array.from({ length: 256 }, (_, v) => {
  const c = v / 255;
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
});

/** sRGB (0–255) → CIELAB (D65). */
export function srgbToLab(r: number, g: number, b: number): [number, number, number] {
  const R = LINEAR[r]!;
  const G = LINEAR[g]!;
  const B = LINEAR[b]!;
  const x = (0.4124564 * R + 0.3575761 * G + 0.1804375 * B) / 0.95047;
  const y = 0.2126729 * R + 0.7151522 * G + 0.072175 * B;
  const z = (0.0193339 * R + 0.119192 * G + 0.9503041 * B) / 1.08883;
  const f = (t: number) => (t > 216 / 24389 ? Math.cbrt(t) : (24389 / 27 * t + 16) / 116);
  const fx = f(x);
  const fy = f(y);
  const fz = f(z);
  return [116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)];
}

const PROTOTYPE_LAB = COLOUR_NAMES.flatMap((name, index) => PROTOTYPES[name].map(([r, g, b]) => ({ index, lab: srgbToLab(r, g, b) })));

// Naming a colour depends on all three channels; 5 bits each keeps the table at 32 KB and the error
// far below the distance between prototypes.
const NAME_BY_RGB555 = (() => {
  const table = new Uint8Array(32 * 32 * 32);
  for (let r = 0; r < 32; r++)
    for (let g = 0; g < 32; g++)
      for (let b = 0; b < 32; b++) {
        const [L, A, B] = srgbToLab((r << 3) | 4, (g << 3) | 4, (b << 3) | 4);
        let best = 0;
        let bestDistance = Infinity;
        for (const p of PROTOTYPE_LAB) {
          // Lightness counts half: a shade of a hue keeps its name longer than its hue does.
          const d = 0.5 * (L - p.lab[0]) ** 2 + (A - p.lab[1]) ** 2 + (B - p.lab[2]) ** 2;
          if (d < bestDistance) [best, bestDistance] = [p.index, d];
        }
        table[(r << 10) | (g << 5) | b] = best;
      }
  return table;
})();

/** The basic colour term of one sRGB pixel. */
export function nameColour(r: number, g: number, b: number): ColourName {
  return COLOUR_NAMES[NAME_BY_RGB555[((r >> 3) << 10) | ((g >> 3) << 5) | (b >> 3)]!]!;
}

export interface BoxColour {
  colour: ColourName;
  /** Share of each term in the centre-weighted histogram (sums to 1). */
  shares: Record<ColourName, number>;
}

// At most this many pixels are read per box (a regular grid), so a full-frame box costs the same as a small one.
const MAX_SAMPLES = 4096;

/**
 * The colour histogram of a box of an RGB image. Pixels are weighted by a tent that is 1 at the box
 * centre and 0 at its edges in each direction. Throws RangeError for an empty box.
 */
export function boxColour(image: { rgb: Uint8Array; width: number; height: number }, box: { x1: number; y1: number; x2: number; y2: number }): BoxColour {
  const x1 = Math.max(0, Math.floor(box.x1));
  const y1 = Math.max(0, Math.floor(box.y1));
  const x2 = Math.min(image.width, Math.ceil(box.x2));
  const y2 = Math.min(image.height, Math.ceil(box.y2));
  if (x2 <= x1 || y2 <= y1) throw new RangeError(`Expected a box inside the image but received ${JSON.stringify(box)}`);
  const step = Math.max(1, Math.sqrt(((x2 - x1) * (y2 - y1)) / MAX_SAMPLES));
  const weights = new Float64Array(COLOUR_NAMES.length);
  const cx = (x1 + x2) / 2;
  const cy = (y1 + y2) / 2;
  const hw = (x2 - x1) / 2;
  const hh = (y2 - y1) / 2;
  for (let fy = y1 + step / 2; fy < y2; fy += step) {
    const y = Math.floor(fy);
    const wy = 1 - Math.abs(y + 0.5 - cy) / hh;
    for (let fx = x1 + step / 2; fx < x2; fx += step) {
      const x = Math.floor(fx);
      const w = wy * (1 - Math.abs(x + 0.5 - cx) / hw);
      if (w <= 0) continue;
      const p = (y * image.width + x) * 3;
      weights[NAME_BY_RGB555[((image.rgb[p]! >> 3) << 10) | ((image.rgb[p + 1]! >> 3) << 5) | (image.rgb[p + 2]! >> 3)]!]! += w;
    }
  }
  const total = weights.reduce((a, b) => a + b, 0) || 1;
  const shares = Object.fromEntries(COLOUR_NAMES.map((name, i) => [name, weights[i]! / total])) as Record<ColourName, number>;
  const colour = COLOUR_NAMES.reduce((best, name) => (shares[name] > shares[best] ? name : best), COLOUR_NAMES[0]);
  return { colour, shares };
}
