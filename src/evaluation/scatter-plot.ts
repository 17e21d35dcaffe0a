// Draws predicted MOS against ground-truth MOS as an SVG string, one panel per aspect, with the
// diagonal and the fitted logistic curve: a picture shows bias and saturation a coefficient hides.
import { logistic5 } from './logistic-fit.js';

export interface ScatterPanel {
  title: string;
  predicted: readonly number[];
  mos: readonly number[];
  /** The fitted logistic mapping predicted → MOS, drawn as a curve when given. */
  logistic?: readonly number[] | null | undefined;
  /** One line under the title, e.g. "SRCC 0.812 · PLCC 0.834". */
  caption?: string | undefined;
}

const PANEL = 360;
const MARGIN = { left: 48, right: 16, top: 40, bottom: 52 };

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** An SVG document of the panels side by side, both axes on MOS 0–5. */
export function scatterSvg(panels: readonly ScatterPanel[], options: { title?: string } = {}): string {
  const width = Math.max(1, panels.length) * PANEL;
  const headline = options.title === undefined ? 0 : 24;
  const height = PANEL + headline;
  const plotW = PANEL - MARGIN.left - MARGIN.right;
  const plotH = PANEL - MARGIN.top - MARGIN.bottom;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, Arial, sans-serif">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
  ];
  if (options.title !== undefined) {
    parts.push(`<text x="${width / 2}" y="18" font-size="14" text-anchor="middle" fill="#111">${escapeXml(options.title)}</text>`);
  }
  panels.forEach((panel, index) => {
    const ox = index * PANEL + MARGIN.left;
    const oy = headline + MARGIN.top;
    // MOS 0–5 on both axes, clamped so an outlier stays visible on the border.
    const sx = (v: number) => ox + (Math.min(5, Math.max(0, v)) / 5) * plotW;
    const sy = (v: number) => oy + plotH - (Math.min(5, Math.max(0, v)) / 5) * plotH;
    parts.push(`<g>`);
    parts.push(`<text x="${ox + plotW / 2}" y="${oy - 22}" font-size="13" text-anchor="middle" fill="#111">${escapeXml(panel.title)}</text>`);
    if (panel.caption !== undefined) {
      parts.push(`<text x="${ox + plotW / 2}" y="${oy - 7}" font-size="11" text-anchor="middle" fill="#444">${escapeXml(panel.caption)}</text>`);
    }
    parts.push(`<rect x="${ox}" y="${oy}" width="${plotW}" height="${plotH}" fill="none" stroke="#888"/>`);
    for (let tick = 0; tick <= 5; tick++) {
      parts.push(`<line x1="${sx(tick)}" y1="${oy + plotH}" x2="${sx(tick)}" y2="${oy + plotH + 4}" stroke="#888"/>`);
      parts.push(`<text x="${sx(tick)}" y="${oy + plotH + 16}" font-size="10" text-anchor="middle" fill="#444">${tick}</text>`);
      parts.push(`<line x1="${ox - 4}" y1="${sy(tick)}" x2="${ox}" y2="${sy(tick)}" stroke="#888"/>`);
      parts.push(`<text x="${ox - 7}" y="${sy(tick) + 3}" font-size="10" text-anchor="end" fill="#444">${tick}</text>`);
    }
    parts.push(`<text x="${ox + plotW / 2}" y="${oy + plotH + 34}" font-size="11" text-anchor="middle" fill="#222">predicted MOS</text>`);
    parts.push(
      `<text x="${ox - 34}" y="${oy + plotH / 2}" font-size="11" text-anchor="middle" fill="#222" transform="rotate(-90 ${ox - 34} ${oy + plotH / 2})">ground-truth MOS</text>`,
    );
    parts.push(`<line x1="${sx(0)}" y1="${sy(0)}" x2="${sx(5)}" y2="${sy(5)}" stroke="#bbb" stroke-dasharray="4 3"/>`);
    const n = Math.min(panel.predicted.length, panel.mos.length);
    // Many points overlap on large datasets; smaller, fainter dots keep density readable.
    const radius = n > 2000 ? 1.2 : n > 300 ? 1.8 : 2.6;
    const opacity = n > 2000 ? 0.35 : 0.6;
    for (let i = 0; i < n; i++) {
      parts.push(`<circle cx="${sx(panel.predicted[i]!).toFixed(1)}" cy="${sy(panel.mos[i]!).toFixed(1)}" r="${radius}" fill="#1f6fb4" fill-opacity="${opacity}"/>`);
    }
    if (panel.logistic) {
      const b = panel.logistic;
      const points: string[] = [];
      for (let step = 0; step <= 100; step++) {
        const x = (step / 100) * 5;
        const y = logistic5(x, b);
        if (Number.isFinite(y)) points.push(`${sx(x).toFixed(1)},${sy(y).toFixed(1)}`);
      }
      parts.push(`<polyline points="${points.join(' ')}" fill="none" stroke="#d2461e" stroke-width="1.5"/>`);
    }
    parts.push(`</g>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}
