// The SQLite file behind the store: opening (creating and migrating), the health probe, reconnecting
// after a fault, and the read/write wrappers that retry lock waits asynchronously and turn SQLite's
// errors into AGQ_ERR_STORE_* codes. The queries live beside it (store.ts and the *-rows/-records files).
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AgiqaError, agiqaError, isAgiqaError } from '../errors/index.js';
import { promptKey as normalisedPromptKey } from '../prompts/index.js';
import { LATEST_SCHEMA_VERSION, MIGRATIONS } from './migrations.js';

export type StoreHealth = { ok: true; schemaVersion: number } | { ok: false; error: AgiqaError };

export interface StoreOptions {
  /** How long writes wait for another process's lock before failing with AGQ_ERR_STORE_LOCKED. */
  busyTimeoutMs?: number;
}

interface SqliteLikeError {
  code?: unknown;
  message?: unknown;
}

const RECONNECT_INTERVAL_MS = 1_000;

function sqliteCode(error: unknown): string {
  const code = (error as SqliteLikeError | null)?.code;
  return typeof code === 'string' ? code : '';
}

function isBusy(error: unknown): boolean {
  const code = sqliteCode(error);
  return code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED');
}

function detailOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class StoreConnection {
  readonly file: string;
  private readonly busyTimeoutMs: number;
  private db: Database.Database | null = null;
  private lastError: AgiqaError | null = null;
  private lastAttempt = 0;
  private closed = false;

  private constructor(file: string, options: StoreOptions) {
    this.file = file;
    this.busyTimeoutMs = options.busyTimeoutMs ?? 2_000;
  }

  /**
   * Opens (creating and migrating) the database. Never throws for a bad file: the connection then
   * reports the error through `health()` and every call, and reconnects by itself once the fault is gone.
   */
  static async open(file: string, options: StoreOptions = {}): Promise<StoreConnection> {
    const connection = new StoreConnection(file, options);
    await connection.connect();
    return connection;
  }

  private async connect(): Promise<void> {
    this.lastAttempt = Date.now();
    const started = Date.now();
    for (;;) {
      try {
        this.db = this.openOnce();
        this.lastError = null;
        return;
      } catch (error) {
        if (isBusy(error) && Date.now() - started < this.busyTimeoutMs) {
          await sleep(25);
          continue;
        }
        this.lastError = this.translate(error, Date.now() - started);
        return;
      }
    }
  }

  private openOnce(): Database.Database {
    mkdirSync(dirname(this.file), { recursive: true });
    // timeout 0: lock waits are retried asynchronously (see write()), never inside a blocking call.
    const db = new Database(this.file, { timeout: 0 });
    try {
      db.pragma('journal_mode = WAL');
      // NORMAL in WAL mode: a commit survives a killed process (the WAL is in the OS's hands); only a
      // power cut can lose the last commits, which is the trade SQLite recommends for WAL.
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      this.migrate(db);
      this.probeWritable(db);
      return db;
    } catch (error) {
      db.close();
      throw error;
    }
  }

  private migrate(db: Database.Database): void {
    db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
    const current = (db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null }).v ?? 0;
    if (current > LATEST_SCHEMA_VERSION) {
      throw agiqaError('AGQ_ERR_STORE_SCHEMA_TOO_NEW', { file: this.file, version: current, known: LATEST_SCHEMA_VERSION });
    }
    const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
    for (const migration of MIGRATIONS) {
      if (migration.version <= current) continue;
      db.transaction(() => {
        db.exec(migration.sql);
        record.run(migration.version, migration.name, new Date().toISOString());
      }).immediate();
    }
    backfillPromptKeys(db);
  }

  /** A write that is rolled back: the only reliable way to learn that the file is read-only or locked. */
  private probeWritable(db: Database.Database): void {
    db.exec('BEGIN IMMEDIATE');
    try {
      db.exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (-1, 'probe', '')");
    } finally {
      db.exec('ROLLBACK');
    }
  }

  private translate(error: unknown, waitedMs: number): AgiqaError {
    if (isAgiqaError(error)) return error;
    const code = sqliteCode(error);
    if (code.startsWith('SQLITE_READONLY')) return agiqaError('AGQ_ERR_STORE_READ_ONLY', { file: this.file }, { cause: error });
    if (isBusy(error)) return agiqaError('AGQ_ERR_STORE_LOCKED', { file: this.file, waitedMs }, { cause: error });
    if (this.db === null) return agiqaError('AGQ_ERR_STORE_OPEN', { file: this.file, detail: detailOf(error) }, { cause: error });
    return agiqaError('AGQ_ERR_STORE_FAILED', { file: this.file, detail: detailOf(error) }, { cause: error });
  }

  /** The open database, reconnecting if a previous open failed; throws that failure otherwise. */
  private async database(): Promise<Database.Database> {
    if (this.closed) throw agiqaError('AGQ_ERR_STORE_FAILED', { file: this.file, detail: 'the store is closed' });
    if (this.db !== null) return this.db;
    if (Date.now() - this.lastAttempt >= RECONNECT_INTERVAL_MS) await this.connect();
    if (this.db === null) throw this.lastError ?? agiqaError('AGQ_ERR_STORE_OPEN', { file: this.file, detail: 'not open' });
    return this.db;
  }

  /** Runs a write transaction, retrying while another process holds the lock, up to busyTimeoutMs. */
  async write<T>(work: (db: Database.Database) => T): Promise<T> {
    const db = await this.database();
    const started = Date.now();
    for (let attempt = 0; ; attempt += 1) {
      try {
        const result = db.transaction(() => work(db)).immediate();
        this.lastError = null;
        return result;
      } catch (error) {
        const waited = Date.now() - started;
        if (isBusy(error) && waited < this.busyTimeoutMs) {
          await sleep(Math.min(10 * 2 ** attempt, 100));
          continue;
        }
        const translated = this.translate(error, waited);
        this.lastError = translated;
        throw translated;
      }
    }
  }

  async read<T>(work: (db: Database.Database) => T): Promise<T> {
    const db = await this.database();
    try {
      return work(db);
    } catch (error) {
      throw this.translate(error, 0);
    }
  }

  /** Whether the database can be written right now (a rolled-back write, no waiting for locks). */
  async health(): Promise<StoreHealth> {
    try {
      const db = await this.database();
      this.probeWritable(db);
      this.lastError = null;
      const version = (db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number }).v;
      return { ok: true, schemaVersion: version };
    } catch (error) {
      const translated = isAgiqaError(error) ? error : this.translate(error, 0);
      return { ok: false, error: translated };
    }
  }

  /** Closes the file; a WAL checkpoint folds the log back so the file is complete on its own. */
  close(): void {
    this.closed = true;
    if (this.db === null) return;
    try {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } catch {
      // A read-only or locked file cannot be checkpointed; closing is still safe.
    }
    this.db.close();
    this.db = null;
  }
}

/** Gives rows stored before migration 4 their prompt key (the prompt the scorer read, else the one given). */
function backfillPromptKeys(db: Database.Database): void {
  const rows = db
    .prepare(
      `SELECT g.id, COALESCE((SELECT s.resolved_prompt FROM scores s WHERE s.generation_id = g.id ORDER BY s.id DESC LIMIT 1), g.prompt) AS prompt
         FROM generations g WHERE g.prompt_norm IS NULL`,
    )
    .all() as { id: number; prompt: string | null }[];
  if (rows.length === 0) return;
  const update = db.prepare('UPDATE generations SET prompt_norm = ? WHERE id = ?');
  db.transaction(() => {
    for (const row of rows) update.run(normalisedPromptKey(row.prompt), row.id);
  }).immediate();
}
