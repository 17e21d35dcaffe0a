// What the dashboard reads: a paged, filtered, sorted feed of generations (each with its latest score
// and verdict), every attempt at one prompt with its lineage, sampling parameters by image, and the
// verdicts (and object boxes) of ComfyUI files in one batch. Tables and indexes come from migrations 1–5.
import type Database from 'better-sqlite3';
import type { Verdict } from '../policy/index.js';
import type { Aspect, DetectionResult, Finding, ScoreResult } from '../scoring/score-result.js';
import { ASPECTS } from '../scoring/score-result.js';
import type { ComfyFileRef } from './comfyui-records.js';
import { detectionsOf } from './detection-rows.js';
import type { GenerationRow } from './generation-rows.js';
import { prepared } from './statements.js';

type Run = <T>(work: (db: Database.Database) => T) => Promise<T>;

export const FEED_SORTS = ['newest', 'oldest', 'mos', 'quality', 'correspondence', 'authenticity'] as const;
export type FeedSort = (typeof FEED_SORTS)[number];

export interface FeedFilter {
  verdict?: 'accept' | 'reject' | undefined;
  source?: string | undefined;
  pack?: string | undefined;
  /** With `level`: only generations whose `aspect` was judged at that level. */
  aspect?: Aspect | undefined;
  level?: string | undefined;
  /** ISO date-times, inclusive. */
  from?: string | undefined;
  to?: string | undefined;
  /** Exact prompt key (promptKey of the prompt). */
  promptKey?: string | undefined;
  sort?: FeedSort | undefined;
  /** Best first for score sorts; false gives worst first. */
  descending?: boolean | undefined;
  offset?: number | undefined;
  limit?: number | undefined;
}

export interface GenerationParamsRecord {
  seed?: number;
  sampler?: string;
  scheduler?: string;
  steps?: number;
  cfg?: number;
}

/** One generation as the dashboard shows it: its latest score, verdict and lineage. */
export interface FeedItem {
  id: number;
  createdAt: string;
  source: string;
  external: { promptId: string | null; node: string | null; filename: string | null };
  prompt: string | null;
  negativePrompt: string | null;
  promptKey: string;
  image: { sha256: string; width: number | null; height: number | null; file: string | null };
  parentId: number | null;
  /** Generations that regenerate this one. */
  childIds: number[];
  pack: { name: string; version: string };
  mos: number;
  level: string;
  verdict: Verdict | null;
  aspects: Record<Aspect, { mos: number; level: string } | null>;
  /** The score's findings; `info` ones report ("all object checks pass"), the others are problems. */
  findings: Pick<Finding, 'text' | 'severity'>[];
  params: GenerationParamsRecord | null;
  /** The latest score's object boxes, most confident first (migration 5); [] when no detector ran. */
  detections: DetectionResult[];
}

/** A generations row (less what the feed does not show) joined with its latest score, verdict and parameters. */
interface FeedRow extends Omit<GenerationRow, 'prompt_source' | 'bytes'> {
  prompt_norm: string | null;
  score_id: number;
  pack_name: string;
  pack_version: string;
  mos: number;
  level: string;
  result_json: string;
  verdict_json: string | null;
  params_json: string | null;
}

// The columns of a feed row: the generation, its latest score (s), that score's latest verdict and its
// image's parameters. FROM clauses differ by sort (below); each joins `s` and `g` and filters on LATEST.
const FEED_COLUMNS = `
  SELECT g.id, g.created_at, g.source, g.external_prompt_id, g.external_node, g.external_filename, g.prompt,
         g.negative_prompt, g.prompt_norm, g.image_sha256, g.file_ref, g.width, g.height, g.parent_id,
         s.id AS score_id, s.pack_name, s.pack_version, s.mos, s.level, s.result_json,
         (SELECT v.reasons_json FROM verdicts v WHERE v.score_id = s.id ORDER BY v.id DESC LIMIT 1) AS verdict_json,
         p.params_json`;
const LATEST = 's.id = (SELECT MAX(s2.id) FROM scores s2 WHERE s2.generation_id = g.id)';
const PARAMS = 'LEFT JOIN image_params p ON p.sha256 = g.image_sha256';
const FEED_SELECT = `${FEED_COLUMNS} FROM generations g JOIN scores s ON ${LATEST} ${PARAMS}`;

/**
 * FROM and ORDER BY of each sort. Score sorts start from the score's index (CROSS JOIN keeps SQLite
 * from reordering), so a page is read in order and the scan stops after it instead of sorting every
 * generation. An aspect a pack did not judge (NULL) sorts below every score.
 */
