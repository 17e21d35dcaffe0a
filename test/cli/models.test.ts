// `agiqa models` as a user runs it: list, pull with no reachable hub (one line, then the manual
// download), verify and remove, and the usage errors; AGIQA_HOME points at a temporary folder.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/commands/models.js';
import { copyTinyClip, installTinyClip, tempHome } from '../fixtures/tiny-clip/install.js';
import { captureOutput, type CapturedOutput } from './run-cli.js';
import { closedPort } from '../fixtures/closed-port.js';

let out: CapturedOutput;
const savedHome = process.env.AGIQA_HOME;

beforeEach(() => {
  out = captureOutput();
});
afterEach(() => {
  out.restore();
  if (savedHome === undefined) delete process.env.AGIQA_HOME;
  else process.env.AGIQA_HOME = savedHome;
});

describe('agiqa models', () => {
  it('lists the known packs with their licenses, and installed ones', async () => {
    const { home } = await installTinyClip();
    process.env.AGIQA_HOME = home;
    expect(await run(['list', '--json'])).toBe(0);
    const listed = JSON.parse(out.stdout) as { home: string; packs: { name: string; status: string; license: string; recommended: boolean }[] };
    expect(listed.home).toBe(home);
    expect(listed.packs.find((p) => p.name === 'clip-vit-b32')).toMatchObject({ status: 'available', license: 'MIT', recommended: true });
    expect(listed.packs.find((p) => p.name === 'siglip-b16')).toMatchObject({ license: 'Apache-2.0' });
    expect(listed.packs.find((p) => p.name === 'mobileclip-s2')!.license).toMatch(/^apple-amlr/);
    expect(listed.packs.find((p) => p.name === 'tiny-clip')).toMatchObject({ status: 'installed' });
    out.stdout = '';
    expect(await run(['list'])).toBe(0);
    expect(out.stdout).toMatch(/clip-vit-b32 +available.*\(recommended\)/);
  });

  it('fails a pull with no reachable hub in one line, then prints the manual download', async () => {
    process.env.AGIQA_HOME = await tempHome();
    expect(await run(['pull', 'clip-vit-b32', '--hub', await closedPort(), '--timeout', '2', '--unpinned'])).toBe(1);
    const [first, ...rest] = out.stderr.trimEnd().split('\n');
    expect(first).toMatch(/^agiqa: Cannot reach http:\/\/127\.0\.0\.1:\d+\/ to pull "clip-vit-b32" .*\[AGQ_ERR_PACK_PULL_OFFLINE\]$/);
    expect(rest.join('\n')).toContain('onnx/text_model_quantized.onnx');
    expect(rest.at(-1)).toBe('then run: agiqa models verify clip-vit-b32');
    expect(out.stdout).toBe('');
  });

  it('refuses to pull mobileclip-s2 until its license is accepted', async () => {
    process.env.AGIQA_HOME = await tempHome();
    expect(await run(['pull', 'mobileclip-s2', '--hub', await closedPort()])).toBe(1);
    expect(out.stderr).toContain('[AGQ_ERR_PACK_LICENSE_NOT_ACCEPTED]');
  });

  it('verifies an installed pack, reports an unknown hand-copied one, and removes packs', async () => {
    const { home } = await installTinyClip();
    process.env.AGIQA_HOME = home;
    expect(await run(['verify', 'tiny-clip'])).toBe(0);
    expect(out.stdout).toMatch(/^tiny-clip: verified 6 files in /);
    await copyTinyClip(home, 'hand-copied');
    expect(await run(['verify', 'hand-copied'])).toBe(1);
    expect(out.stderr).toContain('[AGQ_ERR_PACK_UNKNOWN]');
    expect(await run(['remove', 'tiny-clip'])).toBe(0);
    expect(out.stdout).toContain('tiny-clip: removed ');
    expect(await run(['remove', 'tiny-clip'])).toBe(1);
    expect(out.stderr).toContain('[AGQ_ERR_PACK_NOT_FOUND]');
  });

  it('answers usage errors with exit 2', async () => {
    expect(await run([])).toBe(2);
    expect(await run(['fetch', 'x'])).toBe(2);
    expect(await run(['pull'])).toBe(2);
    expect(await run(['pull', 'a', 'b'])).toBe(2);
    expect(await run(['pull', 'clip-vit-b32', '--timeout', 'soon'])).toBe(2);
    expect(out.stderr).toContain('Expected a number of seconds from 0 to 600 for --timeout but received "soon"');
    expect(await run(['--help'])).toBe(0);
    expect(out.stdout).toContain('Usage: agiqa models');
  });
});
