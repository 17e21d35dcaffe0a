// Persistence of generations, their scores, verdicts and the event log in one SQLite file (WAL).
// Writes are synchronous transactions (better-sqlite3), so a score is on disk before the caller
// acknowledges it; the file itself (open, migrate, reconnect, lock retries) is store-connection.ts.
import type Database from 'better-sqlite3';
import type { Verdict } from '../policy/index.js';
import { promptKey as normalisedPromptKey } from '../prompts/index.js';
import { ASPECTS, type ScoreResult } from '../scoring/score-result.js';
import { ComfyRecords } from './comfyui-records.js';
import { DashboardQueries } from './dashboard-queries.js';
import { detectionsOf, insertDetections } from './detection-rows.js';
import { appendEvent, insertVerdict, latestVerdict, toView, type GenerationRow } from './generation-rows.js';
import { prepared } from './statements.js';
import { StoreConnection, type StoreHealth, type StoreOptions } from './store-connection.js';
import type { GenerationDetections, GenerationFilter, GenerationView, NewGeneration, PackId, PromptSource, SavedScore, StoredEvent, StoredScore } from './store-types.js';

export type { GenerationDetections, ExternalIds, GenerationFilter, GenerationView, NewGeneration, PackId, PromptSource, SavedScore, StoredEvent, StoredScore } from './store-types.js';

export type { StoreHealth, StoreOptions } from './store-connection.js';

export class Store {
  private constructor(private readonly connection: StoreConnection) {}

  /**
   * Opens (creating and migrating) the database. Never throws for a bad file: the store then reports
   * the error through `health()` and every call, and reconnects by itself once the fault is gone.
   */
  static async open(file: string, options: StoreOptions = {}): Promise<Store> {
    return new Store(await StoreConnection.open(file, options));
  }

  get file(): string {
    return this.connection.file;
  }

  private write<T>(work: (db: Database.Database) => T): Promise<T> {
    return this.connection.write(work);
  }

  private read<T>(work: (db: Database.Database) => T): Promise<T> {
    return this.connection.read(work);
  }

  /** Whether the database can be written right now (a rolled-back write, no waiting for locks). */
  health(): Promise<StoreHealth> {
    return this.connection.health();
  }

  /** The stored score of this image + prompt under this pack version, or null (the dedupe lookup). */
  async findScore(imageSha256: string, prompt: string | null, pack: PackId): Promise<StoredScore | null> {
    return this.read((db) => {
      const row = prepared(
        db,
        `SELECT s.id AS scoreId, s.generation_id AS generationId, s.result_json AS resultJson
           FROM generations g JOIN scores s ON s.generation_id = g.id
          WHERE g.image_sha256 = ? AND g.prompt_key = ? AND s.pack_name = ? AND s.pack_version = ?`,
      ).get(imageSha256, prompt ?? '', pack.name, pack.version) as { scoreId: number; generationId: number; resultJson: string } | undefined;
      if (row === undefined) return null;
      return { generationId: row.generationId, scoreId: row.scoreId, result: JSON.parse(row.resultJson) as ScoreResult, verdict: latestVerdict(db, row.scoreId) };
    });
  }

