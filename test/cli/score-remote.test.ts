// `agiqa score --server URL`: files go to a running server (in-process, stand-in scorer), are stored
// there with source "cli", print the same table, and a server that cannot be reached is one line.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/commands/score.js';
import { configSchema } from '../../src/config/index.js';
import { reportFatal } from '../../src/cli/main.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { closedPort } from '../fixtures/closed-port.js';
import { FakeScorer } from '../fixtures/server/fake-scorer.js';
import { scoredPng } from '../fixtures/server/dashboard-images.js';
import { runCaptured } from './run-cli.js';

const running: RunningServer[] = [];
afterEach(async () => {
  for (const server of running.splice(0)) await server.close();
});

async function folderOfImages(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'agiqa-remote-'));
  mkdirSync(join(dir, 'sub'));
  writeFileSync(join(dir, 'a.png'), await scoredPng({ mos: 3.1, prompt: 'a', seed: 1 }));
  writeFileSync(join(dir, 'sub', 'b.png'), await scoredPng({ mos: 1.4, prompt: 'b', seed: 2 }));
  writeFileSync(join(dir, 'broken.png'), Buffer.alloc(0));
  return dir;
}

describe('agiqa score --server', () => {
  it('scores every file on the server, which stores them as the CLI\'s, and prints the table', async () => {
    const server = await startServer({ config: configSchema.parse({ port: 0, logLevel: 'silent', home: mkdtempSync(join(tmpdir(), 'agiqa-remote-home-')) }), scorer: new FakeScorer(), logger: pino({ level: 'silent' }), listPacks: async () => [] });
    running.push(server);
    const dir = await folderOfImages();
    const out = await runCaptured(() => run(['--server', server.url, '--json', dir]));
    // The empty file is refused by the server (422) and reported; the others are scored.
    expect(out.code).toBe(3);
    const lines = out.stdout.trim().split('\n').map((line) => JSON.parse(line) as { file: string; mos: number; verdict: { verdict: string } });
    expect(lines.map((line) => [line.file.replace(dir, ''), line.mos]).sort()).toEqual([['/a.png', 3.1], ['/sub/b.png', 1.4]]);
    expect(lines.find((line) => line.file.endsWith('b.png'))!.verdict.verdict).toBe('reject');
    expect(out.stderr).toMatch(/broken\.png.*AGQ_ERR_IMAGE_EMPTY/);
    const stored = await server.store.dashboard.feed({});
    expect(stored.items.map((item) => [item.source, item.image.file]).sort()).toEqual([['cli', 'a.png'], ['cli', 'b.png']]);
  });

  it('stops with one line naming `agiqa serve` when the server cannot be reached', async () => {
    const dir = await folderOfImages();
    const url = await closedPort();
    const out = await runCaptured(() => run(['--server', url, dir]).catch((error: unknown) => reportFatal(error)));
    expect(out.code).not.toBe(0);
    expect(out.stderr.trim().split('\n')).toHaveLength(1);
    expect(out.stderr).toMatch(/Cannot reach the agiqa server.*agiqa serve.*AGQ_ERR_CLI_SERVER_UNREACHABLE/);
  });

  it('refuses a --server that is not a URL as a usage error', async () => {
    const out = await runCaptured(() => run(['--server', 'localhost:8420', 'x.png']));
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('--server expects a URL');
  });
});
