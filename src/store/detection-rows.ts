// The detections table (migration 5): a score's object boxes written beside it, and read back by score
// for the API, the dashboard's feed and the ComfyUI lookup.
import type Database from 'better-sqlite3';
import type { DetectionResult } from '../scoring/score-result.js';
import { prepared } from './statements.js';

export function insertDetections(db: Database.Database, scoreId: number, detections: readonly DetectionResult[] | undefined): void {
  if (detections === undefined) return;
  const row = prepared(db, 'INSERT INTO detections (score_id, rank, label, score, x, y, width, height) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  detections.forEach((d, rank) => row.run(scoreId, rank, d.label, d.score, d.box.x, d.box.y, d.box.width, d.box.height));
}

interface DetectionRow {
  scoreId: number;
  label: string;
  score: number;
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The boxes of each score in `scoreIds`, most confident first; a score without boxes maps to []. */
export function detectionsOf(db: Database.Database, scoreIds: readonly number[]): Map<number, DetectionResult[]> {
  const out = new Map<number, DetectionResult[]>(scoreIds.map((id) => [id, []]));
  // Chunks stay under SQLite's bound-parameter limit whatever the page size.
  for (let i = 0; i < scoreIds.length; i += 500) {
    const chunk = scoreIds.slice(i, i + 500);
    const rows = db
      .prepare(`SELECT score_id AS scoreId, label, score, x, y, width, height FROM detections WHERE score_id IN (${chunk.map(() => '?').join(',')}) ORDER BY score_id, rank`)
      .all(...chunk) as DetectionRow[];
    for (const r of rows) out.get(r.scoreId)!.push({ label: r.label, score: r.score, box: { x: r.x, y: r.y, width: r.width, height: r.height } });
  }
  return out;
}
