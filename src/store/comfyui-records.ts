// What the ComfyUI bridge keeps beside the generations: the per-instance cursor (every prompt_id it has
// handled), one row per output image with its ComfyUI ids, batch rank and quarantine move, and the
// lineage of the prompts it re-queued. Tables come from migration 2.
import type Database from 'better-sqlite3';
import type { Verdict } from '../policy/index.js';
import { prepared } from './statements.js';

type Run = <T>(work: (db: Database.Database) => T) => Promise<T>;

/** How ComfyUI names a file: `/view?filename&subfolder&type`. */
export interface ComfyFileRef {
  filename: string;
  subfolder: string;
  type: string;
}

export interface ComfyOutputRecord extends ComfyFileRef {
  instance: string;
  promptId: string;
  node: string;
  /** Position of the image in its node's output list. */
  batchIndex: number;
  generationId: number | null;
  scoreId: number | null;
  /** Error code when the image could not be fetched or scored (it is then never retried). */
  errorCode: string | null;
  /** Position in its batch, best first (null for a batch of one). */
  rank?: number | null | undefined;
}

export interface StoredComfyOutput extends ComfyOutputRecord {
  id: number;
  rank: number | null;
  quarantinedTo: string | null;
}

export interface ComfyPromptLineage {
  promptId: string;
  /** The prompt the user queued; null for that prompt itself. */
  rootPromptId: string | null;
  parentPromptId: string | null;
  parentGenerationId: number | null;
  /** 0 for the user's prompt, n for the n-th regeneration. */
  attempt: number;
  /** ComfyUI's status_str once handled, null while a regeneration is queued. */
  status: string | null;
}

export interface ComfyRankedOutput {
  outputId: number;
  node: string;
  batchIndex: number;
  filename: string;
  subfolder: string;
  type: string;
  rank: number | null;
  generationId: number | null;
  mos: number | null;
  verdict: Verdict | null;
  errorCode: string | null;
  quarantinedTo: string | null;
}

interface OutputRow {
  id: number;
  instance: string;
  prompt_id: string;
  node_id: string;
  filename: string;
  subfolder: string;
  type: string;
  batch_index: number;
  generation_id: number | null;
  score_id: number | null;
  rank: number | null;
  error_code: string | null;
  quarantined_to: string | null;
}

function toOutput(row: OutputRow): StoredComfyOutput {
  return {
    id: row.id,
    instance: row.instance,
    promptId: row.prompt_id,
    node: row.node_id,
    filename: row.filename,
    subfolder: row.subfolder,
    type: row.type,
    batchIndex: row.batch_index,
    generationId: row.generation_id,
    scoreId: row.score_id,
    rank: row.rank,
    errorCode: row.error_code,
    quarantinedTo: row.quarantined_to,
  };
}

/** The bridge's tables; obtained from `Store.comfyui`, sharing the store's retrying read/write. */
export class ComfyRecords {
  constructor(
    private readonly read: Run,
    private readonly write: Run,
  ) {}

  /** Every prompt_id of `instance` already handled: the cursor that survives bridge and ComfyUI restarts. */
  async handledPrompts(instance: string): Promise<Set<string>> {
    return this.read((db) => {
      const rows = prepared(db, 'SELECT prompt_id AS id FROM comfyui_prompts WHERE instance = ? AND handled_at IS NOT NULL').all(instance) as { id: string }[];
      return new Set(rows.map((row) => row.id));
    });
  }

  /** The output already recorded under this file name (a cached resubmission repeats old names), or null. */
  async findOutput(instance: string, file: ComfyFileRef): Promise<StoredComfyOutput | null> {
    return this.read((db) => {
      const row = prepared(db, 'SELECT * FROM comfyui_outputs WHERE instance = ? AND filename = ? AND subfolder = ? AND type = ?')
        .get(instance, file.filename, file.subfolder, file.type) as OutputRow | undefined;
      return row === undefined ? null : toOutput(row);
    });
  }

  /** Records an output once; a second record of the same file keeps the first. Returns the stored row. */
  async recordOutput(output: ComfyOutputRecord): Promise<StoredComfyOutput> {
    return this.write((db) => {
      prepared(
        db,
        `INSERT INTO comfyui_outputs (instance, prompt_id, node_id, filename, subfolder, type, batch_index, generation_id, score_id, error_code, rank, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (instance, filename, subfolder, type) DO NOTHING`,
      ).run(
        output.instance,
        output.promptId,
        output.node,
        output.filename,
        output.subfolder,
        output.type,
        output.batchIndex,
        output.generationId,
        output.scoreId,
        output.errorCode,
        output.rank ?? null,
        new Date().toISOString(),
      );
      const row = prepared(db, 'SELECT * FROM comfyui_outputs WHERE instance = ? AND filename = ? AND subfolder = ? AND type = ?')
        .get(output.instance, output.filename, output.subfolder, output.type) as OutputRow;
      return toOutput(row);
    });
  }

  async setQuarantined(outputId: number, movedTo: string): Promise<void> {
    await this.write((db) => prepared(db, 'UPDATE comfyui_outputs SET quarantined_to = ? WHERE id = ?').run(movedTo, outputId));
  }

