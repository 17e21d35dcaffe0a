// The real `agiqa serve` process (bin/agiqa.js → dist, run `npm run build` first) on the embedded
// lite pack, ephemeral loopback ports and throwaway AGIQA_HOMEs.
import Database from 'better-sqlite3';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { scoreResponseSchema } from '../../src/server/schemas.js';
import { encodePng, pngClaiming } from '../fixtures/server/png.js';
import { killServeProcesses, ROOT, runAgiqaProcess, servingPid, startServeProcess, waitUntilReady, type ServeProcess } from './serve-process.js';

afterEach(() => {
  killServeProcesses();
});

beforeAll(() => {
  if (!existsSync(join(ROOT, 'dist/cli/commands/serve.js'))) throw new Error('dist/ is missing: run `npm run build` before the e2e tests');
});

/** Starts `agiqa serve --port 0` and resolves once it printed its URL and reports ready. */
async function serve(home: string, args: string[] = [], extra: Record<string, string> = {}): Promise<ServeProcess> {
  const served = await startServeProcess(home, args, extra);
  await waitUntilReady(served);
  return served;
}

function postPng(url: string, png: Buffer, query = '') {
  return fetch(`${url}/v1/score${query}`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: new Uint8Array(png) });
}

const home = () => mkdtempSync(join(tmpdir(), 'agiqa-e2e-'));

describe('agiqa serve (real process, lite pack)', () => {
  it('scores a PNG with the real scorer and answers the stored result the second time', async () => {
    const server = await serve(home());
    const response = await postPng(server.url, encodePng(96, 64, 1), '?prompt=a%20gradient');
    expect(response.status).toBe(200);
    const body = scoreResponseSchema.parse(await response.json());
    expect(body.result.pack.name).toBe('lite');
    expect(body.result.image).toMatchObject({ width: 96, height: 64 });
    const again = scoreResponseSchema.parse(await (await postPng(server.url, encodePng(96, 64, 1), '?prompt=a%20gradient')).json());
    expect(again).toMatchObject({ cached: true, generationId: body.generationId });
  }, 90_000);

  it('refuses a 30000×30000 PNG header with 413 before decoding, and stays healthy', async () => {
    const server = await serve(home());
    const response = await postPng(server.url, pngClaiming(30_000, 30_000));
    expect(response.status).toBe(413);
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('AGQ_ERR_IMAGE_TOO_MANY_PIXELS');
    expect(body.error.message).toContain('30000×30000');
    expect((await fetch(`${server.url}/v1/health`)).status).toBe(200);
  }, 90_000);

  it('refuses to start on a non-loopback address without a token', async () => {
    const { code, out, err } = await runAgiqaProcess(['serve', '--host', '0.0.0.0', '--port', '0'], home());
    expect(code).toBe(1);
    expect(err).toContain('AGQ_ERR_SERVER_TOKEN_REQUIRED');
    expect(out).not.toContain('listening');
  }, 30_000);

  it('exits 1 with AGQ_ERR_SERVER_LISTEN when the port is taken, leaving no worker behind', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const { code, err } = await runAgiqaProcess(['serve', '--port', String(port)], home());
      expect(code).toBe(1);
      expect(err).toContain('AGQ_ERR_SERVER_LISTEN');
    } finally {
      blocker.close();
    }
  }, 60_000);

  it('loses nothing acknowledged when killed with SIGKILL mid-scoring; the database reopens cleanly', async () => {
    const dir = home();
    const first = await serve(dir);
    const acknowledged: number[] = [];
    // Enough requests that the kill lands mid-queue even when a loaded machine starves the polling loop.
    const requests = Array.from({ length: 64 }, (_, index) =>
      postPng(first.url, encodePng(256, 256, 100 + index))
        .then(async (response) => {
          if (response.status === 200) acknowledged.push(scoreResponseSchema.parse(await response.json()).generationId);
        })
        .catch(() => undefined), // cut off by the kill: never acknowledged
    );
    for (let i = 0; i < 600 && acknowledged.length < 3; i += 1) await new Promise((resolve) => setTimeout(resolve, 20));
    // The serving process itself (under the malloc supervisor it is the started process's child); its
    // supervisor then exits with it.
    process.kill(servingPid(first.child), 'SIGKILL');
    await first.exited;
    await Promise.all(requests);
    expect(acknowledged.length).toBeGreaterThanOrEqual(3);
    expect(acknowledged.length).toBeLessThan(64);

    const second = await serve(dir);
    for (const id of acknowledged) expect((await fetch(`${second.url}/v1/generations/${id}`)).status, `generation ${id}`).toBe(200);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    const db = new Database(join(dir, 'agiqa.db'), { readonly: true });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
  }, 120_000);

  it('finishes in-flight requests on SIGTERM and exits 0', async () => {
    const server = await serve(home());
    const pending = [1, 2, 3].map((seed) => postPng(server.url, encodePng(512, 512, seed)).then((response) => response.status));
    await new Promise((resolve) => setTimeout(resolve, 50));
    server.child.kill('SIGTERM');
    expect(await Promise.all(pending)).toEqual([200, 200, 200]);
    expect(await server.exited).toBe(0);
  }, 90_000);
});

describe('command lines: serve flags and config print', () => {
  const run = (args: string[], cwd: string, env: Record<string, string> = {}) => runAgiqaProcess(['config', ...args], cwd, { cwd, env });

  it('answers a bad flag with exit code 2 and one readable line', async () => {
    const { code, err } = await runAgiqaProcess(['serve', '--port', 'eighty'], home());
    expect(code).toBe(2);
    expect(err).toBe('agiqa: --port expects a whole number, received "eighty". Run `agiqa serve --help`. [AGQ_ERR_USAGE]\n');
  }, 30_000);

  it('prints the effective configuration with the token masked', async () => {
    const dir = home();
    writeFileSync(join(dir, 'agiqa.config.json'), JSON.stringify({ port: 9999 }));
    const result = await run(['print'], dir, { AGIQA_TOKEN: 'super-secret-token-42', AGIQA_PACK: 'lite' });
    expect(result.code).toBe(0);
    const printed = JSON.parse(result.out);
    expect(printed.config).toMatchObject({ port: 9999, pack: 'lite', home: dir, token: '********' });
    expect(result.out).not.toContain('super-secret');
  }, 30_000);

  it('reports every unknown key of the file and exits non-zero', async () => {
    const dir = home();
    writeFileSync(join(dir, 'agiqa.config.json'), JSON.stringify({ prot: 1, queue: { max: 2 } }));
    const result = await run(['print'], dir);
    expect(result.code).not.toBe(0);
    expect(result.err).toContain('prot');
    expect(result.err).toContain('max');
  }, 30_000);
});
