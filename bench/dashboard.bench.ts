// Dashboard first paint and its queries with 10,000 stored generations against a store of one page
// (48), in the same run: a real `agiqa serve` (built dist/) on each home, Debian's chromium via playwright-core.
// First paint = navigation start → first-contentful-paint; feed painted = → the first page of cards
// in the DOM with the first screen's thumbnails decoded. Runs alternate between the two homes.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { chromium } from 'playwright-core';
import sharp from 'sharp';
import { judge } from '../src/policy/index.js';
import { ThumbnailCache } from '../src/server/thumbnails.js';
import { Store } from '../src/store/index.js';
import { fakeResult } from '../test/fixtures/server/fake-scorer.js';
import { killServeProcesses, startServeProcess, waitUntilReady } from '../test/e2e/serve-process.js';
import { median, writeResults } from './lib.js';

const GENERATIONS = Number(process.env.BENCH_GENERATIONS ?? 10_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const CHROMIUM = '/usr/bin/chromium';
if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);

const FINDINGS = ['strong blur', 'JPEG blocking', 'visible sensor-like noise (σ≈12)', 'colour cast (toward orange)'];

/** A home whose database holds `count` generations over ~count/20 prompts, with thumbnails for the newest page. */
async function filledHome(count: number): Promise<string> {
  const home = mkdtempSync(join(tmpdir(), 'agiqa-bench-dash-'));
  const store = await Store.open(join(home, 'agiqa.db'));
  const thumbnails = new ThumbnailCache({ dir: join(home, 'thumbnails'), store, logger: pino({ level: 'silent' }), maxPixels: 1e7 });
  const policy = { thresholds: { overall: 2.5 } };
  for (let index = 0; index < count; index += 1) {
    const sha = index.toString(16).padStart(64, '0');
    const result = fakeResult({ mos: ((index * 37) % 50) / 10, sha256: sha, prompt: `prompt number ${index % Math.max(1, Math.floor(count / 20))}, detailed` });
    result.findings = FINDINGS.filter((_, f) => (index + f) % 3 === 0).map((text) => ({ aspect: 'quality' as const, code: 'x', text, severity: 'minor' as const }));
    await store.saveScore({ source: index % 3 === 0 ? 'comfyui' : 'api', prompt: result.prompt.text, negativePrompt: null, imageSha256: sha, fileRef: `image-${index}.png`, bytes: 1000, parentId: index > 20 && index % 5 === 0 ? index - 20 : null }, result, judge(result, policy));
    if (index >= count - 48) {
      const png = await sharp({ create: { width: 512, height: 512, channels: 3, background: { r: index % 255, g: 90, b: 160 } } }).png().toBuffer();
      thumbnails.offer(sha, { image: png });
      await thumbnails.settled(); // one at a time: the cache skips images past its pending bound
    }
  }
  await thumbnails.settled();
  store.close();
  return home;
}

async function timeFetch(url: string): Promise<number> {
  const started = performance.now();
  const response = await fetch(url);
  await response.arrayBuffer();
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return performance.now() - started;
}

const fillStarted = performance.now();
const homes = { empty: await filledHome(48), full: await filledHome(GENERATIONS) };
const fillSeconds = (performance.now() - fillStarted) / 1000;
const servers = { empty: await startServeProcess(homes.empty), full: await startServeProcess(homes.full) };
await Promise.all(Object.values(servers).map((served) => waitUntilReady(served)));

const browser = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'agiqa-bench-chromium-')), {
  executablePath: CHROMIUM,
  headless: true,
  viewport: { width: 1280, height: 900 },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

type Sample = { fcp: number; feed: number };
const samples: Record<'empty' | 'full', Sample[]> = { empty: [], full: [] };
const api: Record<'empty' | 'full', Record<string, number[]>> = { empty: {}, full: {} };
const queries = { feed: 'v1/feed?limit=48', 'feed rejects by quality': 'v1/feed?verdict=reject&sort=quality&limit=48', 'feed page 100': 'v1/feed?limit=48&offset=4800', 'prompt view': 'v1/prompts/1' };

for (let run = 0; run < RUNS + 1; run += 1) {
  for (const which of run % 2 === 0 ? (['empty', 'full'] as const) : (['full', 'empty'] as const)) {
    const page = await browser.newPage();
    await page.goto(`${servers[which].url}/`, { waitUntil: 'commit' });
    await page.waitForFunction(() => document.querySelectorAll('#feed .card').length >= 48);
    // The first screen's thumbnails decoded (lazy images below the fold are not counted).
    await page.waitForFunction(() => [...document.querySelectorAll<HTMLImageElement>('#feed .card img')].filter((image) => image.getBoundingClientRect().top < innerHeight).every((image) => image.complete && image.naturalWidth > 0));
    const sample = await page.evaluate(() => ({ fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? Number.NaN, feed: performance.now() }));
    if (run > 0) samples[which].push(sample); // run 0 warms caches on both sides
    await page.close();
    if (run > 0) {
      for (const [name, path] of Object.entries(queries)) (api[which][name] ??= []).push(await timeFetch(`${servers[which].url}/${path}`));
    }
  }
}
await browser.close();
killServeProcesses();

const ms = (value: number) => value.toFixed(0);
const rows: (string | number)[][] = [
  ['first contentful paint', ms(median(samples.empty.map((s) => s.fcp))), ms(median(samples.full.map((s) => s.fcp))), (median(samples.full.map((s) => s.fcp)) / median(samples.empty.map((s) => s.fcp))).toFixed(2)],
  ['feed painted (48 cards, first screen of thumbnails)', ms(median(samples.empty.map((s) => s.feed))), ms(median(samples.full.map((s) => s.feed))), (median(samples.full.map((s) => s.feed)) / median(samples.empty.map((s) => s.feed))).toFixed(2)],
  ...Object.keys(queries).map((name) => {
    const empty = median(api.empty[name]!);
    const full = median(api.full[name]!);
    return [`GET ${queries[name as keyof typeof queries]}`, empty.toFixed(1), full.toFixed(1), (full / empty).toFixed(2)];
  }),
];
const path = await writeResults({
  name: 'dashboard',
  title: `Dashboard: first paint and queries, ${GENERATIONS.toLocaleString('en')} stored generations vs one page (48)`,
  notes: [
    `Real \`agiqa serve\` (built dist/, lite pack) on each home; Debian chromium ${browser.browser()?.version() ?? ''} headless via playwright-core, loopback, 1280×900.`,
    `${RUNS} page loads per home after one warm-up, alternating which home goes first; milliseconds from navigation start, medians.`,
    `Each home: its generations over one prompt per 20 generations (both filled in ${fillSeconds.toFixed(0)} s through the Store), thumbnails (512² PNG sources) for the newest 48; the baseline shows the same page from a store of 48.`,
    'API rows: one request each after every page load, client in the benchmark process, medians in ms.',
  ],
  table: { columns: ['', '48 generations (ms)', `${GENERATIONS} generations (ms)`, 'ratio'], rows },
  raw: { samples, api },
});
process.stdout.write(`${path}\n`);
