// `pull` against hub endpoints on this machine: a closed port and a silent server (offline: fails
// fast with the manual-download way out), and a local server in the hub's URL layout serving the
// tiny CLIP (the whole pull: progress, pack.json with hashes, resume after a failed file).
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadPack } from '../../../src/model/packs.js';
import { manualDownloadInstructions, pullPack, type PullProgress } from '../../../src/model/clip/hub-pull.js';
import { KNOWN_PACKS, packFilesOf } from '../../../src/model/clip/known-packs.js';
import { tempHome, TINY_CLIP, TINY_CLIP_DIR } from '../../fixtures/tiny-clip/install.js';
import { closedPort } from '../../fixtures/closed-port.js';

const catalogue = [TINY_CLIP, { ...TINY_CLIP, name: 'restricted', restrictedLicense: true, license: 'research-only' }];
const servers: Server[] = [];

async function listen(server: Server): Promise<string> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

/** A hub in the Hugging Face URL layout (`/<repo>/resolve/main/<file>`) serving the tiny CLIP. */
function fakeHub(options: { failOnce?: string } = {}) {
  const requests: string[] = [];
  let failed = false;
  const server = createServer(async (req, res) => {
    const prefix = `/${TINY_CLIP.repo}/resolve/main/`;
    const url = decodeURIComponent(req.url ?? '');
    requests.push(`${req.method} ${url}`);
    const file = url.startsWith(prefix) ? url.slice(prefix.length) : '';
    if (!packFilesOf(TINY_CLIP).includes(file)) {
      res.writeHead(404).end('Entry not found');
      return;
    }
    if (options.failOnce === file && !failed && req.method === 'GET' && req.headers.range === undefined) {
      failed = true;
      res.writeHead(500).end('boom');
      return;
    }
    const body = await readFile(join(TINY_CLIP_DIR, file));
    res.writeHead(200, { 'content-length': String(body.length), 'content-type': 'application/octet-stream' });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  return { server, requests };
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

describe('pullPack offline', () => {
  it('fails fast with AGQ_ERR_PACK_PULL_OFFLINE when the hub port is closed', async () => {
    const home = await tempHome();
    const host = await closedPort();
    await expect(pullPack('tiny-clip', { home, catalogue, remoteHost: host, connectTimeoutMs: 2000 })).rejects.toMatchObject({
      code: 'AGQ_ERR_PACK_PULL_OFFLINE',
      message: expect.stringMatching(new RegExp(`^Cannot reach ${host} to pull "tiny-clip" \\(ECONNREFUSED`)),
    });
  });

  it('gives up on a hub that accepts the connection but never answers, after the connect timeout', async () => {
    const host = await listen(createServer(() => {}));
    await expect(pullPack('tiny-clip', { home: await tempHome(), catalogue, remoteHost: host, connectTimeoutMs: 200 })).rejects.toMatchObject({
      code: 'AGQ_ERR_PACK_PULL_OFFLINE',
      message: expect.stringContaining('no answer within 200 ms'),
    });
  });

  it('tells the user which files to download by hand, from where, into which folder', () => {
    const pack = KNOWN_PACKS[0]!;
    const lines = manualDownloadInstructions(pack, '/home/u/.agiqa');
    expect(lines.join('\n')).toContain('/home/u/.agiqa/models/clip-vit-b32/');
    expect(lines.join('\n')).toContain('https://huggingface.co/Xenova/clip-vit-base-patch32/resolve/main/onnx/vision_model_quantized.onnx');
    expect(lines.at(-1)).toBe('then run: agiqa models verify clip-vit-b32');
  });
});

describe('pullPack refusals', () => {
  it('refuses unknown names and restricted licenses not accepted, before any network', async () => {
    await expect(pullPack('nope', { catalogue })).rejects.toMatchObject({ code: 'AGQ_ERR_PACK_UNKNOWN' });
    await expect(pullPack('restricted', { catalogue, remoteHost: await closedPort() })).rejects.toMatchObject({ code: 'AGQ_ERR_PACK_LICENSE_NOT_ACCEPTED' });
  });

  it('reports a hub that answers with an HTTP error as AGQ_ERR_PACK_PULL_FAILED', async () => {
    const host = await listen(createServer((_req, res) => res.writeHead(404).end()));
    await expect(pullPack('tiny-clip', { home: await tempHome(), catalogue, remoteHost: host })).rejects.toMatchObject({
      code: 'AGQ_ERR_PACK_PULL_FAILED',
      message: expect.stringContaining('HTTP 404'),
    });
  });
});

describe('pullPack from a reachable hub', () => {
  it('pulls every file with progress, records sha256 in pack.json, and resumes after a failed file', async () => {
    const hub = fakeHub({ failOnce: TINY_CLIP.textFile });
    const host = await listen(hub.server);
    const home = await tempHome();
    await expect(pullPack('tiny-clip', { home, catalogue, remoteHost: host })).rejects.toMatchObject({
      code: 'AGQ_ERR_PACK_PULL_FAILED',
      message: expect.stringContaining(TINY_CLIP.textFile),
    });
    const firstGets = hub.requests.filter((r) => r.startsWith('GET') && r.endsWith(TINY_CLIP.visionFile)).length;
    expect(firstGets).toBeGreaterThan(0);

    const progress: PullProgress[] = [];
    const result = await pullPack('tiny-clip', { home, catalogue, remoteHost: host, onProgress: (p) => progress.push(p) });
    expect(result.status).toBe('pulled');
    // The vision tower fetched by the failed attempt came from the cache, not the hub, the second time.
    expect(hub.requests.filter((r) => r.startsWith('GET') && r.endsWith(TINY_CLIP.visionFile)).length).toBe(firstGets);
    expect(progress.some((p) => p.file.endsWith('text_model_quantized.onnx') && p.loaded > 0)).toBe(true);
    const pack = await loadPack('tiny-clip', { packDir: result.dir });
    expect(pack.manifest.files).toHaveLength(6);
    expect(result.dir).toBe(join(home, 'models', 'tiny-clip'));

    const again = await pullPack('tiny-clip', { home, catalogue, remoteHost: host });
    expect(again.status).toBe('already-installed');
  });
});
