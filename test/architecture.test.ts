// Keeps the layering of docs/architecture.md true: who may import sharp and onnxruntime-node, and
// which folders of src/ may import which.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../src/', import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => (m[1] ?? m[2])!);
}

const files = sourceFiles(SRC).map((path) => ({ path: relative(SRC, path).split(sep).join('/'), imports: importsOf(path) }));

// Folders a folder may import besides itself; anything not listed is a layering violation.
const allowed: Record<string, string[]> = {
  errors: [],
  image: ['errors', 'prompts'],
  prompts: ['errors'],
  signals: ['errors'],
  model: ['errors', 'image', 'signals'],
  scoring: ['errors', 'model', 'image', 'signals', 'prompts'],
  evaluation: ['errors', 'scoring', 'image', 'model'],
  policy: ['errors', 'scoring'],
  store: ['errors', 'scoring', 'policy', 'prompts'],
  config: ['errors', 'scoring', 'policy', 'image', 'model'],
  pipeline: ['errors', 'scoring', 'policy', 'store', 'image'],
  bridges: ['errors', 'scoring', 'policy', 'store', 'prompts', 'config', 'pipeline'],
  server: ['errors', 'scoring', 'policy', 'store', 'config', 'image', 'model', 'bridges', 'pipeline', 'prompts'],
  cli: ['errors', 'scoring', 'policy', 'store', 'config', 'image', 'model', 'server', 'bridges', 'evaluation', 'signals', 'prompts', 'pipeline'],
};

describe('architecture', () => {
  it('only src/image imports sharp', () => {
    const offenders = files.filter((f) => f.imports.includes('sharp') && !f.path.startsWith('image/')).map((f) => f.path);
    expect(offenders).toEqual([]);
  });

  it('only src/model/onnx-session.ts imports onnxruntime-node', () => {
    const offenders = files.filter((f) => f.imports.includes('onnxruntime-node') && f.path !== 'model/onnx-session.ts').map((f) => f.path);
    expect(offenders).toEqual([]);
  });

  it('folders import only the layers below them', () => {
    const violations: string[] = [];
    for (const file of files) {
      const folder = file.path.split('/')[0]!;
      if (!(folder in allowed)) {
        violations.push(`${file.path}: folder src/${folder} has no place in the layering (add it to test/architecture.test.ts and docs/architecture.md)`);
        continue;
      }
      for (const spec of file.imports.filter((s) => s.startsWith('.'))) {
        const target = new URL(spec, `file:///src/${file.path}`).pathname.replace(/^\/src\//, '').split('/')[0]!;
        if (target !== folder && !allowed[folder]!.includes(target)) violations.push(`${file.path} imports ${spec}`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('no file in src/ is longer than one sitting (~400 lines)', () => {
    // The error catalog is a table (one entry per code, read by lookup, not in one sitting): exempt.
    const tables = new Set(['errors/catalog.ts']);
    const long = sourceFiles(SRC)
      .map((path) => ({ path: relative(SRC, path).split(sep).join('/'), lines: readFileSync(path, 'utf8').split('\n').length }))
      .filter((file) => file.lines > 420 && !tables.has(file.path))
      .map((file) => `${file.path}: ${file.lines} lines`);
    expect(long).toEqual([]);
  });

  it('one pipeline: routes and bridges score through src/pipeline, never a Scorer or the store writes of their own', () => {
    const entrances = files.filter((f) => f.path.startsWith('bridges/') || f.path.startsWith('server/'));
    const problems: string[] = [];
    for (const file of entrances) {
      const text = readFileSync(join(SRC, file.path), 'utf8');
      // Scoring, judging, ranking and storing a score are the pipeline's: an entrance that calls them has a pipeline of its own.
      for (const call of ['.score(', '.scoreBatch(', '.saveScore(', '.saveVerdict(', 'judge(', 'rank(']) {
        const uses = text.split('\n').filter((line) => line.includes(call) && !line.trim().startsWith('//') && !line.trim().startsWith('*'));
        if (uses.length > 0 && !(call === '.scoreBatch(' && uses.every((line) => line.includes('pipeline.scoreBatch(')))) problems.push(`${file.path} calls ${call}`);
      }
    }
    expect(problems).toEqual([]);
    const bridge = files.find((f) => f.path === 'bridges/comfyui/prompt-outputs.ts')!;
    const app = files.find((f) => f.path === 'server/app.ts')!;
    const server = files.find((f) => f.path === 'server/server.ts')!;
    expect(bridge.imports).toContain('../../pipeline/index.js');
    expect(app.imports).toContain('../pipeline/index.js');
    expect(server.imports).toContain('../pipeline/index.js');
  });
});

