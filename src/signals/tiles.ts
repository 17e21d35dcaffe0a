// Deterministic tile layouts: native-resolution statistics look at a fixed budget of tiles spread
// evenly over the plane instead of every pixel, so cost stays flat as images grow.
import type { Tiles } from './types.js';

/**
 * Up to `maxTiles` tiles of `size`×`size` (smaller if the plane is smaller), spread evenly over the
 * plane in a grid whose aspect follows the plane's. Same input, same tiles.
 */
export function tileLayout(width: number, height: number, size: number, maxTiles: number): Tiles {
  const tileWidth = Math.min(size, width);
  const tileHeight = Math.min(size, height);
  const fitX = Math.max(1, Math.floor(width / tileWidth));
  const fitY = Math.max(1, Math.floor(height / tileHeight));
  let nx = fitX;
  let ny = fitY;
  if (nx * ny > maxTiles) {
    nx = Math.min(fitX, Math.max(1, Math.round(Math.sqrt((maxTiles * fitX) / fitY))));
    ny = Math.min(fitY, Math.max(1, Math.floor(maxTiles / nx)));
    nx = Math.min(fitX, Math.max(1, Math.floor(maxTiles / ny)));
  }
  const origins = new Int32Array(nx * ny * 2);
  let k = 0;
  for (let j = 0; j < ny; j++) {
    const y0 = spread(j, ny, height - tileHeight);
    for (let i = 0; i < nx; i++) {
      origins[k++] = spread(i, nx, width - tileWidth);
      origins[k++] = y0;
    }
  }
  return { origins, count: nx * ny, tileWidth, tileHeight };
}

// Position i of n spread over [0, span], snapped down to the 8-pixel grid when that stays in range.
function spread(i: number, n: number, span: number): number {
  if (n <= 1 || span <= 0) return 0;
  const p = Math.round((i * span) / (n - 1));
  const snapped = p - (p % 8);
  return snapped >= 0 ? snapped : p;
}
