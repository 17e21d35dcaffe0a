// tools/pin-packs.ts against a hub double in the Hugging Face layout: the commit main points at, each
// file hashed at that commit, a disagreeing LFS hash refused, and the pins file rewritten in place.
import { createHash } from 'node:crypto';
import { copyFile, mkdtemp, readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PACK_PINS_FILE, packFilesOf, readPackPins } from '../../src/model/clip/known-packs.js';
import { pinPack, writePins } from '../../tools/pin-packs.js';
import { TINY_CLIP, TINY_CLIP_DIR } from '../fixtures/tiny-clip/install.js';

const COMMIT = 'feedbeef00000000000000000000000000000042';
let lfsLie = false;
const requests: string[] = [];
const server = createServer(async (req, res) => {
  const url = decodeURIComponent(req.url ?? '');
  requests.push(url);
  if (url === `/api/models/${TINY_CLIP.repo}/revision/main?blobs=true`) {
    const onnx = await readFile(join(TINY_CLIP_DIR, TINY_CLIP.visionFile));
    const sha = lfsLie ? '0'.repeat(64) : createHash('sha256').update(onnx).digest('hex');
    res.setHeader('content-type', 'application/json');
    return void res.end(JSON.stringify({ sha: COMMIT, siblings: [{ rfilename: 'config.json' }, { rfilename: TINY_CLIP.visionFile, lfs: { sha256: sha, size: onnx.length } }] }));
  }
  const prefix = `/${TINY_CLIP.repo}/resolve/${COMMIT}/`;
  if (!url.startsWith(prefix)) return void res.writeHead(404).end();
  res.end(await readFile(join(TINY_CLIP_DIR, url.slice(prefix.length))));
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const host = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
afterAll(() => void server.close());

describe('pin-packs', () => {
  it('pins the commit main points at with each file hashed at that commit', async () => {
    const pin = await pinPack(TINY_CLIP, host);
    expect(pin.revision).toBe(COMMIT);
    for (const file of packFilesOf(TINY_CLIP)) {
      expect(pin.sha256[file]).toBe(createHash('sha256').update(await readFile(join(TINY_CLIP_DIR, file))).digest('hex'));
      expect(requests).toContain(`/${TINY_CLIP.repo}/resolve/${COMMIT}/${file}`);
    }
    const pins = join(await mkdtemp(join(tmpdir(), 'agiqa-pins-')), 'pack-pins.json');
    await copyFile(PACK_PINS_FILE, pins);
    await writePins(pins, { 'tiny-clip': pin });
    expect(readPackPins(pins)['tiny-clip']).toEqual(pin);
    expect(JSON.parse(await readFile(pins, 'utf8')).$comment).toContain('tools/pin-packs.ts');
  });

  it('refuses a file whose hash disagrees with the hub LFS sha256', async () => {
    lfsLie = true;
    await expect(pinPack(TINY_CLIP, host)).rejects.toThrow(/onnx\/vision_model_quantized\.onnx hashes to [0-9a-f]{64} but the hub lists 0{64}/);
    lfsLie = false;
  });
});