function sortPlan(sort: FeedSort, descending: boolean): { from: string; where: string; order: string; params: string[] } {
  const direction = descending ? 'DESC' : 'ASC';
  if (sort === 'newest' || sort === 'oldest') {
    return { from: `FROM generations g JOIN scores s ON ${LATEST} ${PARAMS}`, where: '', order: `g.id ${sort === 'newest' ? 'DESC' : 'ASC'}`, params: [] };
  }
  if (sort === 'mos') return { from: `FROM scores s CROSS JOIN generations g ${PARAMS}`, where: `g.id = s.generation_id AND ${LATEST}`, order: `s.mos ${direction}, s.id ${direction}`, params: [] };
  return {
    from: `FROM aspect_scores a CROSS JOIN scores s CROSS JOIN generations g ${PARAMS}`,
    where: `a.aspect = ? AND s.id = a.score_id AND g.id = s.generation_id AND ${LATEST}`,
    order: `a.mos ${direction}, a.rowid ${direction}`,
    params: [sort],
  };
}

function toItem(row: FeedRow, childIds: number[], detections: DetectionResult[]): FeedItem {
  const result = JSON.parse(row.result_json) as ScoreResult;
  const aspects = Object.fromEntries(
    ASPECTS.map((aspect) => {
      const value = result.aspects[aspect];
      return [aspect, value.mos === null ? null : { mos: value.mos, level: value.level }];
    }),
  ) as FeedItem['aspects'];
  return {
    id: row.id,
    createdAt: row.created_at,
    source: row.source,
    external: { promptId: row.external_prompt_id, node: row.external_node, filename: row.external_filename },
    prompt: row.prompt ?? result.prompt.text,
    negativePrompt: row.negative_prompt,
    promptKey: row.prompt_norm ?? '',
    image: { sha256: row.image_sha256, width: row.width, height: row.height, file: row.file_ref },
    parentId: row.parent_id,
    childIds,
    pack: { name: row.pack_name, version: row.pack_version },
    mos: row.mos,
    level: row.level,
    verdict: row.verdict_json === null ? null : (JSON.parse(row.verdict_json) as Verdict),
    aspects,
    findings: result.findings.map(({ text, severity }) => ({ text, severity })),
    params: row.params_json === null ? null : (JSON.parse(row.params_json) as GenerationParamsRecord),
    detections,
  };
}

/** Feed rows as items, with their children and boxes read in one query each. */
function toItems(db: Database.Database, rows: readonly FeedRow[]): FeedItem[] {
  const children = childrenOf(db, rows.map((row) => row.id));
  const boxes = detectionsOf(db, rows.map((row) => row.score_id));
  return rows.map((row) => toItem(row, children.get(row.id) ?? [], boxes.get(row.score_id) ?? []));
}

function childrenOf(db: Database.Database, ids: number[]): Map<number, number[]> {
  const children = new Map<number, number[]>();
  if (ids.length === 0) return children;
  const rows = db.prepare(`SELECT id, parent_id AS parentId FROM generations WHERE parent_id IN (${ids.map(() => '?').join(',')}) ORDER BY id`).all(...ids) as { id: number; parentId: number }[];
  for (const row of rows) children.set(row.parentId, [...(children.get(row.parentId) ?? []), row.id]);
  return children;
}

const MAX_ATTEMPTS = 500;

export class DashboardQueries {
  constructor(private readonly read: Run, private readonly write: Run) {}

