import Database from 'better-sqlite3';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LATEST_SCHEMA_VERSION } from '../../src/store/index.js';
import { StoreConnection } from '../../src/store/store-connection.js';

const opened: StoreConnection[] = [];
afterEach(() => {
  for (const connection of opened.splice(0)) connection.close();
});

async function open(file = join(mkdtempSync(join(tmpdir(), 'agiqa-store-')), 'agiqa.db'), busyTimeoutMs = 200): Promise<StoreConnection> {
  const connection = await StoreConnection.open(file, { busyTimeoutMs });
  opened.push(connection);
  return connection;
}

/** Makes a file unwritable even for root (immutable attribute); plain chmod for other users. */
function makeReadOnly(file: string): () => void {
  if (process.getuid?.() === 0) {
    execFileSync('chattr', ['+i', file]);
    return () => execFileSync('chattr', ['-i', file]);
  }
  chmodSync(file, 0o444);
  return () => chmodSync(file, 0o644);
}

const insertEvent = (db: Database.Database) => db.prepare("INSERT INTO events (type, generation_id, payload_json, created_at) VALUES ('generation.scored', NULL, '{}', '')").run();

describe('StoreConnection', () => {
  it('migrates a new file to the latest version and records it', async () => {
    const connection = await open();
    expect(await connection.health()).toEqual({ ok: true, schemaVersion: LATEST_SCHEMA_VERSION });
    const db = new Database(connection.file, { readonly: true });
    expect(db.prepare('SELECT version FROM schema_migrations').all()).toEqual([{ version: 1 }, { version: 2 }, { version: 3 }, { version: 4 }, { version: 5 }]);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });

  it('reports a read-only file as unhealthy with AGQ_ERR_STORE_READ_ONLY and refuses writes clearly', async () => {
    const first = await open();
    const file = first.file;
    first.close();
    const restore = makeReadOnly(file);
    try {
      const connection = await open(file);
      const health = await connection.health();
      expect(health.ok).toBe(false);
      if (!health.ok) expect(health.error.code).toBe('AGQ_ERR_STORE_READ_ONLY');
      await expect(connection.write(insertEvent)).rejects.toMatchObject({ code: 'AGQ_ERR_STORE_READ_ONLY', status: 503 });
      connection.close();
    } finally {
      restore();
    }
    // Once writable again a new connection works: nothing was damaged.
    const again = await open(file);
    expect((await again.health()).ok).toBe(true);
  });

  it('retries a write while another process holds the lock, fails with AGQ_ERR_STORE_LOCKED after busyTimeoutMs, and recovers', async () => {
    const connection = await open(undefined, 100);
    const other = new Database(connection.file);
    other.exec('BEGIN EXCLUSIVE');
    try {
      const started = Date.now();
      await expect(connection.write(insertEvent)).rejects.toMatchObject({ code: 'AGQ_ERR_STORE_LOCKED' });
      expect(Date.now() - started).toBeGreaterThanOrEqual(90);
      const health = await connection.health();
      expect(health.ok).toBe(false);
      if (!health.ok) expect(health.error.message).toContain('locked');
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    expect((await connection.health()).ok).toBe(true);
    await connection.write(insertEvent);
    expect(await connection.read((db) => (db.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n)).toBe(1);
  });

  it('refuses a database from a newer agiqa', async () => {
    const first = await open();
    const file = first.file;
    first.close();
    const db = new Database(file);
    db.prepare("INSERT INTO schema_migrations VALUES (99, 'future', '')").run();
    db.close();
    const connection = await open(file);
    const health = await connection.health();
    expect(health.ok).toBe(false);
    if (!health.ok) expect(health.error.code).toBe('AGQ_ERR_STORE_SCHEMA_TOO_NEW');
    await expect(connection.read((db) => db.prepare('SELECT 1').get())).rejects.toMatchObject({ code: 'AGQ_ERR_STORE_SCHEMA_TOO_NEW' });
  });

  it('refuses every call once closed', async () => {
    const connection = await open();
    connection.close();
    await expect(connection.read((db) => db.prepare('SELECT 1').get())).rejects.toMatchObject({ code: 'AGQ_ERR_STORE_FAILED' });
  });
});
