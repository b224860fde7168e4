/**
 * WAL checkpoints off the event loop.
 *
 * By default SQLite checkpoints inside the commit that pushes the WAL past 1,000 pages: the
 * pages are copied back and the database file is fsynced right there, on the thread that
 * committed. For the bot that thread is the one answering Slack, and stalls of 250-760 ms were
 * measured (bench/README.md). So the bot's connection turns automatic checkpoints off
 * (`wal_autocheckpoint = 0`) and a worker thread with a connection of its own runs
 * `PRAGMA wal_checkpoint(PASSIVE)` every `intervalMs`. PASSIVE never waits for, nor blocks, the
 * writer: it copies what no reader still needs, and the writer starts the WAL over once all of
 * it was copied.
 *
 * The bot's connection never truncates the WAL file (`journal_size_limit = -1`, SQLite's
 * default). Under a sustained stream of commits no PASSIVE checkpoint catches up with the end of
 * the WAL, so the file grows until a quiet moment (to 500 MB in the bench's ack measurement, at
 * ~2,000 commits a second). With a size limit, the first commit after that moment truncated the
 * file on the event loop: ftruncate 500 MB → 64 MB took 140 ms (measured with `perf trace`),
 * and the first Slack requests of the next burst waited for it. Truncating from the worker
 * instead (`wal_checkpoint(TRUNCATE)`) was tried: it resets the WAL under the bot's open read
 * snapshots, whose transactions then failed with SQLITE_BUSY ("database is locked"). So the
 * file keeps its largest size while the bot runs (it is reused from the start after each
 * checkpoint) and goes away when the database is closed. At the write rates of access requests
 * that size is a few megabytes.
 *
 * If the worker dies, the bot's connection gets automatic checkpoints back, so the WAL can never
 * grow without bound; the checkpoint on close still happens in `db.close()`.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { Db } from './db.js';

/** The worker, as plain CommonJS, so it runs the same from src/ (tsx) and from dist/. */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path);
db.pragma('busy_timeout = 1000');
parentPort.postMessage({ type: 'ready' });
let busy = false;
const tick = () => {
  if (busy) return;
  busy = true;
  const at = Date.now();
  try {
    const [r] = db.pragma('wal_checkpoint(PASSIVE)');
    if (r && r.log > 0) parentPort.postMessage({ type: 'checkpoint', at, log: r.log, checkpointed: r.checkpointed });
  } catch (err) {
    parentPort.postMessage({ type: 'error', message: String(err && err.message || err) });
  } finally {
    busy = false;
  }
};
const timer = setInterval(tick, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m === 'stop') {
    clearInterval(timer);
    try { db.close(); } catch {}
    parentPort.close();
  }
});
`;

export interface CheckpointerStats {
  /** Checkpoints that found frames in the WAL. */
  checkpoints: number;
  /** When the last checkpoint that copied the whole WAL started (epoch ms). */
  lastCompleteAt: number;
  errors: number;
}

/** Start-up waits this long at most for the worker to boot (ms); then it goes on without waiting. */
const BOOT_WAIT_MS = 5000;

export class Checkpointer {
  readonly stats: CheckpointerStats = { checkpoints: 0, lastCompleteAt: 0, errors: 0 };
  private worker: Worker | undefined;
  private booted: () => void = () => undefined;
  /**
   * Resolves once the worker has booted and opened its connection, or has failed (checkpoints
   * are then back on the bot's connection), or after BOOT_WAIT_MS. A worker boots a Node
   * environment of its own and loads the SQLite driver: 20-45 ms of CPU, which the bench found
   * running during the first burst of Slack requests when start-up did not wait for it
   * (bench/README.md, "after a restart"); the bot says it is ready once this has resolved.
   */
  readonly ready = new Promise<void>((resolve) => (this.booted = resolve));

  private constructor(
    private readonly db: Db,
    private readonly logger: Logger,
  ) {}

  /** Starts checkpointing `path` in a worker; a no-op for in-memory databases (they have no WAL). */
  static start(db: Db, path: string, logger: Logger, intervalMs = 1000): Checkpointer {
    const c = new Checkpointer(db, logger);
    if (path === ':memory:' || db.memory) {
      c.booted();
      return c;
    }
    db.pragma('journal_size_limit = -1');
    db.pragma('wal_autocheckpoint = 0');
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    const worker = new Worker(WORKER, { eval: true, workerData: { path, intervalMs, driver } });
    c.worker = worker;
    worker.unref();
    const bootWait = setTimeout(() => {
      logger.warn({ waitedMs: BOOT_WAIT_MS }, 'the WAL checkpoint worker has not started yet; going on without waiting');
      c.booted();
    }, BOOT_WAIT_MS);
    void c.ready.then(() => clearTimeout(bootWait));
    worker.on('message', (m: { type: string; message?: string; at?: number; log?: number; checkpointed?: number }) => {
      if (m.type === 'ready') c.booted();
      else if (m.type === 'checkpoint') {
        c.stats.checkpoints += 1;
        if (m.log === m.checkpointed) c.stats.lastCompleteAt = Math.max(c.stats.lastCompleteAt, m.at ?? 0);
      } else if (m.type === 'error') {
        c.stats.errors += 1;
        logger.warn({ err: m.message }, 'WAL checkpoint failed; the next one will try again');
      }
    });
    worker.on('error', (err) => c.fallBack(err.message));
    worker.on('exit', (code) => {
      if (c.worker === worker) c.fallBack(`the checkpoint worker exited (${code})`);
    });
    return c;
  }

  /** Stops the worker; the bot's `db.close()` then checkpoints what is left. */
  async stop(): Promise<void> {
    this.booted();
    const w = this.worker;
    if (!w) return;
    this.worker = undefined;
    const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
    w.postMessage('stop');
    const timer = setTimeout(() => void w.terminate(), 2000);
    await exited;
    clearTimeout(timer);
  }

  private fallBack(why: string): void {
    this.booted();
    if (!this.worker) return;
    this.worker = undefined;
    this.logger.error({ err: why }, 'WAL checkpoints move back onto the main thread');
    if (this.db.open) {
      this.db.pragma('wal_autocheckpoint = 1000');
      // Checkpoints happen inside commits again; the file is trimmed there too (64 MiB).
      this.db.pragma('journal_size_limit = 67108864');
    }
  }
}
