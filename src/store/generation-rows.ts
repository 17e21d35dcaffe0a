// Row-level helpers shared by the store's transactions: the latest verdict of a score, appending a
// verdict or an event, and turning a generations row into its view.
import type Database from 'better-sqlite3';
import type { Verdict } from '../policy/index.js';
import type { ScoreResult } from '../scoring/score-result.js';
import { prepared } from './statements.js';
import type { GenerationView, PromptSource, StoredEvent } from './store-types.js';

export interface GenerationRow {
  id: number;
  created_at: string;
  source: string;
  external_prompt_id: string | null;
  external_node: string | null;
  external_filename: string | null;
  prompt: string | null;
  prompt_source: PromptSource;
  negative_prompt: string | null;
  image_sha256: string;
  file_ref: string | null;
  width: number | null;
  height: number | null;
  bytes: number;
  parent_id: number | null;
}

export function latestVerdict(db: Database.Database, scoreId: number): Verdict | null {
  const row = prepared(db, 'SELECT reasons_json AS json FROM verdicts WHERE score_id = ? ORDER BY id DESC LIMIT 1').get(scoreId) as { json: string } | undefined;
  return row === undefined ? null : (JSON.parse(row.json) as Verdict);
}

export function insertVerdict(db: Database.Database, scoreId: number, verdict: Verdict, now: string): void {
  prepared(db, 'INSERT INTO verdicts (score_id, verdict, reasons_json, created_at) VALUES (?, ?, ?, ?)').run(scoreId, verdict.verdict, JSON.stringify(verdict), now);
  // The latest verdict beside its score: the dashboard's feed filters on it (migration 4).
  prepared(db, 'UPDATE scores SET verdict = ? WHERE id = ?').run(verdict.verdict, scoreId);
}

export function appendEvent(db: Database.Database, type: StoredEvent['type'], generationId: number, now: string, data: Record<string, unknown>): StoredEvent {
  const id = Number(prepared(db, 'INSERT INTO events (type, generation_id, payload_json, created_at) VALUES (?, ?, ?, ?)').run(type, generationId, JSON.stringify(data), now).lastInsertRowid);
  return { id, type, createdAt: now, data };
}

export function toView(db: Database.Database, row: GenerationRow): GenerationView {
  const scores = db
    .prepare('SELECT id, created_at AS createdAt, pack_name AS packName, pack_version AS packVersion, mos, level, result_json AS resultJson FROM scores WHERE generation_id = ? ORDER BY id')
    .all(row.id) as { id: number; createdAt: string; packName: string; packVersion: string; mos: number; level: string; resultJson: string }[];
  return {
    id: row.id,
    createdAt: row.created_at,
    source: row.source,
    external: { promptId: row.external_prompt_id, node: row.external_node, filename: row.external_filename },
    prompt: row.prompt,
    promptSource: row.prompt_source,
    negativePrompt: row.negative_prompt,
    image: { sha256: row.image_sha256, width: row.width, height: row.height, bytes: row.bytes, file: row.file_ref },
    parentId: row.parent_id,
    scores: scores.map((score) => ({
      id: score.id,
      createdAt: score.createdAt,
      pack: { name: score.packName, version: score.packVersion },
      mos: score.mos,
      level: score.level,
      verdict: latestVerdict(db, score.id),
      result: JSON.parse(score.resultJson) as ScoreResult,
    })),
  };
}
