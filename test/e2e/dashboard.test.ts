// The dashboard in a real browser: Debian's chromium driven by playwright-core (never a downloaded
// browser) against a real `agiqa serve` on the lite pack. Scores images over HTTP and watches them
// arrive, filters, opens a prompt view of three attempts and reads its chart's points, changes a
// threshold and sees new verdicts follow it, drops the stream and sees it resume. Screenshots go to
// test-artifacts/dashboard/ (not committed). Skipped only where chromium is missing outside CI.
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { killServeProcesses, ROOT, startServeProcess, waitUntilReady, type ServeProcess } from './serve-process.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(ROOT, 'test-artifacts/dashboard');
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env.CI) throw new Error(`${CHROMIUM} is missing: .ci/run installs it (apt-get install -y chromium)`);
if (!haveChromium) console.warn(`dashboard browser test skipped: ${CHROMIUM} is not installed (apt-get install -y chromium); CI runs it`);

let browser: BrowserContext;
let server: ServeProcess;

beforeAll(async () => {
  if (!haveChromium) return;
  if (!existsSync(join(ROOT, 'dist/dashboard/index.html'))) throw new Error('dist/dashboard is missing: run `npm run build` first');
  mkdirSync(ARTIFACTS, { recursive: true });
  server = await startServeProcess(mkdtempSync(join(tmpdir(), 'agiqa-dash-e2e-')));
  await waitUntilReady(server);
  // A fresh profile folder each run (playwright passes it as --user-data-dir).
  browser = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'agiqa-chromium-')), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1200, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

afterAll(async () => {
  await browser?.close();
  killServeProcesses();
});

afterEach(async (context) => {
  // Each test's last state, whatever its outcome, for whoever reads the run.
  const page = pages.pop();
  if (page) await page.screenshot({ path: join(ARTIFACTS, `${context.task.name.replace(/\W+/g, '-')}.png`), fullPage: true }).catch(() => undefined);
});

const pages: Page[] = [];
async function openPage(path = '/'): Promise<Page> {
  const page = await browser.newPage();
  pages.push(page);
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text());
  });
  (page as Page & { problems: string[] }).problems = problems;
  await page.goto(`${server.url}${path}`);
  await page.locator('#status.live').waitFor({ timeout: 15_000 });
  return page;
}

const photo = readFileSync(join(ROOT, 'examples/coffee.png'));

/** A distinct PNG of a real photo, blurred by `sigma` (0 = sharp): the lite pack scores blur lower. */
async function attemptPng(sigma: number, shift: number): Promise<Buffer> {
  let image = sharp(photo).extract({ left: shift, top: 0, width: 256, height: 256 });
  if (sigma > 0) image = image.blur(sigma);
  return image.png().toBuffer();
}

async function score(png: Buffer, query: Record<string, string>): Promise<{ generationId: number; result: { mos: number; aspects: { quality: { mos: number } } }; verdict: { verdict: string } }> {
  const response = await fetch(`${server.url}/v1/score?${new URLSearchParams(query)}`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: new Uint8Array(png) });
  expect(response.status).toBe(200);
  return (await response.json()) as never;
}