  /** Marks a prompt handled (the cursor moves past it); keeps the lineage of a regeneration row. */
  async markPromptHandled(instance: string, promptId: string, status: string): Promise<void> {
    await this.write((db) => {
      prepared(
        db,
        `INSERT INTO comfyui_prompts (instance, prompt_id, status, attempt, handled_at) VALUES (?, ?, ?, 0, ?)
         ON CONFLICT (instance, prompt_id) DO UPDATE SET status = excluded.status, handled_at = excluded.handled_at`,
      ).run(instance, promptId, status, new Date().toISOString());
    });
  }

  /** Records a prompt the bridge re-queued, before it runs, so its outputs know their parent. */
  async recordRegeneration(instance: string, lineage: Omit<ComfyPromptLineage, 'status'>): Promise<void> {
    await this.write((db) => {
      prepared(
        db,
        `INSERT INTO comfyui_prompts (instance, prompt_id, root_prompt_id, parent_prompt_id, parent_generation_id, attempt, submitted_at)
         VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (instance, prompt_id) DO NOTHING`,
      ).run(instance, lineage.promptId, lineage.rootPromptId, lineage.parentPromptId, lineage.parentGenerationId, lineage.attempt, new Date().toISOString());
    });
  }

  /** Drops a regeneration ComfyUI refused, so it does not count against the budget. */
  async forgetRegeneration(instance: string, promptId: string): Promise<void> {
    await this.write((db) => prepared(db, 'DELETE FROM comfyui_prompts WHERE instance = ? AND prompt_id = ? AND handled_at IS NULL').run(instance, promptId));
  }

  async lineage(instance: string, promptId: string): Promise<ComfyPromptLineage | null> {
    return this.read((db) => {
      const row = prepared(db, 'SELECT prompt_id, root_prompt_id, parent_prompt_id, parent_generation_id, attempt, status FROM comfyui_prompts WHERE instance = ? AND prompt_id = ?')
        .get(instance, promptId) as
        | { prompt_id: string; root_prompt_id: string | null; parent_prompt_id: string | null; parent_generation_id: number | null; attempt: number; status: string | null }
        | undefined;
      if (row === undefined) return null;
      return {
        promptId: row.prompt_id,
        rootPromptId: row.root_prompt_id,
        parentPromptId: row.parent_prompt_id,
        parentGenerationId: row.parent_generation_id,
        attempt: row.attempt,
        status: row.status,
      };
    });
  }

  /** Regenerations already queued for the user's prompt `rootPromptId` (the budget's counter). */
  async regenerationCount(instance: string, rootPromptId: string): Promise<number> {
    return this.read((db) => (prepared(db, 'SELECT COUNT(*) AS n FROM comfyui_prompts WHERE instance = ? AND root_prompt_id = ?').get(instance, rootPromptId) as { n: number }).n);
  }

  /** Whether any output of the prompt or of its regenerations has been accepted (then regeneration stops). */
  async lineageHasAccepted(instance: string, rootPromptId: string): Promise<boolean> {
    return this.read((db) => {
      const rows = prepared(
        db,
          `SELECT v.verdict FROM comfyui_outputs o
             JOIN verdicts v ON v.score_id = o.score_id AND v.id = (SELECT MAX(v2.id) FROM verdicts v2 WHERE v2.score_id = o.score_id)
            WHERE o.instance = ? AND (o.prompt_id = ? OR o.prompt_id IN (SELECT prompt_id FROM comfyui_prompts WHERE instance = ? AND root_prompt_id = ?))`,
        )
        .all(instance, rootPromptId, instance, rootPromptId) as { verdict: string }[];
      return rows.some((row) => row.verdict === 'accept');
    });
  }

  /** The outputs of one prompt (on any instance when `instance` is omitted), by node then rank. */
  async ranking(promptId: string, instance?: string): Promise<(ComfyRankedOutput & { instance: string })[]> {
    return this.read((db) => {
      const rows = prepared(
        db,
          `SELECT o.*, s.mos AS mos,
                  (SELECT v.reasons_json FROM verdicts v WHERE v.score_id = o.score_id ORDER BY v.id DESC LIMIT 1) AS verdict_json
             FROM comfyui_outputs o LEFT JOIN scores s ON s.id = o.score_id
            WHERE o.prompt_id = ? AND (? IS NULL OR o.instance = ?)
            ORDER BY o.instance, o.node_id, o.rank IS NULL, o.rank, o.batch_index`,
        )
        .all(promptId, instance ?? null, instance ?? null) as (OutputRow & { mos: number | null; verdict_json: string | null })[];
      return rows.map((row) => ({
        instance: row.instance,
        outputId: row.id,
        node: row.node_id,
        batchIndex: row.batch_index,
        filename: row.filename,
        subfolder: row.subfolder,
        type: row.type,
        rank: row.rank,
        generationId: row.generation_id,
        mos: row.mos,
        verdict: row.verdict_json === null ? null : (JSON.parse(row.verdict_json) as Verdict),
        errorCode: row.error_code,
        quarantinedTo: row.quarantined_to,
      }));
    });
  }

  /** How many outputs the bridge has recorded for `instance` (scored and failed), for tests and health. */
  async outputCount(instance: string): Promise<{ scored: number; failed: number }> {
    return this.read((db) => {
      const row = prepared(db, 'SELECT SUM(error_code IS NULL) AS scored, SUM(error_code IS NOT NULL) AS failed FROM comfyui_outputs WHERE instance = ?')
        .get(instance) as { scored: number | null; failed: number | null };
      return { scored: row.scored ?? 0, failed: row.failed ?? 0 };
    });
  }
}
