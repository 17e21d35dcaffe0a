// The dashboard's reads on a real SQLite file: migration 4 on a database made by version 3 (prompt keys
// and latest verdicts filled in), the feed's filters, sorts and pages, prompt groups with lineage,
// image parameters, ComfyUI verdicts by file.
import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { judge } from '../../src/policy/index.js';
import { MIGRATIONS, Store, type NewGeneration } from '../../src/store/index.js';
import { fakeResult } from '../fixtures/server/fake-scorer.js';

const opened: Store[] = [];
afterEach(() => {
  for (const store of opened.splice(0)) store.close();
});

const file = () => join(mkdtempSync(join(tmpdir(), 'agiqa-dash-store-')), 'agiqa.db');
async function open(path = file()): Promise<Store> {
  const store = await Store.open(path);
  opened.push(store);
  return store;
}

const POLICY = { thresholds: { overall: 2.5 } };
let counter = 0;
async function save(store: Store, mos: number, prompt: string | null, extra: Partial<NewGeneration> = {}) {
  counter += 1;
  const sha = counter.toString(16).padStart(64, '0');
  const result = fakeResult({ mos, sha256: sha, prompt });
  return store.saveScore({ source: 'api', prompt, negativePrompt: null, imageSha256: sha, fileRef: `${counter}.png`, bytes: 10, ...extra }, result, judge(result, POLICY));
}

describe('migration 4', () => {
  it('gives rows stored by version 3 their prompt key and latest verdict', async () => {
    const path = file();
    const db = new Database(path);
    db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
    for (const migration of MIGRATIONS.filter((m) => m.version <= 3)) {
      db.exec(migration.sql);
      db.prepare('INSERT INTO schema_migrations VALUES (?, ?, ?)').run(migration.version, migration.name, '');
    }
    db.prepare(`INSERT INTO generations (id, created_at, source, prompt, prompt_key, image_sha256, bytes) VALUES (1, '2026-01-01T00:00:00.000Z', 'api', 'A (Red:1.3) car', 'A (Red:1.3) car', 'x', 1)`).run();
    db.prepare(`INSERT INTO scores (id, generation_id, pack_name, pack_version, mos, level, resolved_prompt, result_json, created_at) VALUES (1, 1, 'fake', '1', 1.2, 'poor', 'A (Red:1.3) car', ?, '')`).run(JSON.stringify(fakeResult({ mos: 1.2 })));
    db.prepare(`INSERT INTO verdicts (score_id, verdict, reasons_json, created_at) VALUES (1, 'accept', '{"verdict":"accept","reasons":[]}', ''), (1, 'reject', '{"verdict":"reject","reasons":[]}', '')`).run();
    db.close();
    const store = await open(path);
    const feed = await store.dashboard.feed({ verdict: 'reject' });
    expect(feed.items.map((item) => [item.id, item.promptKey])).toEqual([[1, 'a red car']]);
    expect((await store.dashboard.feed({ verdict: 'accept' })).items).toEqual([]);
  });
});

describe('DashboardQueries', () => {
  it('filters by verdict, source, pack, aspect level and time; sorts by a score; pages', async () => {
    const store = await open();
    const saved = [];
    for (const [index, mos] of [1.1, 4.2, 2.7, 3.3].entries()) saved.push(await save(store, mos, `p${index}`, { source: index % 2 ? 'cli' : 'api' }));
    const ids = saved.map((entry) => entry.generationId);
    expect((await store.dashboard.feed({})).items.map((item) => item.id)).toEqual([...ids].reverse());
    expect((await store.dashboard.feed({ verdict: 'reject' })).items.map((item) => item.mos)).toEqual([1.1]);
    expect((await store.dashboard.feed({ source: 'cli' })).items.map((item) => item.mos)).toEqual([3.3, 4.2]);
    expect((await store.dashboard.feed({ pack: 'other' })).items).toEqual([]);
    expect((await store.dashboard.feed({ aspect: 'quality', level: 'fair' })).items.map((item) => item.mos)).toEqual([2.7]);
    expect((await store.dashboard.feed({ sort: 'authenticity', descending: false })).items.map((item) => item.mos)).toEqual([1.1, 2.7, 3.3, 4.2]);
    expect((await store.dashboard.feed({ to: '2000-01-01T00:00:00Z' })).items).toEqual([]);
    const first = await store.dashboard.feed({ sort: 'mos', limit: 3 });
    expect(first).toMatchObject({ hasMore: true });
    expect((await store.dashboard.feed({ sort: 'mos', limit: 3, offset: 3 })).items.map((item) => item.mos)).toEqual([1.1]);
    // A verdict recorded later (policy changed) is what the filter sees.
    await store.saveVerdict(ids[0]!, saved[0]!.scoreId, { verdict: 'accept', reasons: [], notJudged: [] });
    expect((await store.dashboard.feed({ verdict: 'reject' })).items).toEqual([]);
  });

  it("gives each finding with its severity, so a page tells a problem from a report", async () => {
    const store = await open();
    const sha = 'f'.repeat(64);
    const result = fakeResult({ mos: 3, sha256: sha, prompt: 'a dog' });
    result.findings = [
      { aspect: 'quality', code: 'blur', text: 'strong blur', severity: 'major' },
      { aspect: 'correspondence', code: 'objects-match', text: 'the object check passes (a dog)', severity: 'info' },
    ];
    await store.saveScore({ source: 'api', prompt: 'a dog', negativePrompt: null, imageSha256: sha, fileRef: 'f.png', bytes: 10 }, result, judge(result, POLICY));
    const [item] = (await store.dashboard.feed({})).items;
    expect(item!.findings).toEqual([
      { text: 'strong blur', severity: 'major' },
      { text: 'the object check passes (a dog)', severity: 'info' },
    ]);
  });

  it('groups the attempts at a prompt by its key, and follows regeneration lineage across prompt edits', async () => {
    const store = await open();
    const a = await save(store, 1, 'a (red:1.2) car');
    const b = await save(store, 2, 'a red car, photo', { parentId: a.generationId });
    const c = await save(store, 3, 'A red car');
    await save(store, 4, 'a blue car');
    const group = await store.dashboard.promptAttempts(c.generationId);
    expect(group!.promptKey).toBe('a red car');
    expect(group!.attempts.map((item) => item.id)).toEqual([a.generationId, b.generationId, c.generationId]);
    expect(group!.attempts[0]!.childIds).toEqual([b.generationId]);
    expect(await store.dashboard.promptAttempts(999)).toBeNull();
    // No prompt: the generation stands alone instead of joining every other prompt-less image.
    const lone = await save(store, 2, null);
    await save(store, 2, null);
    expect((await store.dashboard.promptAttempts(lone.generationId))!.attempts.map((item) => item.id)).toEqual([lone.generationId]);
  });

  it('keeps the first parameters read for an image and shows them on its generation', async () => {
    const store = await open();
    const saved = await save(store, 3, 'p');
    const sha = (await store.getGeneration(saved.generationId))!.image.sha256;
    await store.dashboard.saveImageParams(sha, { seed: 5, steps: 20 });
    await store.dashboard.saveImageParams(sha, { seed: 6 });
    expect((await store.dashboard.feed({})).items[0]!.params).toEqual({ seed: 5, steps: 20 });
  });
});
