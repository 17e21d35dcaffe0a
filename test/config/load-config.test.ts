import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_IMAGE_LIMITS } from '../../src/image/limits.js';
import { describe, expect, it } from 'vitest';
import { isLoopbackHost, loadConfig, maskConfig } from '../../src/config/index.js';
import type { AgiqaError } from '../../src/errors/index.js';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'agiqa-config-'));
}

function catchError(fn: () => unknown): AgiqaError {
  try {
    fn();
  } catch (error) {
    return error as AgiqaError;
  }
  throw new Error('expected an error');
}

describe('loadConfig', () => {
  it('uses defaults when there is no file, env or flag', () => {
    const { config, file } = loadConfig({ env: {}, cwd: tempDir() });
    expect(file).toBeNull();
    expect(config.host).toBe('127.0.0.1');
    expect(config.queue.maxQueue).toBe(32);
    expect(config.policy.thresholds.overall).toBe(2.5);
  });

  it('applies file < env < flags, key by key', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'agiqa.config.json'), JSON.stringify({ port: 9000, pack: 'filepack', queue: { workers: 1 }, roots: ['images'] }));
    const { config, file } = loadConfig({ env: { AGIQA_PORT: '9100', AGIQA_MAX_QUEUE: '8' }, flags: { port: 9200 }, cwd: dir });
    expect(file).toBe(join(dir, 'agiqa.config.json'));
    expect(config.port).toBe(9200);
    expect(config.pack).toBe('filepack');
    expect(config.queue).toMatchObject({ workers: 1, maxQueue: 8 });
    expect(config.roots).toEqual([join(dir, 'images')]);
  });

  it('reads the file named by AGIQA_CONFIG and refuses a missing one', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'other.json'), JSON.stringify({ host: 'localhost' }));
    expect(loadConfig({ env: { AGIQA_CONFIG: 'other.json' }, cwd: dir }).config.host).toBe('localhost');
    const error = catchError(() => loadConfig({ env: { AGIQA_CONFIG: 'nope.json' }, cwd: dir }));
    expect(error.code).toBe('AGQ_ERR_CONFIG_NOT_FOUND');
    expect(error.message).toContain('nope.json');
  });

  it('reports every problem of a file at once, unknown keys included', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'agiqa.config.json'), JSON.stringify({ port: 'eighty', tokn: 'x', limits: { maxBodyByte: 1 }, policy: { thresholds: { quality: 7 } } }));
    const error = catchError(() => loadConfig({ env: {}, cwd: dir }));
    expect(error.code).toBe('AGQ_ERR_CONFIG_INVALID');
    for (const part of ['port', 'tokn', 'maxBodyByte', 'policy.thresholds.quality']) expect(error.message).toContain(part);
  });

  it('refuses malformed JSON with the file name', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'agiqa.config.json'), '{"port": 1,}');
    const error = catchError(() => loadConfig({ env: {}, cwd: dir }));
    expect(error.code).toBe('AGQ_ERR_CONFIG_UNREADABLE');
    expect(error.message).toContain('agiqa.config.json');
  });

  it('refuses a non-numeric environment number instead of coercing it', () => {
    const error = catchError(() => loadConfig({ env: { AGIQA_PORT: '80abc' }, cwd: tempDir() }));
    expect(error.code).toBe('AGQ_ERR_CONFIG_INVALID');
    expect(error.message).toContain('AGIQA_PORT');
  });

  it('refuses a short token', () => {
    const error = catchError(() => loadConfig({ env: { AGIQA_TOKEN: 'short' }, cwd: tempDir() }));
    expect(error.message).toMatch(/token: must be at least 16/);
  });

  it('masks the token for printing', () => {
    const { config } = loadConfig({ env: { AGIQA_TOKEN: 'a-very-secret-token-123' }, cwd: tempDir() });
    expect(JSON.stringify(maskConfig(config))).not.toContain('secret');
    expect(config.token).toBe('a-very-secret-token-123');
  });
});

describe('isLoopbackHost', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.1.2.3', true],
    ['localhost', true],
    ['::1', true],
    ['[::1]', true],
    ['0.0.0.0', false],
    ['::', false],
    ['192.168.1.5', false],
  ])('%s → %s', (host, expected) => {
    expect(isLoopbackHost(host)).toBe(expected);
  });
});

describe('loadConfig comfyui', () => {
  it('adds --comfyui URLs to the file instances, keeping the options of a URL already configured', () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'agiqa.config.json'),
      JSON.stringify({ comfyui: [{ url: 'http://127.0.0.1:8188', regenerate: true, quarantine: true, outputDir: 'ComfyUI/output' }] }),
    );
    const { config } = loadConfig({ env: {}, cwd: dir, flags: { comfyui: ['http://127.0.0.1:8188', 'http://127.0.0.1:8189'] } });
    expect(config.comfyui).toEqual([
      { url: 'http://127.0.0.1:8188', types: ['output'], regenerate: true, feedback: true, quarantine: true, outputDir: join(dir, 'ComfyUI/output') },
      { url: 'http://127.0.0.1:8189', types: ['output'], regenerate: false, feedback: true, quarantine: false },
    ]);
  });

  it('refuses a --comfyui value that is not an origin, and quarantine without outputDir', () => {
    const bad = catchError(() => loadConfig({ env: {}, cwd: tempDir(), flags: { comfyui: ['127.0.0.1:8188'] } }));
    expect(bad.code).toBe('AGQ_ERR_CONFIG_INVALID');
    expect(bad.message).toContain('--comfyui');
    const dir = tempDir();
    writeFileSync(join(dir, 'agiqa.config.json'), JSON.stringify({ comfyui: [{ url: 'http://127.0.0.1:8188', quarantine: true }] }));
    expect(catchError(() => loadConfig({ env: {}, cwd: dir })).message).toContain('quarantine needs outputDir');
  });
});

describe('image limits', () => {
  it('the server defaults are the CLI decoder defaults: one pixel limit, one byte limit', () => {
    const { config } = loadConfig({ env: {}, cwd: mkdtempSync(join(tmpdir(), 'agiqa-config-')) });
    expect(config.limits.maxImagePixels).toBe(DEFAULT_IMAGE_LIMITS.maxPixels);
    expect(config.limits.maxImageBytes).toBe(DEFAULT_IMAGE_LIMITS.maxBytes);
    expect(DEFAULT_IMAGE_LIMITS.maxPixels).toBe(8192 * 8192);
  });
});
