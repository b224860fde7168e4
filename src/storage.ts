/**
 * The store, chosen by the configuration: SQLite (DATABASE_PATH, or DATABASE_URL as a file path;
 * the default) or Postgres (DATABASE_URL=postgres://…). Both give the same synchronous store port,
 * outbox and membership listings; compose.ts and the CLI use only what this module returns.
 *
 * On Postgres the store is a synchronous facade over node-postgres in a worker thread
 * (adapters/postgres/bridge.ts): like SQLite, a transaction blocks the event loop for the
 * database's time, here a network round trip per statement. That is the price of keeping every
 * use case synchronous today; porting them to the port's asynchronous mode removes it.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { numberedParams, PgDb } from './adapters/postgres/db.js';
import { PostgresGroupMembers } from './adapters/postgres/groupMembers.js';
import { migratePostgres } from './adapters/postgres/migrate.js';
import { PostgresOutboxRepository, WAKE_CHANNEL } from './adapters/postgres/outboxRepository.js';
import { PostgresReviewStore } from './adapters/postgres/reviewStore.js';
import { FORGOTTEN_CHANNEL, forgottenUserOf, PostgresSlackUserCache } from './adapters/postgres/slackUserCache.js';
import { PostgresStore } from './adapters/postgres/store.js';
import { openDatabase, type Db } from './adapters/sqlite/db.js';
import { SqliteGroupMembers, type GroupMemberRow, type GroupSyncRow } from './adapters/sqlite/groupMembers.js';
import { migrate, readMigrations } from './adapters/sqlite/migrate.js';
import { SqliteOutboxRepository } from './adapters/sqlite/outboxRepository.js';
import { SqliteReviewStore } from './adapters/sqlite/reviewStore.js';
import { SqliteSlackUserCache } from './adapters/sqlite/slackUserCache.js';
import { SqliteStore } from './adapters/sqlite/store.js';
import type { KeptUsers } from './adapters/slack/client.js';
import type { RequestWatcher } from './adapters/storeRows.js';
import { QUEUE_POLICY } from './app/effects.js';
import type { EvidenceStore } from './app/ports/evidence.js';
import type { ReviewStore } from './app/ports/reviews.js';
import type { Store, TxStore } from './app/ports/store.js';
import type { GroupMemberStore } from './jobs/memberSync.js';
import { Outbox } from './outbox/outbox.js';

/** Where the data lives: a SQLite file, or a Postgres database. */
export interface DatabaseTarget {
  databasePath: string;
  /** postgres://…: Postgres, and `databasePath` is unused. */
  databaseUrl?: string;
}

/** The store the bot composes: the port, and the hook app/home.ts keeps Homes current with. */
export type BotStore = Store & EvidenceStore & { watchRequests(watcher: RequestWatcher): void };

export interface GroupMembers extends GroupMemberStore {
  currentMembers(connector: string, groupId: string): GroupMemberRow[];
  allMembers(connector: string, groupId: string): GroupMemberRow[];
  lastSync(connector: string, groupId: string): GroupSyncRow | undefined;
}

/** Raw reads for /metrics, admin commands and tests, in either store: `?` placeholders. */
export interface SqlReader {
  all<T = Record<string, unknown>>(sql: string, ...params: unknown[]): T[];
  get<T = Record<string, unknown>>(sql: string, ...params: unknown[]): T | undefined;
  /** The first column of the first row. */
  value<T = unknown>(sql: string, ...params: unknown[]): T | undefined;
}

export interface Storage {
  readonly kind: 'sqlite' | 'postgres';
  /** SQLite's connection; undefined on Postgres. */
  readonly db: Db | undefined;
  /** Postgres's; undefined on SQLite. */
  readonly pg: PgDb | undefined;
  readonly sql: SqlReader;
  /** Its transactions hand follow-up writes the store (app/ports/store.ts `TxStore`). */
  readonly outbox: Outbox<'sync', TxStore>;
  readonly store: BotStore;
  readonly groupMembers: GroupMembers;
  /** Access reviews, on the store's connection (inside `store.tx`, part of its transaction). */
  readonly reviews: ReviewStore;
  /** The Slack gateway's users.info answers, kept beyond the process for their minute. */
  readonly slackUsers: KeptUsers;
  /**
   * `fn` runs when an effect was enqueued by any replica (Postgres LISTEN on the outbox's
   * channel). SQLite has no other process to hear; its own enqueues wake through the outbox.
   */
  onRemoteWake(fn: () => void): void;
  /**
   * `fn` runs with the Slack user id whenever a replica forgot that user's users.info answer
   * (`slackUsers.forget`: Slack said the user changed), so each drops its in-memory copy (Postgres
   * LISTEN; the replica that forgot hears it too). SQLite: one process, whose gateway drops its
   * own copy as it forgets; nothing to hear.
   */
  onSlackUserForgotten(fn: (slackId: string) => void): void;
  close(): void;
}

