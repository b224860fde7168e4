/**
 * The bot under test, in its own process (as in production, and so the load generator and the
 * emulators in the parent process do not share its event loop). Started by bench/env.ts with
 * an IPC channel; configured by the same environment variables as `npm start`.
 *
 * Messages to the parent: `{ type: 'ready', createMs, startMs, ... }` once /healthz is up, then
 * replies `{ id, ok, result | error }` to the parent's requests `{ id, cmd, args }`.
 */
import { Session } from 'node:inspector';
import { appendFileSync, writeFileSync } from 'node:fs';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { expireDue } from '../src/app/expire.js';
import { createAccessBot, type AccessBot, type ComposeOptions } from '../src/compose.js';
import { loadCatalog } from '../src/config/catalog.js';
import { connectorsOf, loadConfig } from '../src/config/env.js';
import { secretsOf } from '../src/config/types.js';
import { createLogger } from '../src/logger.js';

const loadedAt = performance.now();

interface Request {
  id: number;
  cmd: string;
  args?: Record<string, unknown>;
}

/** Counts log lines by level and keeps the last warnings, without writing them anywhere. */
const logStats = { lines: 0, byLevel: {} as Record<string, number>, lastWarnings: [] as string[] };
/** BENCH_LOG_FILE: also write the bot's log lines to this file (debugging a measurement). */
const logFile = process.env.BENCH_LOG_FILE;
const sink = {
  write(s: string) {
    if (logFile) appendFileSync(logFile, s);
    logStats.lines++;
    const m = /"level":(\d+)/.exec(s);
    const level = m ? m[1]! : '?';
    logStats.byLevel[level] = (logStats.byLevel[level] ?? 0) + 1;
    if (Number(level) >= 40) {
      logStats.lastWarnings.push(s.slice(0, 400));
      if (logStats.lastWarnings.length > 10) logStats.lastWarnings.shift();
    }
  },
};

function send(msg: unknown): void {
  process.send?.(msg);
}

