import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgiqaError } from '../../src/errors/index.js';
import { readRootedFile, resolveInsideRoots, resolveRoots } from '../../src/server/roots.js';

let root: string;
beforeAll(async () => {
  [root] = resolveRoots([await mkdtemp(join(tmpdir(), 'agiqa-roots-'))]) as [string];
  await writeFile(join(root, 'ok.png'), 'eight by');
  execFileSync('mkfifo', [join(root, 'pipe.png')]);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function rejection(promise: Promise<unknown>): Promise<AgiqaError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AgiqaError);
  return error as AgiqaError;
}

describe('readRootedFile', () => {
  it('reads a regular file inside a root', async () => {
    const real = await resolveInsideRoots('ok.png', [root]);
    expect(Buffer.from(await readRootedFile(real, 'ok.png', 1024)).toString()).toBe('eight by');
  });

  // Opening a FIFO without a writer used to block a libuv thread for good (the threads sharp decodes on).
  it('refuses a FIFO in a root from its lstat, with the code the CLI uses, at once', async () => {
    const real = await resolveInsideRoots('pipe.png', [root]);
    const started = performance.now();
    const error = await rejection(readRootedFile(real, 'pipe.png', 1024));
    expect(error.code).toBe('AGQ_ERR_IMAGE_NOT_A_FILE');
    expect(error.status).toBe(422);
    expect(error.message).toBe('pipe.png: not a regular file (it is a FIFO (named pipe)); only regular image files are read');
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('refuses a resolved path swapped for a symlink before it is read, without following it', async () => {
    const real = await resolveInsideRoots('swap.png', [root]).catch(async () => {
      await writeFile(join(root, 'swap.png'), 'x');
      return resolveInsideRoots('swap.png', [root]);
    });
    await unlink(real);
    await symlink(join(root, 'pipe.png'), real);
    const error = await rejection(readRootedFile(real, 'swap.png', 1024));
    expect(error.code).toBe('AGQ_ERR_IMAGE_NOT_A_FILE');
    expect(error.message).toContain('it is a symbolic link');
  });

  it('refuses a file over maxBytes before reading it', async () => {
    const real = await resolveInsideRoots('ok.png', [root]);
    expect((await rejection(readRootedFile(real, 'ok.png', 4))).code).toBe('AGQ_ERR_IMAGE_TOO_LARGE');
  });
});