/** The migrations folder (`sub` = 'postgres' for Postgres's), from src/ (tsx) or dist/src/ (compiled). */
export function migrationsDir(sub?: string): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    const candidate = join(dir, 'migrations');
    if (existsSync(candidate)) return sub ? join(candidate, sub) : candidate;
    dir = dirname(dir);
  }
  throw new Error('migrations folder not found next to the application');
}

/**
 * The database, migrated, with its outbox and store. Takes no lock (the effects CLI works beside
 * a running bot); `close()` is the caller's.
 */
export function openStorage(target: DatabaseTarget | string, now: () => number = Date.now, logger?: Logger): Storage {
  const t = typeof target === 'string' ? { databasePath: target } : target;
  return t.databaseUrl ? openPostgres(t.databaseUrl, now, logger) : openSqlite(t.databasePath, now, logger);
}

function openSqlite(path: string, now: () => number, logger?: Logger): Storage {
  const db = openDatabase(path);
  try {
    const applied = migrate(db, readMigrations(migrationsDir()), now);
    if (applied.length > 0) logger?.info({ applied }, 'database migrated');
  } catch (err) {
    db.close();
    throw err;
  }
  // On SQLite's one connection, the handle of the transaction recording an outcome is the store.
  const outbox = new Outbox(new SqliteOutboxRepository<TxStore>(db, QUEUE_POLICY, (): TxStore => store), now);
  const store = new SqliteStore(db, outbox);
  return {
    kind: 'sqlite',
    db,
    pg: undefined,
    sql: sqliteReader(db),
    outbox,
    store,
    groupMembers: new SqliteGroupMembers(db),
    reviews: new SqliteReviewStore(db),
    slackUsers: new SqliteSlackUserCache(db),
    onRemoteWake: () => undefined,
    onSlackUserForgotten: () => undefined,
    close: () => db.close(),
  };
}

function openPostgres(url: string, now: () => number, logger?: Logger): Storage {
  const wakes: (() => void)[] = [];
  const forgotten: ((slackId: string) => void)[] = [];
  const log = logger?.child({ component: 'postgres' });
  const heard = (channel: string, payload: string) => {
    if (channel === WAKE_CHANNEL) {
      wakes.forEach((w) => w());
      return;
    }
    if (channel !== FORGOTTEN_CHANNEL) return;
    const slackId = forgottenUserOf(payload);
    if (slackId) forgotten.forEach((f) => f(slackId));
    else log?.warn({ channel, payload: payload.slice(0, 40) }, 'ignored a notification that names no Slack user');
  };
  const db = PgDb.open(url, {
    onNotify: heard,
    onListenLost: (message) => log?.warn({ err: message }, 'lost the LISTEN connection; polling until it is back'),
  });
  try {
    const applied = migratePostgres(db, readMigrations(migrationsDir('postgres')), now);
    if (applied.length > 0) logger?.info({ applied }, 'database migrated');
  } catch (err) {
    db.close();
    throw err;
  }
  // One connection per process: a transaction's handle is the store, as on SQLite.
  const outbox = new Outbox(new PostgresOutboxRepository<TxStore>(db, QUEUE_POLICY, (): TxStore => store), now);
  const store = new PostgresStore(db, outbox);
  const listening = new Set<string>();
  const listen = (channel: string) => {
    if (!listening.has(channel)) db.pg.listen(channel);
    listening.add(channel);
  };
  return {
    kind: 'postgres',
    db: undefined,
    pg: db,
    sql: postgresReader(db),
    outbox,
    store,
    groupMembers: new PostgresGroupMembers(db),
    reviews: new PostgresReviewStore(db),
    slackUsers: new PostgresSlackUserCache(db),
    onRemoteWake: (fn) => {
      wakes.push(fn);
      listen(WAKE_CHANNEL);
    },
    onSlackUserForgotten: (fn) => {
      forgotten.push(fn);
      listen(FORGOTTEN_CHANNEL);
    },
    close: () => db.close(),
  };
}

export function sqliteReader(db: Db): SqlReader {
  return {
    all: <T>(sql: string, ...params: unknown[]) => db.prepare(sql).all(...params) as T[],
    get: <T>(sql: string, ...params: unknown[]) => db.prepare(sql).get(...params) as T | undefined,
    value: <T>(sql: string, ...params: unknown[]) => db.prepare(sql).pluck().get(...params) as T | undefined,
  };
}

/** The same reads on Postgres: `?` placeholders numbered, values as they come (BIGINT as numbers). */
export function postgresReader(db: PgDb): SqlReader {
  return {
    all: <T>(sql: string, ...params: unknown[]) => db.all<T>(numberedParams(sql), params),
    get: <T>(sql: string, ...params: unknown[]) => db.get<T>(numberedParams(sql), params),
    value: <T>(sql: string, ...params: unknown[]) => db.value<T>(numberedParams(sql), params),
  };
}
