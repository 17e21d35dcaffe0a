// Makes the README's dashboard screenshots (docs/images/dashboard-*.png): a real `agiqa serve` (built
// dist/, lite pack) in a throwaway home, the example images and four attempts at one prompt scored over
// HTTP, Debian's chromium through playwright-core. `npm run build` first.
import { mkdirSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import sharp from 'sharp';
import { killServeProcesses, startServeProcess, waitUntilReady } from '../test/e2e/serve-process.js';
import { textChunk, withChunks } from '../test/fixtures/image/png-chunks.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const OUT = join(ROOT, 'docs/images');

async function post(url: string, png: Buffer, query: Record<string, string>): Promise<{ generationId: number }> {
  const response = await fetch(`${url}/v1/score?${new URLSearchParams(query)}`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: new Uint8Array(png) });
  if (!response.ok) throw new Error(`score: HTTP ${response.status} ${await response.text()}`);
  return (await response.json()) as { generationId: number };
}

/** One attempt: a crop of the coffee photo, degraded as a bad sampler setting might, with A1111 parameters. */
async function attempt(prompt: string, seed: number, steps: number, cfg: number, blur: number, shift: number): Promise<Buffer> {
  let image = sharp(join(ROOT, 'examples/coffee.png')).extract({ left: shift, top: 0, width: 320, height: 320 });
  if (blur > 0) image = image.blur(blur);
  const png = await image.png().toBuffer();
  return withChunks(png, [textChunk('parameters', `${prompt}\nNegative prompt: lowres\nSteps: ${steps}, Sampler: Euler a, CFG scale: ${cfg}, Seed: ${seed}, Size: 320x320`)]);
}

const server = await startServeProcess(mkdtempSync(join(tmpdir(), 'agiqa-shots-')));
await waitUntilReady(server);
try {
  for (const name of readdirSync(join(ROOT, 'examples')).filter((file) => /\.(png|jpe?g)$/.test(file)).sort()) await post(server.url, readFileSync(join(ROOT, 'examples', name)), { name, source: 'cli' });
  const prompts = ['a cup of espresso on a (wooden:1.3) table, soft light', 'a cup of espresso on a wooden table, soft light', 'a cup of espresso on a wooden table, soft light, sharp focus', 'a cup of espresso on a wooden table, soft light, sharp focus'];
  let parent: number | undefined;
  let last = 0;
  for (const [index, [blur, steps, cfg]] of ([[7, 12, 11], [4, 20, 7], [1.2, 28, 7], [0, 28, 5.5]] as const).entries()) {
    const png = await attempt(prompts[index]!, 1000 + index * 17, steps, cfg, blur, 40 + index * 6);
    const saved = await post(server.url, png, { name: `espresso-${index + 1}.png`, source: 'comfyui', promptId: `5e7b6a1c-${index}`, node: '9', ...(parent ? { parentId: String(parent) } : {}) });
    parent = saved.generationId;
    last = saved.generationId;
  }
  const browser = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'agiqa-shots-chromium-')), {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1120, height: 640 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  mkdirSync(OUT, { recursive: true });
  const page = await browser.newPage();
  await page.goto(`${server.url}/`);
  await page.waitForFunction(() => document.querySelectorAll('#feed .card img').length >= 9 && [...document.querySelectorAll<HTMLImageElement>('#feed .card img')].slice(0, 8).every((image) => image.complete && image.naturalWidth > 0));
  const feed = await page.screenshot();
  await page.goto(`${server.url}/#/prompt/${last}`);
  await page.setViewportSize({ width: 1120, height: 1000 });
  await page.waitForFunction(() => document.querySelector('#aspect-chart canvas') !== null && [...document.querySelectorAll<HTMLImageElement>('.prompt-view img')].every((image) => image.complete && image.naturalWidth > 0));
  const prompt = await page.screenshot();
  await browser.close();
  for (const [name, shot] of [['dashboard-feed.png', feed], ['dashboard-prompt.png', prompt]] as const) {
    const file = join(OUT, name);
    // A palette PNG: screenshots of a page are mostly flat colour, so this keeps them small in git.
    await sharp(shot).png({ palette: true, quality: 80, effort: 10 }).toFile(file);
    process.stdout.write(`wrote ${file}\n`);
  }
} finally {
  killServeProcesses();
}
