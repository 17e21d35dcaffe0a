// The detections table (migration 5) on a real SQLite file: boxes written with their score, read back in
// rank order by the generation route, the dashboard feed and the ComfyUI lookup, and filled for scores
// stored by version 4 from their result JSON.
import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { judge } from '../../src/policy/index.js';
import type { DetectionResult } from '../../src/scoring/score-result.js';
import { MIGRATIONS, Store } from '../../src/store/index.js';
import { fakeResult } from '../fixtures/server/fake-scorer.js';

const opened: Store[] = [];
afterEach(() => {
  for (const store of opened.splice(0)) store.close();
});

const file = () => join(mkdtempSync(join(tmpdir(), 'agiqa-detections-')), 'agiqa.db');
async function open(path = file()): Promise<Store> {
  const store = await Store.open(path);
  opened.push(store);
  return store;
}

const DOG: DetectionResult = { label: 'dog', score: 0.81, box: { x: 10, y: 12.5, width: 30, height: 20 } };
const CAR: DetectionResult = { label: 'car', score: 0.42, box: { x: 1, y: 2, width: 3, height: 4 } };

async function saveWithBoxes(store: Store, sha: string, detections: DetectionResult[] | undefined) {
  const result = { ...fakeResult({ sha256: sha, prompt: 'a dog and a car' }), ...(detections ? { detections } : {}) };
  return store.saveScore({ source: 'comfyui', prompt: 'a dog and a car', negativePrompt: null, imageSha256: sha, fileRef: null, bytes: 1 }, result, judge(result, { thresholds: {} }));
}

describe('detections (migration 5)', () => {
  it('stores the boxes of a score and reads them back most confident first', async () => {
    const store = await open();
    const saved = await saveWithBoxes(store, 'a'.repeat(64), [DOG, CAR]);
    expect(await store.getDetections(saved.generationId)).toEqual({
      generationId: saved.generationId,
      scoreId: saved.scoreId,
      pack: { name: 'fake', version: '1.0.0' },
      image: { width: 64, height: 64 },
      detections: [DOG, CAR],
    });
    const none = await saveWithBoxes(store, 'b'.repeat(64), undefined);
    expect((await store.getDetections(none.generationId))!.detections).toEqual([]);
    expect(await store.getDetections(9999)).toBeNull();
    const feed = await store.dashboard.feed({});
    expect(feed.items.map((item) => item.detections)).toEqual([[], [DOG, CAR]]);
  });

  it('answers the ComfyUI lookup with the boxes and the image size they are in', async () => {
    const store = await open();
    const saved = await saveWithBoxes(store, 'c'.repeat(64), [CAR]);
    await store.comfyui.recordOutput({ instance: 'local', promptId: 'p1', node: '9', batchIndex: 0, filename: 'ComfyUI_00001_.png', subfolder: '', type: 'output', generationId: saved.generationId, scoreId: saved.scoreId, errorCode: null });
    const [found, missing] = await store.dashboard.comfyVerdicts([
      { filename: 'ComfyUI_00001_.png', subfolder: '', type: 'output' },
      { filename: 'other.png', subfolder: '', type: 'output' },
    ]);
    expect(found).toMatchObject({ generationId: saved.generationId, image: { width: 64, height: 64 }, detections: [CAR] });
    expect(missing).toBeNull();
  });

  it('fills the table from the result JSON of scores stored by version 4', async () => {
    const path = file();
    const db = new Database(path);
    db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
    for (const migration of MIGRATIONS.filter((m) => m.version <= 4)) {
      db.exec(migration.sql);
      db.prepare('INSERT INTO schema_migrations VALUES (?, ?, ?)').run(migration.version, migration.name, '');
    }
    db.prepare(`INSERT INTO generations (id, created_at, source, prompt, prompt_key, image_sha256, bytes, width, height) VALUES (1, '', 'api', 'a dog', 'a dog', 'x', 1, 64, 64), (2, '', 'api', NULL, '', 'y', 1, 8, 8)`).run();
    const insert = db.prepare(`INSERT INTO scores (id, generation_id, pack_name, pack_version, mos, level, resolved_prompt, result_json, created_at) VALUES (?, ?, 'lite', '0.3.0', 3, 'good', NULL, ?, '')`);
    insert.run(1, 1, JSON.stringify({ ...fakeResult(), detections: [DOG, CAR] }));
    insert.run(2, 2, JSON.stringify(fakeResult()));
    db.close();
    const store = await open(path);
    expect((await store.getDetections(1))!.detections).toEqual([DOG, CAR]);
    expect((await store.getDetections(2))!.detections).toEqual([]);
  });
});
