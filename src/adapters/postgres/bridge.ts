/**
 * A synchronous facade over node-postgres: the main thread sends each statement (or a batch) to a
 * worker thread that owns the connections, and blocks on a SharedArrayBuffer with `Atomics.wait`
 * until the worker answers. The worker posts the answer on a MessagePort, then bumps the shared
 * counter and `Atomics.notify`s; the main thread reads the answer with `receiveMessageOnPort`.
 *
 * Why synchronous. Every use case runs `store.tx(fn)` with `fn` synchronous (app/ports/store.ts):
 * it was written for better-sqlite3. This bridge lets the Postgres store implement the same port
 * today, with the same semantics as SQLite: the event loop is blocked for the database's time
 * (a local round trip is ~0.1-0.3 ms, a use case makes 5-30 of them), which SQLite also does
 * for its own I/O. The cost is that a replica's event loop waits on the network; the plan is to
 * port the use cases to the port's asynchronous mode (`AsyncStore`) and drop this bridge.
 *
 * Failure: every wait has a deadline (`timeoutMs`); a database that does not answer makes the
 * call throw `PostgresTimeoutError` rather than hang the process. The worker also keeps a second,
 * dedicated connection that LISTENs, and forwards each notification to the main thread as an
 * ordinary (asynchronous) message.
 */
import { createRequire } from 'node:module';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';

/** The worker, as plain CommonJS, so it runs the same from src/ (tsx) and from dist/. */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const pg = require(workerData.driver);
// BIGINT (timestamps in ms, ids, COUNT(*)) as numbers: every value the bot stores is below 2^53.
pg.types.setTypeParser(20, (v) => Number(v));
const { port, state, url } = workerData;
let client;
let connecting;
let listener;
const channels = new Set();

const answer = (msg) => {
  port.postMessage(msg);
  Atomics.add(state, 0, 1);
  Atomics.notify(state, 0);
};
const errorOf = (err) => ({ message: String((err && err.message) || err), code: err && err.code, detail: err && err.detail });

async function connection() {
  if (client) return client;
  if (!connecting) {
    connecting = (async () => {
      const c = new pg.Client({ connectionString: url, application_name: 'access-bot' });
      // A broken connection is dropped; the next statement opens a new one.
      c.on('error', () => { if (client === c) client = undefined; });
      c.on('end', () => { if (client === c) client = undefined; });
      await c.connect();
      client = c;
      return c;
    })().finally(() => { connecting = undefined; });
  }
  return connecting;
}

async function listen(channel) {
  channels.add(channel);
  if (listener) { await listener.query('LISTEN ' + channel); return; }
  const c = new pg.Client({ connectionString: url, application_name: 'access-bot-listen' });
  c.on('notification', (n) => parentPort.postMessage({ type: 'notify', channel: n.channel, payload: n.payload }));
  const lost = (why) => {
    if (listener !== c) return;
    listener = undefined;
    parentPort.postMessage({ type: 'listen-lost', message: why });
    // Polling covers the gap; try again in a second.
    setTimeout(() => { for (const ch of [...channels]) { channels.delete(ch); listen(ch).catch(() => undefined); } }, 1000).unref();
  };
  c.on('error', (err) => lost(String(err && err.message)));
  c.on('end', () => lost('connection ended'));
  listener = c;
  try {
    await c.connect();
    for (const ch of channels) await c.query('LISTEN ' + ch);
  } catch (err) {
    lost(String(err && err.message));
    throw err;
  }
}

