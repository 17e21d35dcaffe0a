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
  bridges: ['errors', 'scoring', 'policy', 'store', 'prompts', 'config'],
  server: ['errors', 'scoring', 'policy', 'store', 'config', 'image', 'model', 'bridges', 'prompts'],
  cli: ['errors', 'scoring', 'policy', 'store', 'config', 'image', 'model', 'server', 'bridges', 'evaluation', 'signals', 'prompts'],
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
});