  /** One page of the feed; `hasMore` tells whether another page follows. */
  async feed(filter: FeedFilter = {}): Promise<{ items: FeedItem[]; hasMore: boolean }> {
    return this.read((db) => {
      const where: string[] = [];
      const params: (string | number)[] = [];
      if (filter.verdict !== undefined) {
        where.push('s.verdict = ?');
        params.push(filter.verdict);
      }
      if (filter.source !== undefined) {
        where.push('g.source = ?');
        params.push(filter.source);
      }
      if (filter.pack !== undefined) {
        where.push('s.pack_name = ?');
        params.push(filter.pack);
      }
      if (filter.from !== undefined) {
        where.push('g.created_at >= ?');
        params.push(new Date(filter.from).toISOString());
      }
      if (filter.to !== undefined) {
        where.push('g.created_at <= ?');
        params.push(new Date(filter.to).toISOString());
      }
      if (filter.promptKey !== undefined) {
        where.push('g.prompt_norm = ?');
        params.push(filter.promptKey);
      }
      if (filter.aspect !== undefined && filter.level !== undefined) {
        where.push('EXISTS (SELECT 1 FROM aspect_scores f WHERE f.score_id = s.id AND f.aspect = ? AND f.level = ?)');
        params.push(filter.aspect, filter.level);
      }
      const plan = sortPlan(filter.sort ?? 'newest', filter.descending !== false);
      if (plan.where !== '') where.unshift(plan.where);
      const limit = filter.limit ?? 50;
      const sql = `${FEED_COLUMNS} ${plan.from} ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY ${plan.order} LIMIT ? OFFSET ?`;
      // The SQL text varies only with which filters are present: a bounded set, so caching it is safe.
      const rows = prepared(db, sql).all(...plan.params, ...params, limit + 1, filter.offset ?? 0) as FeedRow[];
      return { items: toItems(db, rows.slice(0, limit)), hasMore: rows.length > limit };
    });
  }

  /**
   * Every attempt at the prompt of generation `id`, oldest first: the generations with the same prompt
   * key, and those linked to them by regeneration lineage (whatever their prompt). Null for an unknown id.
   */
  async promptAttempts(id: number): Promise<{ promptKey: string; attempts: FeedItem[] } | null> {
    return this.read((db) => {
      const seed = prepared(db, 'SELECT prompt_norm AS promptKey FROM generations WHERE id = ?').get(id) as { promptKey: string | null } | undefined;
      if (seed === undefined) return null;
      const key = seed.promptKey ?? '';
      // The group: same key (or the one generation when it has no prompt), closed over parent/child links.
      const rows = db
        .prepare(
          `WITH RECURSIVE grp(id) AS (
             SELECT id FROM generations WHERE (? <> '' AND prompt_norm = ?) OR id = ?
             UNION
             SELECT g.id FROM generations g JOIN grp ON g.parent_id = grp.id
             UNION
             SELECT g.parent_id FROM generations g JOIN grp ON g.id = grp.id WHERE g.parent_id IS NOT NULL
           )
           ${FEED_SELECT} WHERE g.id IN (SELECT id FROM grp) ORDER BY g.id ASC LIMIT ?`,
        )
        .all(key, key, id, MAX_ATTEMPTS) as FeedRow[];
      return { promptKey: key, attempts: toItems(db, rows) };
    });
  }

  /** Records the sampling parameters read from an image (first reading wins). */
  async saveImageParams(sha256: string, params: GenerationParamsRecord): Promise<void> {
    await this.write((db) => {
      prepared(db, 'INSERT INTO image_params (sha256, params_json, created_at) VALUES (?, ?, ?) ON CONFLICT (sha256) DO NOTHING').run(sha256, JSON.stringify(params), new Date().toISOString());
    });
  }

  /** The newest stored verdict of each ComfyUI file (any instance), in the order asked; null where unknown. */
  async comfyVerdicts(
    files: readonly ComfyFileRef[],
  ): Promise<({ generationId: number; mos: number; level: string; rank: number | null; verdict: Verdict | null; image: { width: number | null; height: number | null }; detections: DetectionResult[] } | null)[]> {
    return this.read((db) => {
      const lookup = prepared(
        db,
        `SELECT o.generation_id AS generationId, o.rank, s.id AS scoreId, s.mos, s.level, g.width, g.height,
                (SELECT v.reasons_json FROM verdicts v WHERE v.score_id = s.id ORDER BY v.id DESC LIMIT 1) AS verdictJson
           FROM comfyui_outputs o JOIN scores s ON s.id = o.score_id JOIN generations g ON g.id = o.generation_id
          WHERE o.filename = ? AND o.subfolder = ? AND o.type = ?
          ORDER BY o.id DESC LIMIT 1`,
      );
      return files.map((file) => {
        const row = lookup.get(file.filename, file.subfolder, file.type) as
          | { generationId: number; rank: number | null; scoreId: number; mos: number; level: string; width: number | null; height: number | null; verdictJson: string | null }
          | undefined;
        if (row === undefined) return null;
        return {
          generationId: row.generationId,
          mos: row.mos,
          level: row.level,
          rank: row.rank,
          verdict: row.verdictJson === null ? null : (JSON.parse(row.verdictJson) as Verdict),
          image: { width: row.width, height: row.height },
          detections: detectionsOf(db, [row.scoreId]).get(row.scoreId)!,
        };
      });
    });
  }
}