  /**
   * Stores a generation (or reuses the one with the same image + prompt), its score, aspects, verdict
   * and a `generation.scored` event, all in one transaction. Throws AGQ_ERR_STORE_* on failure.
   */
  async saveScore(generation: NewGeneration, result: ScoreResult, verdict: Verdict): Promise<SavedScore> {
    return this.write((db) => {
      const now = new Date().toISOString();
      const promptKey = generation.prompt ?? '';
      // The effective prompt is stored (and searched by /v1/generations?prompt=): the given one, or the
      // one the scorer recovered from the image; the key stays the given one, so a repeat is still found.
      const effective = effectivePrompt(generation.prompt, result);
      prepared(
        db,
        `INSERT INTO generations (created_at, source, external_prompt_id, external_node, external_filename, prompt, prompt_source, prompt_key,
                                  negative_prompt, image_sha256, file_ref, width, height, bytes, parent_id, prompt_norm)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (image_sha256, prompt_key) DO NOTHING`,
      ).run(
        now,
        generation.source,
        generation.external?.promptId ?? null,
        generation.external?.node ?? null,
        generation.external?.filename ?? null,
        effective.text,
        effective.source,
        promptKey,
        generation.negativePrompt,
        generation.imageSha256,
        generation.fileRef,
        result.image.width,
        result.image.height,
        generation.bytes,
        generation.parentId ?? null,
        normalisedPromptKey(effective.text),
      );
      const generationId = (prepared(db, 'SELECT id FROM generations WHERE image_sha256 = ? AND prompt_key = ?').get(generation.imageSha256, promptKey) as { id: number }).id;
      const existing = prepared(db, 'SELECT id, result_json AS resultJson FROM scores WHERE generation_id = ? AND pack_name = ? AND pack_version = ?')
        .get(generationId, result.pack.name, result.pack.version) as { id: number; resultJson: string } | undefined;
      if (existing !== undefined) {
        return { generationId, scoreId: existing.id, result: JSON.parse(existing.resultJson) as ScoreResult, verdict: latestVerdict(db, existing.id), events: [], inserted: false };
      }
      const scoreId = Number(
        prepared(db, 'INSERT INTO scores (generation_id, pack_name, pack_version, mos, level, resolved_prompt, result_json, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
          .run(generationId, result.pack.name, result.pack.version, result.mos, result.level, result.prompt.text, JSON.stringify(result), now).lastInsertRowid,
      );
      const aspectRow = prepared(db, 'INSERT INTO aspect_scores (score_id, aspect, mos, level, reason) VALUES (?, ?, ?, ?, ?)');
      for (const aspect of ASPECTS) {
        const value = result.aspects[aspect];
        if (value.mos === null) aspectRow.run(scoreId, aspect, null, null, 'reason' in value ? value.reason : null);
        else aspectRow.run(scoreId, aspect, value.mos, 'level' in value ? value.level : null, null);
      }
      insertVerdict(db, scoreId, verdict, now);
      insertDetections(db, scoreId, result.detections);
      const event = appendEvent(db, 'generation.scored', generationId, now, {
        generationId,
        scoreId,
        source: generation.source,
        external: generation.external ?? {},
        parentId: generation.parentId ?? null,
        prompt: result.prompt.text,
        image: { sha256: generation.imageSha256, width: result.image.width, height: result.image.height, file: generation.fileRef },
        pack: result.pack,
        mos: result.mos,
        level: result.level,
        aspects: Object.fromEntries(ASPECTS.map((aspect) => [aspect, result.aspects[aspect].mos])),
        verdict,
      });
      return { generationId, scoreId, result, verdict, events: [event], inserted: true };
    });
  }

  /** Records a verdict for a stored score when it differs from the latest one (policy changed, batch rules). */
  async saveVerdict(generationId: number, scoreId: number, verdict: Verdict): Promise<StoredEvent | null> {
    return this.write((db) => {
      const latest = latestVerdict(db, scoreId);
      if (latest !== null && JSON.stringify(latest) === JSON.stringify(verdict)) return null;
      const now = new Date().toISOString();
      insertVerdict(db, scoreId, verdict, now);
      return appendEvent(db, 'generation.verdict', generationId, now, { generationId, scoreId, verdict });
    });
  }

  /**
   * Links a generation to the file a client saved it as (e.g. ComfyUI's *Save image with score*), so
   * `/v1/generations` shows where the image went. Returns false when there is no such generation.
   */
  async linkFile(generationId: number, file: { filename: string; fileRef?: string | null | undefined }): Promise<boolean> {
    return this.write((db) => {
      const changed = prepared(db, 'UPDATE generations SET external_filename = ?, file_ref = COALESCE(?, file_ref) WHERE id = ?').run(file.filename, file.fileRef ?? null, generationId).changes;
      return changed > 0;
    });
  }

  async listGenerations(filter: GenerationFilter = {}): Promise<GenerationView[]> {
    return this.read((db) => {
      const where: string[] = [];
      const params: (string | number)[] = [];
      if (filter.prompt !== undefined) {
        where.push("g.prompt LIKE ? ESCAPE '\\'");
        params.push(`%${filter.prompt.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
      }
      if (filter.promptId !== undefined) {
        where.push('g.external_prompt_id = ?');
        params.push(filter.promptId);
      }
      if (filter.node !== undefined) {
        where.push('g.external_node = ?');
        params.push(filter.node);
      }
      if (typeof filter.since === 'number') {
        where.push('g.id > ?');
        params.push(filter.since);
      } else if (typeof filter.since === 'string') {
        where.push('g.created_at >= ?');
        params.push(new Date(filter.since).toISOString());
      }
      if (filter.verdict !== undefined) {
        // The latest verdict of any of the generation's scores decides.
        where.push(
          `EXISTS (SELECT 1 FROM scores s JOIN verdicts v ON v.score_id = s.id
                    WHERE s.generation_id = g.id AND v.verdict = ?
                      AND v.id = (SELECT MAX(v2.id) FROM verdicts v2 WHERE v2.score_id = s.id))`,
        );
        params.push(filter.verdict);
      }
      const sql = `SELECT * FROM generations g ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY g.id DESC LIMIT ?`;
      const rows = db.prepare(sql).all(...params, filter.limit ?? 50) as GenerationRow[];
      return rows.map((row) => toView(db, row));
    });
  }

  async getGeneration(id: number): Promise<GenerationView | null> {
    return this.read((db) => {
      const row = db.prepare('SELECT * FROM generations WHERE id = ?').get(id) as GenerationRow | undefined;
      return row === undefined ? null : toView(db, row);
    });
  }

  /** The object boxes of generation `id`'s latest score (empty when its pack ran no detector); null for an unknown id. */
  async getDetections(id: number): Promise<GenerationDetections | null> {
    return this.read((db) => {
      const row = db
        .prepare('SELECT g.width, g.height, s.id AS scoreId, s.pack_name AS name, s.pack_version AS version FROM generations g JOIN scores s ON s.generation_id = g.id WHERE g.id = ? ORDER BY s.id DESC LIMIT 1')
        .get(id) as { width: number | null; height: number | null; scoreId: number; name: string; version: string } | undefined;
      if (row === undefined) return null;
      return { generationId: id, scoreId: row.scoreId, pack: { name: row.name, version: row.version }, image: { width: row.width, height: row.height }, detections: detectionsOf(db, [row.scoreId]).get(row.scoreId)! };
    });
  }

  /** Events with an id above `afterId`, oldest first: what a reconnecting stream client missed. */
  async eventsSince(afterId: number, limit = 1_000): Promise<StoredEvent[]> {
    return this.read((db) => {
      const rows = db.prepare('SELECT id, type, payload_json AS payload, created_at AS createdAt FROM events WHERE id > ? ORDER BY id LIMIT ?').all(afterId, limit) as {
        id: number;
        type: StoredEvent['type'];
        payload: string;
        createdAt: string;
      }[];
      return rows.map((row) => ({ id: row.id, type: row.type, createdAt: row.createdAt, data: JSON.parse(row.payload) as Record<string, unknown> }));
    });
  }

  /** The id of the newest stored event (0 when there is none): the cursor a stream client can resume from. */
  async lastEventId(): Promise<number> {
    return this.read((db) => (db.prepare('SELECT COALESCE(MAX(id), 0) AS id FROM events').get() as { id: number }).id);
  }

  /** The ComfyUI bridge's records (cursor, outputs, lineage) in this database. */
  get comfyui(): ComfyRecords {
    return new ComfyRecords((work) => this.read(work), (work) => this.write(work));
  }

  /** The dashboard's reads (feed, prompt attempts, ComfyUI verdicts) and image parameters. */
  get dashboard(): DashboardQueries {
    return new DashboardQueries((work) => this.read(work), (work) => this.write(work));
  }

  /** Closes the file; a WAL checkpoint folds the log back so the file is complete on its own. */
  close(): void {
    this.connection.close();
  }
}

/** The prompt a generation is stored with, and where it came from. */
function effectivePrompt(given: string | null, result: ScoreResult): { text: string | null; source: PromptSource } {
  if (given !== null) return { text: given, source: 'argument' };
  return result.prompt.text === null ? { text: null, source: 'none' } : { text: result.prompt.text, source: result.prompt.source === 'none' ? 'embedded' : result.prompt.source };
}
