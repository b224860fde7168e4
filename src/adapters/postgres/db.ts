/**
 * The Postgres database as the store, the outbox and the migrator use it: statements through the
 * synchronous bridge (bridge.ts), and transactions with SQLite's semantics.
 *
 * One writer at a time, across every replica: a write transaction's first statement takes the
 * global advisory lock WRITE_LOCK (`pg_advisory_xact_lock`, released at commit or rollback). So
 * two replicas never interleave their writes, which keeps the hash-chained audit log a chain
 * (each append reads the last hash) and makes every state check a use case does inside its
 * transaction see everything committed before it (READ COMMITTED takes a new snapshot per
 * statement, and every statement runs after the lock is held). The outbox's claims and fenced
 * single-row outcomes run without it (outboxRepository.ts says why that is safe).
 *
 * One connection per process: the main thread is blocked while a statement runs, so nothing else
 * of this process can use the connection meanwhile; a transaction is simply the statements between
 * BEGIN and COMMIT on it.
 */
import { SyncPg, type QueryResult, type Statement, type SyncPgOptions } from './bridge.js';

/** The key of the global write lock (an arbitrary constant: "acbot" in ASCII). */
export const WRITE_LOCK = 0x6163626f74;

export type Row = Record<string, unknown>;

export class PgDb {
  private depth = 0;

  constructor(readonly pg: SyncPg) {}

  static open(url: string, opts: SyncPgOptions = {}): PgDb {
    return new PgDb(new SyncPg(url, opts));
  }

  query(sql: string, params: readonly unknown[] = []): QueryResult {
    return this.pg.query(sql, params);
  }

  all<T = Row>(sql: string, params: readonly unknown[] = []): T[] {
    return this.pg.query(sql, params).rows as T[];
  }

  get<T = Row>(sql: string, params: readonly unknown[] = []): T | undefined {
    return this.pg.query(sql, params).rows[0] as T | undefined;
  }

  /** The first column of the first row. */
  value<T>(sql: string, params: readonly unknown[] = []): T | undefined {
    const row = this.pg.query(sql, params).rows[0];
    return row ? (Object.values(row)[0] as T) : undefined;
  }

  /** Runs a statement; returns how many rows it changed. */
  run(sql: string, params: readonly unknown[] = []): number {
    return this.pg.query(sql, params).rowCount;
  }

  batch(statements: readonly Statement[]): QueryResult[] {
    return this.pg.batch(statements);
  }

  get inTransaction(): boolean {
    return this.depth > 0;
  }

  /**
   * Runs `fn` in a transaction (a savepoint when already in one), committed when it returns,
   * rolled back when it throws. `lock` (the default) takes the global write lock first; only
   * statements that need no serialization with other writers pass `lock: false`.
   */
  tx<T>(fn: () => T, opts: { lock?: boolean } = {}): T {
    const lock = opts.lock ?? true;
    if (this.depth > 0) return this.savepoint(fn, lock);
    this.pg.batch(lock ? [{ sql: 'BEGIN' }, { sql: 'SELECT pg_advisory_xact_lock($1)', params: [WRITE_LOCK] }] : [{ sql: 'BEGIN' }]);
    this.depth = 1;
    try {
      const out = fn();
      if (out instanceof Promise) throw new TypeError('a transaction function cannot return a promise (the Postgres store is synchronous)');
      this.depth = 0;
      this.pg.query('COMMIT');
      return out;
    } catch (err) {
      this.depth = 0;
      this.rollback();
      throw err;
    }
  }

  private savepoint<T>(fn: () => T, lock: boolean): T {
    const name = `sp${this.depth}`;
    // A nested transaction that needs the lock takes it (a no-op when already held).
    this.pg.batch(lock ? [{ sql: `SAVEPOINT ${name}` }, { sql: 'SELECT pg_advisory_xact_lock($1)', params: [WRITE_LOCK] }] : [{ sql: `SAVEPOINT ${name}` }]);
    this.depth++;
    try {
      const out = fn();
      this.depth--;
      this.pg.query(`RELEASE SAVEPOINT ${name}`);
      return out;
    } catch (err) {
      this.depth--;
      this.pg.query(`ROLLBACK TO SAVEPOINT ${name}`);
      throw err;
    }
  }

  private rollback(): void {
    try {
      this.pg.query('ROLLBACK');
    } catch {
      // The connection broke mid-transaction: the server rolled it back already.
    }
  }

  close(): void {
    this.pg.close();
  }
}

/** `?` placeholders (SQLite's) as Postgres's `$1, $2, …`; `?` inside quotes is left alone. */
export function numberedParams(sql: string): string {
  let n = 0;
  let quote: string | undefined;
  let out = '';
  for (const ch of sql) {
    if (quote) {
      if (ch === quote) quote = undefined;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
    } else if (ch === '?') {
      out += `$${++n}`;
      continue;
    }
    out += ch;
  }
  return out;
}