async function main(): Promise<void> {
  const cfg = loadConfig(process.env);
  if (!cfg.ok) throw new Error(`config: ${cfg.errors.join('; ')}`);
  const config = cfg.config;
  const cat = loadCatalog(config.catalogPath, { configuredConnectors: connectorsOf(config) });
  if (!cat.ok) throw new Error(`catalog: ${cat.errors.join('; ')}`);
  const logger = createLogger(config.logLevel, secretsOf(config), sink);

  const t0 = performance.now();
  // BENCH_DISPATCHER='{"concurrency":4}': dispatcher options for experiments (production defaults otherwise).
  const dispatcher = process.env.BENCH_DISPATCHER ? (JSON.parse(process.env.BENCH_DISPATCHER) as ComposeOptions['dispatcher']) : undefined;
  const bot: AccessBot = createAccessBot({ config, catalog: cat.catalog, logger, ...(dispatcher ? { dispatcher } : {}) });
  const t1 = performance.now();
  // BENCH_PRAGMA='wal_autocheckpoint=0;...': SQLite pragmas on the bot's connection, for experiments.
  for (const p of (process.env.BENCH_PRAGMA ?? '').split(';').filter(Boolean)) bot.db.pragma(p);
  // BENCH_TIMING=1: time the outbox's statements as the dispatcher uses them (diagnosis).
  const timing: Record<string, { n: number; ms: number; max: number }> = {};
  if (process.env.BENCH_TIMING) {
    const wrap = (obj: Record<string, unknown>, name: string, label: string) => {
      const orig = obj[name] as (...a: unknown[]) => unknown;
      obj[name] = (...a: unknown[]) => {
        const t = performance.now();
        try {
          return orig.apply(obj, a);
        } finally {
          const d = performance.now() - t;
          const e = (timing[label] ??= { n: 0, ms: 0, max: 0 });
          e.n++;
          e.ms += d;
          e.max = Math.max(e.max, d);
        }
      };
    };
    const ob = bot.outbox as unknown as Record<string, unknown>;
    for (const m of ['claim', 'claimEach', 'nextDueAt', 'complete', 'enqueue']) wrap(ob, m, `outbox.${m}`);
  }
  await bot.start();
  const t2 = performance.now();
  // Until /healthz answers 200, as an operator's probe would see it.
  const h = await fetch(`${bot.url}/healthz`);
  const healthStatus = h.status;
  await h.text();
  const t3 = performance.now();

  let profiler: Session | undefined;
  let elu = performance.eventLoopUtilization();
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();

  const handlers: Record<string, (args: Record<string, unknown>) => Promise<unknown> | unknown> = {
    async idle(args) {
      await bot.dispatcher.idle(Number(args.timeoutMs ?? 60_000));
      return true;
    },
    stats() {
      return {
        timing,
        dispatcher: bot.dispatcher.stats,
        memory: process.memoryUsage(),
        logs: logStats,
        outbox: bot.outbox.counts(),
      };
    },
    /** Event loop utilisation since the last call (or since ready). */
    elu() {
      const now = performance.eventLoopUtilization();
      const d = performance.eventLoopUtilization(now, elu);
      elu = now;
      return d.utilization;
    },
    /** How late the event loop ran timers since the last call (ms): p50, p99, max. */
    loopDelay() {
      const out = { p50: loopDelay.percentile(50) / 1e6, p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 };
      loopDelay.reset();
      return out;
    },
    gc() {
      (globalThis as { gc?: () => void }).gc?.();
      return process.memoryUsage();
    },
    /** Times `expireDue` (nothing due) and a full scheduler tick, `n` times each. */
    sweep(args) {
      const n = Number(args.n ?? 200);
      const expire: number[] = [];
      const tick: number[] = [];
      const next: number[] = [];
      const sched = bot.scheduler as unknown as { tick(source: string): void };
      let started = 0;
      for (let i = 0; i < n; i++) {
        let a = performance.now();
        started += expireDue(bot.ctx);
        expire.push(performance.now() - a);
        a = performance.now();
        bot.store.nextExpiry();
        next.push(performance.now() - a);
        a = performance.now();
        sched.tick('bench');
        tick.push(performance.now() - a);
      }
      return { expire, tick, next, started };
    },
    /** Times the dispatcher's idle look at the outbox (claim with nothing to claim) and /healthz's counts. */
    outbox(args) {
      const n = Number(args.n ?? 50);
      const claim: number[] = [];
      const counts: number[] = [];
      const nextDue: number[] = [];
      for (let i = 0; i < n; i++) {
        let a = performance.now();
        const got = bot.outbox.claim(1, 120_000);
        claim.push(performance.now() - a);
        for (const e of got) bot.outbox.release(e);
        a = performance.now();
        bot.outbox.counts();
        counts.push(performance.now() - a);
        a = performance.now();
        bot.outbox.nextDueAt();
        nextDue.push(performance.now() - a);
      }
      return { claim, counts, nextDue };
    },
    profileStart() {
      profiler = new Session();
      profiler.connect();
      return new Promise((resolve, reject) =>
        profiler!.post('Profiler.enable', () =>
          profiler!.post('Profiler.setSamplingInterval', { interval: 200 }, () =>
            profiler!.post('Profiler.start', (err) => (err ? reject(err) : resolve(true))),
          ),
        ),
      );
    },
    profileStop(args) {
      const path = String(args.path);
      return new Promise((resolve, reject) => {
        if (!profiler) return reject(new Error('no profile running'));
        profiler.post('Profiler.stop', (err, res) => {
          if (err) return reject(err);
          writeFileSync(path, JSON.stringify(res.profile));
          profiler!.disconnect();
          profiler = undefined;
          resolve(path);
        });
      });
    },
    async stop(args) {
      const t = performance.now();
      await bot.stop(Number(args.graceMs ?? 5000));
      return { stopMs: performance.now() - t };
    },
  };

  process.on('message', (m: Request) => {
    const h = handlers[m.cmd];
    if (!h) return send({ id: m.id, ok: false, error: `unknown command ${m.cmd}` });
    Promise.resolve()
      .then(() => h(m.args ?? {}))
      .then(
        (result) => send({ id: m.id, ok: true, result }),
        (err: Error) => send({ id: m.id, ok: false, error: err.stack ?? err.message }),
      );
  });
  process.on('disconnect', () => process.exit(0));

  send({
    type: 'ready',
    url: bot.url,
    healthStatus,
    /** From process start until main() ran: Node boot and module loading. */
    loadMs: loadedAt,
    createMs: t1 - t0,
    startMs: t2 - t1,
    healthMs: t3 - t2,
    readyMs: t3 - t0,
    memory: process.memoryUsage(),
  });
}

main().catch((err: Error) => {
  process.stderr.write(`bench bot failed: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
