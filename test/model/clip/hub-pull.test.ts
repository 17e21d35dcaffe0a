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
import { createHash } from 'node:crypto';
import { KNOWN_PACKS, packFilesOf, type KnownPack } from '../../../src/model/clip/known-packs.js';
import { tempHome, TINY_CLIP, TINY_CLIP_DIR } from '../../fixtures/tiny-clip/install.js';
import { closedPort } from '../../fixtures/closed-port.js';

/** A commit the fake hub serves the fixture at (the real pins are written by tools/pin-packs.ts). */
const REVISION = 'c0ffee0000000000000000000000000000000001';

async function sha256Of(file: string): Promise<string> {
  return createHash('sha256').update(await readFile(join(TINY_CLIP_DIR, file))).digest('hex');
}

/** The fixture pinned at REVISION with its files' real hashes. */
async function pinnedTinyClip(): Promise<KnownPack> {
  const sha256: Record<string, string> = {};
  for (const file of packFilesOf(TINY_CLIP)) sha256[file] = await sha256Of(file);
  return { ...TINY_CLIP, pin: { revision: REVISION, sha256 } };
}

const PINNED = await pinnedTinyClip();
const catalogue: KnownPack[] = [PINNED, { ...PINNED, name: 'restricted', restrictedLicense: true, license: 'research-only' }, { ...TINY_CLIP, name: 'unpinned' }];
const servers: Server[] = [];

async function listen(server: Server): Promise<string> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

/**
 * A hub in the Hugging Face URL layout (`/<repo>/resolve/<revision>/<file>`) serving the tiny CLIP at
 * REVISION (main resolves to it, named in X-Repo-Commit as the hub does); `tamper` serves other bytes for a file.
 */
function fakeHub(options: { failOnce?: string; tamper?: string } = {}) {
  const requests: string[] = [];
  let failed = false;
  const server = createServer(async (req, res) => {
    const url = decodeURIComponent(req.url ?? '');
    requests.push(`${req.method} ${url}`);
    const match = new RegExp(`^/${TINY_CLIP.repo}/resolve/(main|${REVISION})/(.*)$`).exec(url);
    const file = match?.[2] ?? '';
    if (!packFilesOf(TINY_CLIP).includes(file)) {
      res.writeHead(404).end('Entry not found');
      return;
    }
    if (options.failOnce === file && !failed && req.method === 'GET' && req.headers.range === undefined) {
      failed = true;
      res.writeHead(500).end('boom');
      return;
    }
    const original = await readFile(join(TINY_CLIP_DIR, file));
    const body = options.tamper === file ? Buffer.concat([original, Buffer.from(' ')]) : original;
    res.writeHead(200, { 'content-length': String(body.length), 'content-type': 'application/octet-stream', 'x-repo-commit': REVISION });
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
    const expectedRevision = pack.pin?.revision ?? 'main';
    expect(lines.join('\n')).toContain(`https://huggingface.co/Xenova/clip-vit-base-patch32/resolve/${expectedRevision}/onnx/vision_model_quantized.onnx`);
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
    // Every file came from the pinned commit. transformers.js 4 checks that tokenizer_config.json
    // exists at main before loading a tokenizer (get_tokenizer_files ignores the revision); that
    // answer is never installed, and the installed file's hash is checked against the pin.
    for (const file of packFilesOf(TINY_CLIP)) expect(hub.requests).toContain(`GET /${TINY_CLIP.repo}/resolve/${REVISION}/${file}`);
    expect(new Set(hub.requests.filter((r) => r.includes('/resolve/main/')).map((r) => r.split('/resolve/main/')[1]))).toEqual(new Set(['tokenizer_config.json']));
    expect(pack.manifest.files.every((f) => f.source.includes(`/blob/${REVISION}/`))).toBe(true);
    expect(pack.manifest.training).toMatchObject({ revision: REVISION, pinned: true });
    expect(pack.manifest.version).toMatch(/^1\.0\.0\+[0-9a-f]{12}$/);
    expect(result.dir).toBe(join(home, 'models', 'tiny-clip'));

    const again = await pullPack('tiny-clip', { home, catalogue, remoteHost: host });
    expect(again.status).toBe('already-installed');
  });
});

describe('pinned pulls', () => {
  it('refuses a pack without a pin before any network, unless --unpinned, which records the commit main resolved to', async () => {
    await expect(pullPack('unpinned', { catalogue, remoteHost: await closedPort() })).rejects.toMatchObject({
      code: 'AGQ_ERR_PACK_NOT_PINNED',
      message: expect.stringContaining('pack-pins.json'),
    });
    const hub = fakeHub();
    const host = await listen(hub.server);
    const result = await pullPack('unpinned', { home: await tempHome(), catalogue, remoteHost: host, allowUnpinned: true });
    expect(result.manifest.training).toMatchObject({ revision: REVISION, pinned: false });
    expect(hub.requests.some((r) => r.includes('/resolve/main/'))).toBe(true);
  });

  it('refuses a file whose sha256 differs from its pin, and leaves nothing installed', async () => {
    const host = await listen(fakeHub({ tamper: 'tokenizer.json' }).server);
    const home = await tempHome();
    await expect(pullPack('tiny-clip', { home, catalogue, remoteHost: host })).rejects.toMatchObject({
      code: 'AGQ_ERR_PACK_FILE_CORRUPT',
      message: expect.stringContaining('tokenizer.json is corrupt'),
    });
    await expect(loadPack('tiny-clip', { home })).rejects.toMatchObject({ code: 'AGQ_ERR_PACK_NOT_FOUND' });
  });

  it('gives a pack a new version when one of its files changes', async () => {
    const { filesDigest } = await import('../../../src/model/pack-manifest.js');
    const files = packFilesOf(TINY_CLIP).map((path) => ({ path, sha256: PINNED.pin!.sha256[path]! }));
    const changed = files.map((f, i) => (i === 0 ? { ...f, sha256: 'f'.repeat(64) } : f));
    expect(filesDigest(files)).toMatch(/^[0-9a-f]{12}$/);
    expect(filesDigest(changed)).not.toBe(filesDigest(files));
    expect(filesDigest([...files].reverse())).toBe(filesDigest(files));
  });
});
