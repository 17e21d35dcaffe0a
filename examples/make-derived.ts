// Regenerates the degraded copies of the example photos: `npx tsx examples/make-derived.ts`.
// They let `agiqa score examples/` show a sharp photo ranked above its blurred, compressed and noisy copies.
import sharp from 'sharp';
import { fileURLToPath } from 'node:url';

const here = (name: string) => fileURLToPath(new URL(name, import.meta.url));

await sharp(here('coffee.png')).blur(2.5).png().toFile(here('coffee-blurred.png'));
await sharp(here('coffee.png')).jpeg({ quality: 8 }).toFile(here('coffee-jpeg-q8.jpg'));

const { data, info } = await sharp(here('chelsea.png')).raw().toBuffer({ resolveWithObject: true });
// Deterministic Gaussian-like noise (sum of uniforms, σ ≈ 18) so the file is the same on every run.
let seed = 42;
const uniform = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32);
const noisy = Buffer.from(data);
for (let i = 0; i < noisy.length; i++) {
  const n = (uniform() + uniform() + uniform() + uniform() - 2) * 31;
  noisy[i] = Math.max(0, Math.min(255, Math.round(data[i]! + n)));
}
await sharp(noisy, { raw: { width: info.width, height: info.height, channels: info.channels } }).png().toFile(here('chelsea-noisy.png'));
