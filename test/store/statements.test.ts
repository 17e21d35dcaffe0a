import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { prepared } from '../../src/store/statements.js';

const open: Database.Database[] = [];
const connection = () => {
  const db = new Database(':memory:');
  open.push(db);
  return db;
};
afterEach(() => {
  for (const db of open.splice(0)) db.close();
});

describe('prepared', () => {
  it('compiles a statement once per connection and SQL text', () => {
    const db = connection();
    const first = prepared(db, 'SELECT 1 AS one');
    expect(prepared(db, 'SELECT 1 AS one')).toBe(first);
    expect(prepared(db, 'SELECT 2 AS two')).not.toBe(first);
    expect(first.get()).toEqual({ one: 1 });
  });

  it('keeps the statements of different connections apart', () => {
    const a = connection();
    const b = connection();
    a.exec('CREATE TABLE t (v INTEGER)');
    b.exec('CREATE TABLE t (v INTEGER)');
    prepared(a, 'INSERT INTO t (v) VALUES (?)').run(1);
    expect(prepared(b, 'INSERT INTO t (v) VALUES (?)')).not.toBe(prepared(a, 'INSERT INTO t (v) VALUES (?)'));
    expect(prepared(b, 'SELECT COUNT(*) AS n FROM t').get()).toEqual({ n: 0 });
    expect(prepared(a, 'SELECT COUNT(*) AS n FROM t').get()).toEqual({ n: 1 });
  });
});
