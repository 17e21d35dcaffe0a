// The live settings holder: the config's values unless $home/settings.json says otherwise, validated
// replacement with every problem named, atomic persistence, listeners told of each change.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configSchema, SettingsHolder } from '../../src/config/index.js';

const home = () => mkdtempSync(join(tmpdir(), 'agiqa-settings-'));
const config = (dir: string, extra: object = {}) => configSchema.parse({ home: dir, ...extra });

describe('SettingsHolder', () => {
  it('starts from the config, then from the saved file, keeping configured ComfyUI targets the file lacks', () => {
    const dir = home();
    const configured = config(dir, { policy: { thresholds: { quality: 2 } }, comfyui: [{ url: 'http://127.0.0.1:8188' }] });
    expect(SettingsHolder.fromConfig(configured).current).toEqual({ policy: configured.policy, comfyui: configured.comfyui });
    writeFileSync(join(dir, 'settings.json'), JSON.stringify({ policy: { thresholds: { overall: 3.5 } }, comfyui: [{ url: 'http://10.0.0.2:8188', regenerate: true }] }));
    const loaded = SettingsHolder.fromConfig(configured).current;
    expect(loaded.policy).toEqual({ thresholds: { overall: 3.5 }, keepAtLeast: 0, maxRegenerations: 3 });
    expect(loaded.comfyui.map((target) => [target.url, target.regenerate])).toEqual([['http://10.0.0.2:8188', true], ['http://127.0.0.1:8188', false]]);
  });

  it('refuses a damaged settings file with the file named', () => {
    const dir = home();
    writeFileSync(join(dir, 'settings.json'), '{"policy": ');
    expect(() => SettingsHolder.fromConfig(config(dir))).toThrow(expect.objectContaining({ code: 'AGQ_ERR_CONFIG_UNREADABLE' }));
    writeFileSync(join(dir, 'settings.json'), JSON.stringify({ policy: { thresholds: { overall: 9 } }, comfyui: [] }));
    expect(() => SettingsHolder.fromConfig(config(dir))).toThrow(expect.objectContaining({ code: 'AGQ_ERR_CONFIG_INVALID', message: expect.stringContaining('settings.json') }));
  });

  it('replaces, persists and tells listeners; invalid input changes nothing', () => {
    const dir = home();
    const holder = SettingsHolder.fromConfig(config(dir));
    const seen: number[] = [];
    holder.onChange((next, previous) => seen.push(next.policy.maxRegenerations, previous.policy.maxRegenerations));
    holder.replace({ policy: { thresholds: {}, maxRegenerations: 7 }, comfyui: [] });
    expect(seen).toEqual([7, 3]);
    expect(holder.policy.maxRegenerations).toBe(7);
    expect(JSON.parse(readFileSync(join(dir, 'settings.json'), 'utf8')).policy.maxRegenerations).toBe(7);
    expect(() => holder.replace({ policy: { thresholds: { overall: -1 } }, comfyui: [{ url: 'x' }], extra: 1 })).toThrow(
      expect.objectContaining({ code: 'AGQ_ERR_INVALID_INPUT', message: expect.stringMatching(/overall.*comfyui\.0\.url|comfyui\.0\.url.*overall/s) }),
    );
    expect(holder.policy.maxRegenerations).toBe(7);
    expect(seen).toHaveLength(2);
  });

  it('reports a home it cannot write to and keeps the old settings', () => {
    const dir = home();
    // Root writes through permissions: the immutable attribute stops it too.
    const root = process.getuid?.() === 0;
    if (root) execFileSync('chattr', ['+i', dir]);
    else chmodSync(dir, 0o555);
    try {
      const holder = SettingsHolder.fromConfig(config(dir));
      expect(() => holder.replace({ policy: { thresholds: {} }, comfyui: [] })).toThrow(expect.objectContaining({ code: 'AGQ_ERR_SETTINGS_WRITE' }));
      expect(holder.policy.thresholds).toEqual({ overall: 2.5 });
    } finally {
      if (root) execFileSync('chattr', ['-i', dir]);
    }
  });
});
