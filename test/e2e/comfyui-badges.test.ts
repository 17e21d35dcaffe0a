// The ComfyUI badge extension (plugin-manifest/comfyui/web/js) in chromium, on stand-ins of ComfyUI's
// app.js and api.js (the real front end is not installable offline): the badge is drawn in the title
// bar on a real canvas at several zoom levels, a node's own scores stay with its workflow and are
// cleared at a run's start, and badges (and the detector's boxes) for shown files come from one batched
// lookup after a load.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from './serve-process.js';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env.CI) throw new Error(`${CHROMIUM} is missing: .ci/run installs it (apt-get install -y chromium)`);

const lookups: unknown[] = [];
let server: Server;
let url: string;
let browser: BrowserContext;

const FILES: Record<string, string> = {
  '/scripts/app.js': join(ROOT, 'test/fixtures/comfyui-frontend/app.js'),
  '/scripts/api.js': join(ROOT, 'test/fixtures/comfyui-frontend/api.js'),
  '/extensions/agiqa/js/agiqa.js': join(ROOT, 'plugin-manifest/comfyui/web/js/agiqa.js'),
  '/extensions/agiqa/js/agiqa-badges.js': join(ROOT, 'plugin-manifest/comfyui/web/js/agiqa-badges.js'),
};

beforeAll(async () => {
  if (!haveChromium) return;
  server = createServer((request, response) => {
    if (request.method === 'POST' && request.url === '/agiqa/verdicts') {
      let body = '';
      request.on('data', (chunk) => (body += String(chunk)));
      request.on('end', () => {
        const { files } = JSON.parse(body) as { files: { filename: string }[] };
        lookups.push(files);
        // What the node pack answers: the stored verdict of files the bridge scored, null for others.
        // ComfyUI_00042_.png carries the detector's boxes: a 240×90 image with a dog at (20, 10) 100×50.
        const boxes = { image: { width: 240, height: 90 }, detections: [{ label: 'dog', score: 0.8, box: { x: 20, y: 10, width: 100, height: 50 } }] };
        const verdicts = files.map((file) => (file.filename === 'ComfyUI_00042_.png' ? { ...file, generation_id: 1, rank: 1, mos: 3.41, level: 'good', verdict: 'accept', ...boxes } : null));
        response.setHeader('content-type', 'application/json');
        response.end(JSON.stringify({ verdicts }));
      });
      return;
    }
    const file = FILES[request.url ?? ''];
    if (request.url === '/') {
      response.setHeader('content-type', 'text/html');
      response.end('<!doctype html><canvas id="c" width="600" height="400"></canvas><script type="module">import "/extensions/agiqa/js/agiqa.js"; window.ready = true;</script>');
    } else if (file) {
      response.setHeader('content-type', 'text/javascript');
      response.end(readFileSync(file));
    } else {
      response.statusCode = 404;
      response.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'agiqa-chromium-badges-')), {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

afterAll(async () => {
  await browser?.close();
  server?.close();
});

async function open(): Promise<Page> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`${url}/`);
  await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true);
  // The extension's hooks, as ComfyUI calls them: setup, then per node type and per node.
  await page.evaluate(() => {
    const w = window as unknown as { comfyApp: any; nodeType: any };
    const extension = w.comfyApp.extensions[0];
    extension.setup();
    function NodeType(this: any) {}
    NodeType.prototype.onExecuted = function () {};
    void extension.beforeRegisterNodeDef(NodeType);
    w.nodeType = NodeType;
  });
  expect(errors).toEqual([]);
  return page;
}

/** Makes a node of `graphId`, draws it with its origin at (100, 100) under `zoom`, and tells where the badge's colour is. */
async function draw(page: Page, setup: { graphId: string; id: number; images?: unknown[]; executed?: unknown; zoom: number; clearFirst?: boolean; event?: string }) {
  return page.evaluate((options) => {
    const w = window as unknown as { comfyApp: any; comfyApi: any; nodeType: any; LiteGraph?: unknown };
    const node = new w.nodeType();
    Object.assign(node, { id: options.id, graph: { id: options.graphId }, size: [240, 120], images: options.images, flags: {} });
    w.comfyApp.extensions[0].nodeCreated(node);
    if (options.executed) node.onExecuted(options.executed);
    if (options.event) w.comfyApi.dispatch(options.event, {});
    const canvas = document.getElementById('c') as HTMLCanvasElement;
    const ctx = canvas.getContext('2d')!;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.setTransform(options.zoom, 0, 0, options.zoom, 100, 100);
    node.onDrawForeground(ctx);
    // Rows (in node coordinates) holding the badge's opaque pixels.
    const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    const rows = new Set<number>();
    for (let y = 0; y < canvas.height; y += 1) for (let x = 0; x < canvas.width; x += 1) if (data[(y * canvas.width + x) * 4 + 3]! > 0) rows.add(Math.floor((y - 100) / options.zoom));
    return rows.size === 0 ? null : { top: Math.min(...rows), bottom: Math.max(...rows) };
  }, setup);
}

const saved = { filename: 'ComfyUI_00042_.png', subfolder: '', type: 'output' };
const summary = { index: 0, mos: 4.25, level: 'excellent', aspects: {}, verdict: 'accept' };

describe.skipIf(!haveChromium)('ComfyUI badges in chromium (stand-in front end)', () => {
  it('draws the badge inside the title bar, above the first slot row, at every zoom', async () => {
    const page = await open();
    for (const zoom of [0.5, 1, 1.5, 2.5]) {
      const rows = await draw(page, { graphId: 'workflow-a', id: 12, executed: { agiqa: [summary] }, zoom });
      expect(rows).not.toBeNull();
      // LiteGraph's title bar is the 30 px above the node's origin; the first slot row starts at y = 0.
      expect(rows!.top).toBeGreaterThanOrEqual(-30);
      expect(rows!.bottom).toBeLessThan(0);
    }
  });

  it("keeps a node's own scores to its workflow, and clears them when a run starts", async () => {
    const page = await open();
    expect(await draw(page, { graphId: 'workflow-a', id: 8, executed: { agiqa: [summary] }, zoom: 1 })).not.toBeNull();
    // The same node id in another workflow (the untouched default workflow's VAE Decode is node 8).
    expect(await draw(page, { graphId: 'workflow-b', id: 8, zoom: 1 })).toBeNull();
    expect(await draw(page, { graphId: 'workflow-a', id: 8, zoom: 1, event: 'execution_start' })).toBeNull();
  });

  it('asks for the verdicts of every shown file in one request after a load, and badges the known ones', async () => {
    const page = await open();
    lookups.length = 0;
    await page.evaluate((files) => {
      const w = window as unknown as { comfyApp: any };
      const nodes = [{ id: 9, images: [files[0]] }, { id: 10, images: [files[1], files[0]] }, { id: 11 }];
      void w.comfyApp.loadGraphData({ id: 'workflow-c', nodes, setDirtyCanvas() {} });
    }, [saved, { filename: 'ComfyUI_00043_.png', subfolder: '', type: 'output' }]);
    await expect.poll(() => lookups.length).toBe(1);
    expect(lookups[0]).toEqual([saved, { filename: 'ComfyUI_00043_.png', subfolder: '', type: 'output' }]);
    await expect.poll(() => draw(page, { graphId: 'workflow-c', id: 9, images: [saved], zoom: 1 })).not.toBeNull();
    // Its boxes are drawn over the preview: the 240×90 image fits the 240×120 node centred (15 px bands),
    // so the dog's box spans rows 25–75 below the badge.
    const rows = (await draw(page, { graphId: 'workflow-c', id: 9, images: [saved], zoom: 1 }))!;
    expect(rows.top).toBeLessThan(0);
    expect(Math.abs(rows.bottom - 75)).toBeLessThanOrEqual(2);
    expect(await draw(page, { graphId: 'workflow-c', id: 13, images: [{ filename: 'ComfyUI_00043_.png', subfolder: '', type: 'output' }], zoom: 1 })).toBeNull();
  });
});
