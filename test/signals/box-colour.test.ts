// Colour naming of detected boxes: the pixel → basic-term mapping on reference colours, CIELAB
// against published values, and the centre-weighted histogram of a box with background in it.
import { describe, expect, it } from 'vitest';
import { boxColour, nameColour, srgbToLab, type ColourName } from '../../src/signals/box-colour.js';

function image(width: number, height: number, paint: (x: number, y: number) => [number, number, number]) {
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) rgb.set(paint(x, y), (y * width + x) * 3);
  return { rgb, width, height };
}

describe('srgbToLab', () => {
  it('matches the CIELAB (D65) of reference colours', () => {
    const close = (got: number[], want: number[]) => got.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 1));
    close(srgbToLab(255, 255, 255), [100, 0, 0]);
    close(srgbToLab(0, 0, 0), [0, 0, 0]);
    close(srgbToLab(255, 0, 0), [53.24, 80.09, 67.2]);
    close(srgbToLab(0, 0, 255), [32.3, 79.19, -107.86]);
  });
});

describe('nameColour', () => {
  // CSS named colours whose basic term English speakers agree on.
  const cases: [string, [number, number, number], ColourName][] = [
    ['red', [255, 0, 0], 'red'], ['crimson', [220, 20, 60], 'red'], ['darkred', [139, 0, 0], 'red'], ['firebrick', [178, 34, 34], 'red'],
    ['orange', [255, 165, 0], 'orange'], ['darkorange', [255, 140, 0], 'orange'], ['coral', [255, 127, 80], 'orange'],
    ['yellow', [255, 255, 0], 'yellow'], ['gold', [255, 215, 0], 'yellow'], ['khaki', [240, 230, 140], 'yellow'],
    ['green', [0, 128, 0], 'green'], ['lime', [0, 255, 0], 'green'], ['forestgreen', [34, 139, 34], 'green'], ['darkgreen', [0, 100, 0], 'green'], ['yellowgreen', [154, 205, 50], 'green'],
    ['blue', [0, 0, 255], 'blue'], ['navy', [0, 0, 128], 'blue'], ['skyblue', [135, 206, 235], 'blue'], ['royalblue', [65, 105, 225], 'blue'], ['steelblue', [70, 130, 180], 'blue'], ['midnightblue', [25, 25, 112], 'blue'],
    ['purple', [128, 0, 128], 'purple'], ['violet', [238, 130, 238], 'purple'], ['orchid', [218, 112, 214], 'purple'], ['plum', [221, 160, 221], 'purple'],
    ['pink', [255, 192, 203], 'pink'], ['hotpink', [255, 105, 180], 'pink'], ['lightpink', [255, 182, 193], 'pink'],
    ['brown', [139, 69, 19], 'brown'], ['sienna', [160, 82, 45], 'brown'], ['tan', [210, 180, 140], 'brown'],
    ['black', [0, 0, 0], 'black'], ['white', [255, 255, 255], 'white'], ['ivory', [255, 255, 240], 'white'],
    ['grey', [128, 128, 128], 'grey'], ['silver', [192, 192, 192], 'grey'], ['dimgray', [105, 105, 105], 'grey'],
  ];
  it.each(cases)('names %s as %s', (_name, rgb, want) => {
    expect(nameColour(...rgb)).toBe(want);
  });
});

describe('boxColour', () => {
  it('names the object in the middle of its box, not the background in its corners', () => {
    // A red disc filling the middle of a white frame: about half the box's pixels are white.
    const img = image(100, 100, (x, y) => ((x - 50) ** 2 + (y - 50) ** 2 < 35 ** 2 ? [200, 20, 30] : [255, 255, 255]));
    const c = boxColour(img, { x1: 0, y1: 0, x2: 100, y2: 100 });
    expect(c.colour).toBe('red');
    expect(c.shares.red).toBeGreaterThan(0.7);
    expect(c.shares.white).toBeLessThan(0.3);
    expect(Object.values(c.shares).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
  });

  it('reads only the box, sampling a huge box on a bounded grid', () => {
    const img = image(2000, 1000, (x) => (x < 1000 ? [0, 0, 200] : [250, 220, 0]));
    expect(boxColour(img, { x1: 1000, y1: 0, x2: 2000, y2: 1000 }).colour).toBe('yellow');
    expect(boxColour(img, { x1: 0, y1: 0, x2: 1000, y2: 1000 }).colour).toBe('blue');
  });

  it('refuses an empty box', () => {
    const img = image(10, 10, () => [0, 0, 0]);
    expect(() => boxColour(img, { x1: 5, y1: 5, x2: 5, y2: 9 })).toThrow(RangeError);
  });
});