describe.skipIf(!haveChromium)('dashboard in chromium', () => {
  it('shows scores arriving live, filters them, and resumes the stream after a drop', async () => {
    const page = await openPage('/');
    const scored = [];
    for (const [index, sigma] of [0, 6, 0.5].entries()) scored.push(await score(await attemptPng(sigma, index * 8), { prompt: `feed test ${index}`, source: 'cli' }));
    await expect.poll(() => page.locator('#feed .card').count(), { timeout: 10_000 }).toBe(3);
    const first = page.locator(`#feed .card[data-id="${scored[1]!.generationId}"]`);
    await expect.poll(async () => Number(await first.getAttribute('data-mos'))).toBeCloseTo(scored[1]!.result.mos, 5);
    expect(await first.locator('.bar[data-aspect="quality"] .bar-fill').count()).toBe(1);
    await expect.poll(() => first.locator('img.thumb').evaluate((image: HTMLImageElement) => image.complete && image.naturalWidth)).toBeGreaterThan(0);

    // Filter: only rejects (the policy's default threshold decides which those are).
    const rejected = scored.filter((entry) => entry.verdict.verdict === 'reject').map((entry) => entry.generationId);
    await page.selectOption('select[name="verdict"]', 'reject');
    await expect.poll(async () => (await page.locator('#feed .card').evaluateAll((cards) => cards.map((card) => Number(card.getAttribute('data-id'))))).sort()).toEqual(rejected.sort());
    await page.selectOption('select[name="verdict"]', '');
    await page.selectOption('select[name="sort"]', 'quality');
    await expect.poll(() => page.locator('#feed .card').evaluateAll((cards) => cards.map((card) => Number(card.getAttribute('data-mos'))))).toEqual([...scored.map((entry) => entry.result.mos)].sort((a, b) => b - a));

    // A dropped stream reconnects with ?since and shows what was stored meanwhile.
    await page.selectOption('select[name="sort"]', 'newest');
    await page.evaluate(() => (window as unknown as { agiqaStream: { drop(): void } }).agiqaStream.drop());
    const late = await score(await attemptPng(1, 40), { prompt: 'scored while disconnected' });
    await expect.poll(() => page.locator(`#feed .card[data-id="${late.generationId}"]`).count(), { timeout: 10_000 }).toBe(1);
    expect((page as Page & { problems: string[] }).problems).toEqual([]);
  });

  it('opens a prompt view of three attempts whose chart has their scores', async () => {
    const prompt = 'a cup of coffee on a wooden table';
    const one = await score(await attemptPng(8, 60), { prompt: `(${prompt}:1.1)` });
    const two = await score(await attemptPng(3, 64), { prompt, parentId: String(one.generationId) });
    const three = await score(await attemptPng(0, 68), { prompt: `${prompt},`, parentId: String(two.generationId) });
    const page = await openPage(`/#/prompt/${three.generationId}`);
    await page.locator('.prompt-view[data-attempts="3"]').waitFor();
    const points = JSON.parse((await page.locator('#aspect-chart').getAttribute('data-points'))!) as (number | null)[][];
    expect(points[0]).toEqual([1, 2, 3]);
    expect(points[1]).toEqual([one, two, three].map((entry) => entry.result.mos));
    expect(points[2]).toEqual([one, two, three].map((entry) => entry.result.aspects.quality.mos));
    // uPlot drew it: a canvas with the chart's size.
    await expect.poll(() => page.locator('#aspect-chart canvas').count()).toBe(1);
    const best = [one, two, three].reduce((top, entry) => (entry.result.mos > top.result.mos ? entry : top));
    if ([one, two, three].some((entry) => entry.verdict.verdict === 'accept')) {
      const accepted = [one, two, three].filter((entry) => entry.verdict.verdict === 'accept').reduce((top, entry) => (entry.result.mos > top.result.mos ? entry : top));
      expect(Number(await page.locator('figure.best').getAttribute('data-id'))).toBe(accepted.generationId);
    } else {
      expect(Number(await page.locator('figure.best').getAttribute('data-id'))).toBe(best.generationId);
    }
    expect(await page.locator('.attempts tbody tr').count()).toBe(3);
    expect((await page.locator('.attempts .diff del').allTextContents()).join('')).toMatch(/1\.1/);
    if (!existsSync(join(ARTIFACTS, 'prompt-view.png'))) await page.screenshot({ path: join(ARTIFACTS, 'prompt-view.png') });
    expect((page as Page & { problems: string[] }).problems).toEqual([]);
  });

  it('changes a threshold in the settings form and new verdicts follow it', async () => {
    const page = await openPage('/#/settings');
    await page.fill('input[name="threshold-overall"]', '4.9');
    await page.click('button[type="submit"]');
    await page.locator('.message.ok').waitFor();
    const strict = await score(await attemptPng(0, 80), { prompt: 'strict threshold' });
    expect(strict.verdict.verdict).toBe('reject');

    await page.fill('input[name="threshold-overall"]', '0.5');
    await page.click('button[type="submit"]');
    await page.locator('.message.ok').waitFor();
    const lenient = await score(await attemptPng(0, 84), { prompt: 'lenient threshold' });
    expect(lenient.verdict.verdict).toBe('accept');

    // The server's validation reaches the form: quarantine without ComfyUI's output folder.
    await page.click('text=Add a ComfyUI');
    await page.fill('.target input[name="url"]', 'http://127.0.0.1:9');
    await page.check('.target input[name="quarantine"]');
    await page.click('button[type="submit"]');
    await expect.poll(() => page.locator('.message.error').textContent()).toMatch(/outputDir/);

    await page.goto(`${server.url}/#/`);
    await expect.poll(() => page.locator(`#feed .card[data-id="${strict.generationId}"] .verdict`).getAttribute('data-verdict')).toBe('reject');
    await expect.poll(() => page.locator(`#feed .card[data-id="${lenient.generationId}"] .verdict`).getAttribute('data-verdict')).toBe('accept');
    // The refused PUT is the only thing the console reports.
    expect((page as Page & { problems: string[] }).problems.filter((text) => !/status of 400/.test(text))).toEqual([]);
  });

  it("draws the detector's boxes over the thumbnail where the object is", async () => {
    const page = await openPage('/');
    // scene-0011: one horse at x 207-566, y 48-295 of a 640×480 picture (test/fixtures/detection/truth.jsonl).
    const scene = readFileSync(join(ROOT, 'test/fixtures/detection/scene-0011.jpg'));
    const response = await fetch(`${server.url}/v1/score?${new URLSearchParams({ prompt: 'a photo of a horse' })}`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: new Uint8Array(scene) });
    const { generationId } = (await response.json()) as { generationId: number };
    const card = page.locator(`#feed .card[data-id="${generationId}"]`);
    await card.waitFor({ timeout: 10_000 });
    const horse = card.locator('svg.boxes g.box[data-label="horse"] rect').first();
    await horse.waitFor();
    const [x, y, width, height] = await Promise.all(['x', 'y', 'width', 'height'].map(async (name) => Number(await horse.getAttribute(name))));
    expect(Math.abs(x! - 207)).toBeLessThan(40);
    expect(Math.abs(x! + width! - 566)).toBeLessThan(40);
    expect(Math.abs(y! - 48)).toBeLessThan(40);
    expect(Math.abs(y! + height! - 295)).toBeLessThan(40);
    expect(await card.locator('svg.boxes').getAttribute('viewBox')).toBe('0 0 640 480');
    // The overlay covers the thumbnail exactly (same box on the page).
    const [image, overlay] = await Promise.all([card.locator('img.thumb').boundingBox(), card.locator('svg.boxes').boundingBox()]);
    expect(overlay).toEqual(image);
    // A card without boxes draws none.
    const plain = await score(await attemptPng(0, 90), { prompt: 'a castle' });
    await page.locator(`#feed .card[data-id="${plain.generationId}"]`).waitFor();
    expect(await page.locator(`#feed .card[data-id="${plain.generationId}"] svg.boxes`).count()).toBe(0);
  });
});
