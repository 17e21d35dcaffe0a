// Versioned schema migrations. Append only: a released migration is never edited, so every database
// created by any version reaches the same schema by replaying the missing steps in order.

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'generations, scores, verdicts, events',
    sql: `
      CREATE TABLE generations (
        id                INTEGER PRIMARY KEY,
        created_at        TEXT    NOT NULL,
        source            TEXT    NOT NULL,
        external_prompt_id TEXT,
        external_node     TEXT,
        external_filename TEXT,
        prompt            TEXT,
        -- '' when no prompt was given: NULLs never collide in a UNIQUE index, so dedupe needs a value
        prompt_key        TEXT    NOT NULL,
        negative_prompt   TEXT,
        image_sha256      TEXT    NOT NULL,
        file_ref          TEXT,
        width             INTEGER,
        height            INTEGER,
        bytes             INTEGER NOT NULL,
        parent_id         INTEGER REFERENCES generations(id),
        UNIQUE (image_sha256, prompt_key)
      );
      CREATE INDEX generations_created ON generations(created_at);
      CREATE INDEX generations_parent ON generations(parent_id);

      CREATE TABLE scores (
        id            INTEGER PRIMARY KEY,
        generation_id INTEGER NOT NULL REFERENCES generations(id),
        pack_name     TEXT    NOT NULL,
        pack_version  TEXT    NOT NULL,
        mos           REAL    NOT NULL,
        level         TEXT    NOT NULL,
        resolved_prompt TEXT,
        result_json   TEXT    NOT NULL,
        created_at    TEXT    NOT NULL,
        UNIQUE (generation_id, pack_name, pack_version)
      );

      CREATE TABLE aspect_scores (
        score_id INTEGER NOT NULL REFERENCES scores(id),
        aspect   TEXT    NOT NULL,
        mos      REAL,
        level    TEXT,
        reason   TEXT,
        PRIMARY KEY (score_id, aspect)
      );

      CREATE TABLE verdicts (
        id           INTEGER PRIMARY KEY,
        score_id     INTEGER NOT NULL REFERENCES scores(id),
        verdict      TEXT    NOT NULL CHECK (verdict IN ('accept', 'reject')),
        reasons_json TEXT    NOT NULL,
        created_at   TEXT    NOT NULL
      );
      CREATE INDEX verdicts_score ON verdicts(score_id);

      -- AUTOINCREMENT: ids are never reused, so an event-stream cursor stays valid forever.
      CREATE TABLE events (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        type          TEXT    NOT NULL,
        generation_id INTEGER REFERENCES generations(id),
        payload_json  TEXT    NOT NULL,
        created_at    TEXT    NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: 'comfyui bridge: prompt cursor, outputs, lineage',
    sql: `
      -- The bridge's cursor: every prompt_id it has handled per ComfyUI instance. ComfyUI's history has
      -- no order that survives its restarts (prompt numbers restart at 0), so the cursor is a set.
      -- Rows with handled_at NULL are regenerations the bridge queued and has not seen finish yet.
      CREATE TABLE comfyui_prompts (
        instance             TEXT    NOT NULL,
        prompt_id            TEXT    NOT NULL,
        status               TEXT,
        root_prompt_id       TEXT,
        parent_prompt_id     TEXT,
        parent_generation_id INTEGER REFERENCES generations(id),
        attempt              INTEGER NOT NULL DEFAULT 0,
        submitted_at         TEXT,
        handled_at           TEXT,
        PRIMARY KEY (instance, prompt_id)
      );
      CREATE INDEX comfyui_prompts_root ON comfyui_prompts(instance, root_prompt_id);

      -- One row per output image, unique by ComfyUI's file name: a cached resubmission repeats the old
      -- names, so the same file is never scored twice.
      CREATE TABLE comfyui_outputs (
        id             INTEGER PRIMARY KEY,
        instance       TEXT    NOT NULL,
        prompt_id      TEXT    NOT NULL,
        node_id        TEXT    NOT NULL,
        filename       TEXT    NOT NULL,
        subfolder      TEXT    NOT NULL,
        type           TEXT    NOT NULL,
        batch_index    INTEGER NOT NULL,
        generation_id  INTEGER REFERENCES generations(id),
        score_id       INTEGER REFERENCES scores(id),
        rank           INTEGER,
        error_code     TEXT,
        quarantined_to TEXT,
        created_at     TEXT    NOT NULL,
        UNIQUE (instance, filename, subfolder, type)
      );
      CREATE INDEX comfyui_outputs_prompt ON comfyui_outputs(prompt_id);
    `,
  },
  {
    version: 3,
    name: 'generations: where the stored prompt came from',
    sql: `
      -- 'argument' (given by the client), 'embedded' (recovered from the image's metadata) or 'none'.
      -- The prompt column holds the effective prompt; prompt_key stays the given one (the dedupe key).
      ALTER TABLE generations ADD COLUMN prompt_source TEXT NOT NULL DEFAULT 'argument';
      UPDATE generations SET prompt_source = 'none' WHERE prompt IS NULL;
    `,
  },
  {
    version: 4,
    name: 'dashboard: prompt key, latest verdict per score, image parameters',
    sql: `
      -- The normalised prompt (promptKey: plain text, lower case) that groups attempts at one prompt;
      -- filled for older rows by the store after this migration (it needs the prompt parser).
      ALTER TABLE generations ADD COLUMN prompt_norm TEXT;
      CREATE INDEX generations_prompt_norm ON generations(prompt_norm, id);
      CREATE INDEX generations_source ON generations(source, id);

      -- The latest verdict of each score, kept beside it so the feed filters on an indexed column
      -- instead of a correlated MAX over the verdicts table.
      ALTER TABLE scores ADD COLUMN verdict TEXT;
      UPDATE scores SET verdict = (SELECT v.verdict FROM verdicts v WHERE v.score_id = scores.id ORDER BY v.id DESC LIMIT 1);
      CREATE INDEX scores_verdict ON scores(verdict, generation_id);
      -- Sorting the feed by a score reads these in order and stops after a page.
      CREATE INDEX scores_mos ON scores(mos);
      CREATE INDEX aspect_scores_sort ON aspect_scores(aspect, mos);

      -- Sampling settings read from an image's embedded metadata (seed, sampler, steps, cfg), by image hash:
      -- read when the bytes arrive, before the generation row exists.
      CREATE TABLE image_params (
        sha256      TEXT PRIMARY KEY,
        params_json TEXT NOT NULL,
        created_at  TEXT NOT NULL
      );
    `,
  },
  {
    version: 5,
    name: 'detections: the object boxes behind each score',
    sql: `
      -- The boxes a pack's object detector saw (lite pack, or the lite detector beside a CLIP pack), one
      -- row per box, most confident first (rank 0); the same boxes as the score's result_json, in columns
      -- so the API, the dashboard and the ComfyUI badge read them without parsing every result.
      CREATE TABLE detections (
        score_id INTEGER NOT NULL REFERENCES scores(id),
        rank     INTEGER NOT NULL,
        label    TEXT    NOT NULL,
        score    REAL    NOT NULL,
        x        REAL    NOT NULL,
        y        REAL    NOT NULL,
        width    REAL    NOT NULL,
        height   REAL    NOT NULL,
        PRIMARY KEY (score_id, rank)
      ) WITHOUT ROWID;
      CREATE INDEX detections_label ON detections(label, score);
      INSERT INTO detections (score_id, rank, label, score, x, y, width, height)
        SELECT s.id, CAST(d.key AS INTEGER), json_extract(d.value, '$.label'), json_extract(d.value, '$.score'),
               json_extract(d.value, '$.box.x'), json_extract(d.value, '$.box.y'),
               json_extract(d.value, '$.box.width'), json_extract(d.value, '$.box.height')
          FROM scores s, json_each(s.result_json, '$.detections') d;
    `,
  },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;
