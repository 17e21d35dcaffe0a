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
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;