port.on('message', async (m) => {
  try {
    if (m.op === 'query') {
      const c = await connection();
      const r = await c.query({ text: m.sql, values: m.params });
      answer({ id: m.id, results: [{ rows: r.rows, rowCount: r.rowCount ?? 0 }] });
    } else if (m.op === 'batch') {
      const c = await connection();
      const results = [];
      for (const s of m.statements) {
        const r = await c.query({ text: s.sql, values: s.params });
        results.push({ rows: r.rows, rowCount: r.rowCount ?? 0 });
      }
      answer({ id: m.id, results });
    } else if (m.op === 'listen') {
      await listen(m.channel);
      answer({ id: m.id, results: [] });
    } else if (m.op === 'close') {
      const c = client;
      client = undefined;
      const l = listener;
      listener = undefined;
      await Promise.allSettled([c && c.end(), l && l.end()]);
      answer({ id: m.id, results: [] });
    } else {
      answer({ id: m.id, error: { message: 'unknown operation ' + m.op } });
    }
  } catch (err) {
    answer({ id: m.id, error: errorOf(err) });
  }
});
`;

export interface QueryResult {
  rows: Record<string, unknown>[];
  rowCount: number;
}

export interface Statement {
  sql: string;
  params?: readonly unknown[];
}

/** An error Postgres (or the connection) reported; `code` is the SQLSTATE when Postgres gave one. */
export class PostgresError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
    readonly detail: string | undefined,
  ) {
    super(message);
    this.name = 'PostgresError';
  }
}

/** The database did not answer within the bridge's deadline. */
export class PostgresTimeoutError extends Error {
  constructor(what: string, timeoutMs: number) {
    super(`Postgres did not answer within ${timeoutMs} ms (${what}); is the database reachable?`);
    this.name = 'PostgresTimeoutError';
  }
}

export interface SyncPgOptions {
  /** How long one call may wait for its answer (default 15 s). */
  timeoutMs?: number;
  /** Called, asynchronously, with each notification on a LISTENed channel. */
  onNotify?: (channel: string, payload: string) => void;
  /** Called when the listening connection is lost (it reconnects by itself). */
  onListenLost?: (message: string) => void;
}

type Answer = { id: number; results?: QueryResult[]; error?: { message: string; code?: string; detail?: string } };

export class SyncPg {
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly state: Int32Array;
  private readonly timeoutMs: number;
  private nextId = 1;
  private closed = false;

  /** Starts the worker and connects (blocking); throws when the database cannot be reached. */
  constructor(url: string, opts: SyncPgOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? 15_000;
    this.state = new Int32Array(new SharedArrayBuffer(4));
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    const driver = createRequire(import.meta.url).resolve('pg');
    this.worker = new Worker(WORKER, { eval: true, workerData: { port: port2, state: this.state, url, driver }, transferList: [port2] });
    this.worker.unref();
    this.worker.on('message', (m: { type: string; channel?: string; payload?: string; message?: string }) => {
      if (m.type === 'notify') opts.onNotify?.(m.channel ?? '', m.payload ?? '');
      else if (m.type === 'listen-lost') opts.onListenLost?.(m.message ?? '');
    });
    try {
      this.query('SELECT 1');
    } catch (err) {
      void this.worker.terminate();
      throw err;
    }
  }

  query(sql: string, params: readonly unknown[] = []): QueryResult {
    return this.call({ op: 'query', sql, params }, sql)[0]!;
  }

  /** Runs the statements in order on the same connection, in one round trip to the worker. */
  batch(statements: readonly Statement[]): QueryResult[] {
    return this.call({ op: 'batch', statements: statements.map((s) => ({ sql: s.sql, params: s.params ?? [] })) }, statements[0]?.sql ?? 'batch');
  }

  /** LISTENs on `channel` on the worker's dedicated connection (notifications go to `onNotify`). */
  listen(channel: string): void {
    if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`invalid channel name ${channel}`);
    this.call({ op: 'listen', channel }, `LISTEN ${channel}`);
  }

  /** Ends both connections and the worker. */
  close(): void {
    if (this.closed) return;
    try {
      this.call({ op: 'close' }, 'close');
    } finally {
      this.closed = true;
      this.port.close();
      void this.worker.terminate();
    }
  }

  private call(msg: Record<string, unknown>, what: string): QueryResult[] {
    if (this.closed) throw new Error('the Postgres connection is closed');
    const id = this.nextId++;
    this.port.postMessage({ ...msg, id });
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
        // Read the counter before looking at the port: an answer posted in between changes it,
        // so the wait below returns at once instead of missing the notify.
        const seen = Atomics.load(this.state, 0);
        const got = receiveMessageOnPort(this.port) as { message: Answer } | undefined;
        if (got) {
          // Answers to calls that timed out earlier are dropped.
          if (got.message.id !== id) continue;
          const { results, error } = got.message;
          if (error) throw new PostgresError(error.message, error.code, error.detail);
          return results ?? [];
        }
        const left = deadline - Date.now();
        if (left <= 0) throw new PostgresTimeoutError(what.slice(0, 80), this.timeoutMs);
        Atomics.wait(this.state, 0, seen, left);
      }
  }
}
