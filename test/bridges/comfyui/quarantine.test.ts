import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { quarantineFile, QUARANTINE_FOLDER } from '../../../src/bridges/comfyui/quarantine.js';

function outputFolder(): string {
  const root = mkdtempSync(join(tmpdir(), 'agiqa-quarantine-'));
  mkdirSync(join(root, 'output', 'portraits'), { recursive: true });
  writeFileSync(join(root, 'outside.png'), 'outside');
  return join(root, 'output');
}

describe('quarantineFile', () => {
  it('moves into agiqa-rejected/<subfolder>/, never overwrites, and logs each move', async () => {
    const out = outputFolder();
    writeFileSync(join(out, 'portraits', 'a.png'), 'first');
    const first = await quarantineFile(out, { filename: 'a.png', subfolder: 'portraits' }, { promptId: 'p1' });
    expect(first).toEqual({ from: join(out, 'portraits', 'a.png'), to: join(out, QUARANTINE_FOLDER, 'portraits', 'a.png') });
    writeFileSync(join(out, 'portraits', 'a.png'), 'second');
    const second = await quarantineFile(out, { filename: 'a.png', subfolder: 'portraits' }, { promptId: 'p2' });
    expect(second!.to).toBe(join(out, QUARANTINE_FOLDER, 'portraits', 'a-1.png'));
    expect(readFileSync(first!.to, 'utf8')).toBe('first');
    const log = readFileSync(join(out, QUARANTINE_FOLDER, 'moves.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { promptId: string });
    expect(log.map((l) => l.promptId)).toEqual(['p1', 'p2']);
  });

  it('returns null for a file that is not there', async () => {
    expect(await quarantineFile(outputFolder(), { filename: 'gone.png', subfolder: '' }, {})).toBeNull();
  });

  it('refuses paths that resolve outside the output folder (.., symlinks)', async () => {
    const out = outputFolder();
    await expect(quarantineFile(out, { filename: 'outside.png', subfolder: '..' }, {})).rejects.toMatchObject({ code: 'AGQ_ERR_COMFYUI_QUARANTINE_OUTSIDE' });
    symlinkSync(join(out, '..', 'outside.png'), join(out, 'link.png'));
    await expect(quarantineFile(out, { filename: 'link.png', subfolder: '' }, {})).rejects.toMatchObject({
      code: 'AGQ_ERR_COMFYUI_QUARANTINE_OUTSIDE',
      message: expect.stringContaining('not inside the ComfyUI output folder'),
    });
    expect(existsSync(join(out, '..', 'outside.png'))).toBe(true);
  });
});
