import { describe, expect, it } from 'vitest';
import { scatterSvg } from '../../src/evaluation/scatter-plot.js';
import { svgToPng } from '../../src/image/index.js';

describe('scatterSvg', () => {
  it('draws one dot per pair, the diagonal, the fitted curve and escaped titles', async () => {
    const svg = scatterSvg(
      [
        { title: 'quality <q>', predicted: [1, 2, 3], mos: [1.5, 2.5, 2.9], logistic: [3, 1, 2.5, 0.2, 1], caption: 'SRCC 1.000' },
        { title: 'correspondence', predicted: [4, 9], mos: [4, -1] },
      ],
      { title: 'pack & data' },
    );
    expect(svg.match(/<circle /g)).toHaveLength(5);
    expect(svg.match(/<polyline /g)).toHaveLength(1);
    expect(svg).toContain('quality &lt;q&gt;');
    expect(svg).toContain('pack &amp; data');
    expect(svg).toContain('width="720"');
    const png = await svgToPng(svg);
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
  });

  it('keeps out-of-range points on the border of the 0–5 axes', () => {
    const svg = scatterSvg([{ title: 'q', predicted: [9], mos: [-3] }]);
    // x = 5 → right edge (48 + 296), y = 0 → bottom edge (40 + 268)
    expect(svg).toContain('cx="344.0" cy="308.0"');
  });
});
