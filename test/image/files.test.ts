import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgiqaError } from '../../src/errors/index.js';
import { DEFAULT_IMAGE_LIMITS, listImageFiles, readImageBytes, readImageFile } from '../../src/image/index.js';

let root: string;
let png: Buffer;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'agiqa-image-files-'));
  png = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#336699' } }).png().toBuffer();
  await mkdir(join(root, 'set', 'sub'), { recursive: true });
  await mkdir(join(root, 'empty-dir'));
  await writeFile(join(root, 'set', 'b.png'), png);
  await writeFile(join(root, 'set', 'A.JPG'), png);
  await writeFile(join(root, 'set', 'notes.txt'), 'not an image');
  await writeFile(join(root, 'set', 'sub', 'c.webp'), png);
  await writeFile(join(root, 'empty-dir', 'readme.md'), '# nothing');
  await symlink(join(root, 'set'), join(root, 'set', 'sub', 'loop')); // sub/loop → set: a cycle
  await writeFile(join(root, 'zero.png'), '');
  await writeFile(join(root, 'text.png'), 'plain text, not a PNG\n');
  await writeFile(join(root, 'ok.png'), png);
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function rejection(promise: Promise<unknown>): Promise<AgiqaError> {
  const error = await promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AgiqaError);
  return error as AgiqaError;
}

describe('listImageFiles', () => {
  it('walks directories sorted, by extension case-insensitively, without looping through symlinks', async () => {
    const { files, problems } = await listImageFiles([join(root, 'set')]);
    expect(files).toEqual([join(root, 'set', 'A.JPG'), join(root, 'set', 'b.png'), join(root, 'set', 'sub', 'c.webp')]);
    expect(problems).toEqual([]);
  });

  it('keeps files as given, in order, once', async () => {
    const ok = join(root, 'ok.png');
    const text = join(root, 'set', 'notes.txt');
    const { files } = await listImageFiles([ok, text, ok]);
    expect(files).toEqual([ok, text]);
  });

  it('reports a missing path as AGQ_ERR_IMAGE_NOT_FOUND and goes on', async () => {
    const missing = join(root, 'nope.png');
    const { files, problems } = await listImageFiles([missing, join(root, 'ok.png')]);
    expect(files).toEqual([join(root, 'ok.png')]);
    expect(problems.map((p) => p.code)).toEqual(['AGQ_ERR_IMAGE_NOT_FOUND']);
    expect(problems[0]!.message).toContain(missing);
  });

  it('reports a directory without images as AGQ_ERR_NO_IMAGES', async () => {
    const dir = join(root, 'empty-dir');
    const { files, problems } = await listImageFiles([dir]);
    expect(files).toEqual([]);
    expect(problems.map((p) => p.code)).toEqual(['AGQ_ERR_NO_IMAGES']);
    expect(problems[0]!.message).toContain(dir);
  });
});

describe('readImageFile', () => {
  it('reads and decodes a file, named as given', async () => {
    const image = await readImageFile(join(root, 'ok.png'));
    expect([image.name, image.width, image.height, image.format]).toEqual([join(root, 'ok.png'), 4, 4, 'png']);
    expect(Array.from(image.rgb.subarray(0, 3))).toEqual([0x33, 0x66, 0x99]);
  });

  it('missing path → AGQ_ERR_IMAGE_NOT_FOUND', async () => {
    const file = join(root, 'missing.png');
    const error = await rejection(readImageFile(file));
    expect(error.code).toBe('AGQ_ERR_IMAGE_NOT_FOUND');
    expect(error.message).toContain(file);
  });

  it('0-byte file → AGQ_ERR_IMAGE_EMPTY', async () => {
    const file = join(root, 'zero.png');
    const error = await rejection(readImageFile(file));
    expect(error.code).toBe('AGQ_ERR_IMAGE_EMPTY');
    expect(error.message).toContain(file);
  });

  it('over maxBytes → AGQ_ERR_IMAGE_TOO_LARGE, from stat', async () => {
    const file = join(root, 'ok.png');
    const error = await rejection(readImageFile(file, { ...DEFAULT_IMAGE_LIMITS, maxBytes: 16 }));
    expect(error.code).toBe('AGQ_ERR_IMAGE_TOO_LARGE');
    expect(error.message).toContain(file);
    expect(error.message).toContain(`${png.length} bytes`);
  });

  it('a text file named .png → AGQ_ERR_IMAGE_UNSUPPORTED', async () => {
    const file = join(root, 'text.png');
    const error = await rejection(readImageFile(file));
    expect(error.code).toBe('AGQ_ERR_IMAGE_UNSUPPORTED');
    expect(error.message).toContain(file);
  });

  it('a directory → AGQ_ERR_IMAGE_NOT_A_FILE', async () => {
    const dir = join(root, 'set');
    const error = await rejection(readImageFile(dir));
    expect(error.code).toBe('AGQ_ERR_IMAGE_NOT_A_FILE');
    expect(error.message).toBe(`${dir}: not a regular file (it is a directory); only regular image files are read`);
  });
});

// A FIFO never gets a writer here: opening it for reading the ordinary way would block a libuv thread
// for good, so each case must answer from the stat, fast.
describe('special files: refused from their stat, never opened', () => {
  let special: string;
  let socketServer: Server;
  beforeAll(async () => {
    special = await mkdtemp(join(tmpdir(), 'agiqa-special-'));
    await mkdir(join(special, 'walk', 'sub'), { recursive: true });
    execFileSync('mkfifo', [join(special, 'pipe.png')]);
    execFileSync('mkfifo', [join(special, 'walk', 'sub', 'pipe.png')]);
    execFileSync('mkfifo', [join(special, 'walk', 'pipe-without-extension')]);
    await symlink(join(special, 'pipe.png'), join(special, 'walk', 'link-to-pipe.jpg'));
    await writeFile(join(special, 'walk', 'real.png'), png);
    socketServer = createServer();
    await new Promise<void>((resolve) => socketServer.listen(join(special, 'walk', 'socket.webp'), resolve));
  });
  afterAll(async () => {
    await new Promise((resolve) => socketServer.close(resolve));
    await rm(special, { recursive: true, force: true });
  });

  it.each([
    ['a FIFO', () => join(special, 'pipe.png'), 'FIFO (named pipe)'],
    ['a socket', () => join(special, 'walk', 'socket.webp'), 'socket'],
    ['a character device', () => '/dev/zero', 'character device'],
  ])('%s → AGQ_ERR_IMAGE_NOT_A_FILE, at once', async (_name, path, kind) => {
    const started = performance.now();
    const error = await rejection(readImageBytes(path()));
    expect(error.code).toBe('AGQ_ERR_IMAGE_NOT_A_FILE');
    expect(error.message).toBe(`${path()}: not a regular file (it is a ${kind}); only regular image files are read`);
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('a directory walk lists real images, skips special files and reports those named like images', async () => {
    const { files, problems } = await listImageFiles([join(special, 'walk')]);
    expect(files).toEqual([join(special, 'walk', 'real.png')]);
    expect(problems.map((p) => [p.code, p.message.split(':')[0]])).toEqual([
      ['AGQ_ERR_IMAGE_NOT_A_FILE', join(special, 'walk', 'link-to-pipe.jpg')],
      ['AGQ_ERR_IMAGE_NOT_A_FILE', join(special, 'walk', 'socket.webp')],
      ['AGQ_ERR_IMAGE_NOT_A_FILE', join(special, 'walk', 'sub', 'pipe.png')],
    ]);
  });
});
