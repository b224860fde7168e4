/**
 * 4. Scale: a database holding a year of history (N finished requests, each with its approver,
 * hash-chained audit events and ~15 finished outbox effects) and M active grants (80% expiring
 * over the next 30 days, 20% permanent), seeded with prepared INSERTs in one transaction. Then:
 *   - start-up: createAccessBot + start until /healthz answers 200 (in the bot process; the
 *     process's own boot, module loading included, is shown separately);
 *   - the expiry sweep's cost per tick when nothing is due: `expireDue`, and a whole scheduler
 *     tick (expireDue + next expiry + re-arming the timer);
 *   - the bot's RSS after start;
 *   - for context: the dispatcher's idle look at the outbox, /healthz and /metrics.
 */
import { statSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { BenchEnv, person } from './env.js';
import { Seeder } from './seed.js';
import { mb, ms, pct, round, rounded, sleep, summarize, type Row, type Summary } from './stats.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export interface ScaleResult {
  pastRequests: number;
  activeGrants: number;
  seedMs: number;
  dbBytes: number;
  rows: Record<string, number>;
  startup: { createMs: number; startMs: number; healthMs: number; readyMs: number; processLoadMs: number; spawnToReadyMs: number };
  rssAfterStart: number;
  /** After a few seconds of the bot's own idle work. */
  rssAfterIdle: number;
  /** After the sweep, outbox, /healthz and /metrics probes. */
  rssAfterTicks: number;
  rssAfter: Record<string, number>;
  heapUsedAfterStart: number;
  expireDue: Summary;
  tick: Summary;
  nextExpiry: Summary;
  claim: Summary;
  counts: Summary;
  healthz: Summary;
  metrics: Summary;
}

export async function measureScale(opts: { pastRequests: number; activeGrants: number; idleMs?: number; log: (s: string) => void }): Promise<{
  result: ScaleResult;
  rows: Row[];
}> {
  const env = await new BenchEnv({ people: 0 }).start();
  try {
    const t0 = performance.now();
    const db = env.openForSeeding();
    const restore = Seeder.fast(db);
    const seeder = new Seeder(db);
    const now = Date.now();
    const yearAgo = now - 365 * DAY;
    db.transaction(() => {
      for (let i = 0; i < opts.pastRequests; i++) {
        // Requesters recur (10,000 people), as they do in a company.
        seeder.pastRequest(`req_p${String(i).padStart(8, '0')}`, person(i % 10_000), i + 1, yearAgo + Math.floor((i * 360 * DAY) / opts.pastRequests), i);
      }
      for (let i = 0; i < opts.activeGrants; i++) {
        const grantedAt = now - Math.floor((i * 7 * DAY) / opts.activeGrants);
        const expiresAt = i % 5 === 4 ? null : now + HOUR + Math.floor(((i * 7919) % opts.activeGrants) * ((30 * DAY) / opts.activeGrants));
        seeder.activeGrant(`req_a${String(i).padStart(8, '0')}`, person(100_000 + i), opts.pastRequests + i + 1, grantedAt, expiresAt);
      }
    })();
    restore();
    const counts: Record<string, number> = {};
    for (const t of ['requests', 'approvers', 'audit_events', 'outbox', 'memberships']) counts[t] = db.prepare(`SELECT COUNT(*) FROM ${t}`).pluck().get() as number;
    db.close();
    const seedMs = performance.now() - t0;
    const dbBytes = statSync(env.dbPath).size;
    opts.log(`  seeded ${Object.entries(counts).map(([k, v]) => `${v.toLocaleString('en')} ${k}`).join(', ')} in ${ms(seedMs)} (${mb(dbBytes)})`);

    const ready = await env.startBot();
    const startup = {
      createMs: ready.createMs,
      startMs: ready.startMs,
      healthMs: ready.healthMs,
      readyMs: ready.readyMs,
      processLoadMs: ready.loadMs,
      spawnToReadyMs: ready.spawnToReadyMs,
    };
    opts.log(`  start-up ${ms(ready.readyMs)} (createAccessBot ${ms(ready.createMs)}, start ${ms(ready.startMs)}, /healthz ${ms(ready.healthMs)}); process spawn → ready ${ms(ready.spawnToReadyMs)}; RSS ${mb(ready.memory.rss)}`);

    const rss = async () => (await env.rpc<{ memory: NodeJS.MemoryUsage }>('stats')).memory.rss;
    const rssAfter: Record<string, number> = {};
    // A minute of the bot's own idle work: the dispatcher's polls and the expiry timer.
    await sleep(opts.idleMs ?? 5000);
    rssAfter.idle = await rss();
    const sweep = await env.rpc<{ expire: number[]; tick: number[]; next: number[]; started: number }>('sweep', { n: 200 });
    if (sweep.started !== 0) throw new Error(`the sweep revoked ${sweep.started} grants; none should be due`);
    rssAfter.sweep = await rss();
    const ob = await env.rpc<{ claim: number[]; counts: number[]; nextDue: number[] }>('outbox', { n: 20 });
    const healthz: number[] = [];
    const metrics: number[] = [];
    for (let i = 0; i < 20; i++) healthz.push(await get(`${ready.url}/healthz`));
    rssAfter.healthz = await rss();
    for (let i = 0; i < 5; i++) metrics.push(await get(`${ready.url}/metrics`));
    rssAfter.metrics = await rss();
    const after = { memory: { rss: rssAfter.metrics } };
    opts.log(`  RSS ${Object.entries(rssAfter).map(([k, v]) => `after ${k} ${mb(v)}`).join(', ')}`);

    const result: ScaleResult = {
      pastRequests: opts.pastRequests,
      activeGrants: opts.activeGrants,
      seedMs: round(seedMs, 0),
      dbBytes,
      rows: counts,
      startup: Object.fromEntries(Object.entries(startup).map(([k, v]) => [k, round(v, 1)])) as ScaleResult['startup'],
      rssAfterStart: ready.memory.rss,
      rssAfterIdle: rssAfter.idle!,
      rssAfterTicks: after.memory.rss,
      rssAfter,
      heapUsedAfterStart: ready.memory.heapUsed,
      expireDue: rounded(summarize(sweep.expire), 3),
      tick: rounded(summarize(sweep.tick), 3),
      nextExpiry: rounded(summarize(sweep.next), 3),
      claim: rounded(summarize(ob.claim), 3),
      counts: rounded(summarize(ob.counts), 3),
      healthz: rounded(summarize(healthz)),
      metrics: rounded(summarize(metrics)),
    };
    opts.log(`  expireDue ${pct(result.expireDue)}; tick ${pct(result.tick)}; idle claim ${pct(result.claim)}; /healthz ${pct(result.healthz)}; /metrics ${pct(result.metrics)}`);

    const size = `${(opts.pastRequests / 1e6).toLocaleString('en')}M past + ${(opts.activeGrants / 1e3).toLocaleString('en')}k active`;
    const rows: Row[] = [
      {
        id: 'scale.startup',
        measurement: `Start-up, ${size} (createAccessBot + start → /healthz 200)`,
        result: `${ms(startup.readyMs)} (process spawn → ready ${ms(startup.spawnToReadyMs)}, incl. Node boot and module loading)`,
        target: '< 2 s',
        pass: startup.readyMs < 2000,
      },
      {
        id: 'scale.sweep',
        measurement: `Expiry sweep per tick, nothing due, ${size} (n=200)`,
        result: `tick ${pct(result.tick)}; expireDue alone p99 ${ms(result.expireDue.p99)}`,
        target: 'tick < 10 ms',
        pass: result.tick.p99 < 10,
      },
      {
        id: 'scale.rss',
        measurement: `RSS after start, ${size}`,
        result: `${mb(result.rssAfterStart)}, ${mb(result.rssAfterIdle)} after 5 s idle (heap ${mb(result.heapUsedAfterStart)}); ${mb(result.rssAfterTicks)} after the probes below incl. /metrics`,
        target: '< 200 MB',
        pass: Math.max(result.rssAfterStart, result.rssAfterIdle) < 200 * 1024 * 1024,
      },
      {
        id: 'scale.outbox',
        measurement: `Dispatcher's idle look at the outbox (claim), ${size}`,
        result: `claim ${pct(result.claim)}; /healthz ${pct(result.healthz)}; /metrics ${pct(result.metrics)}`,
        target: '',
      },
      {
        id: 'scale.db',
        measurement: 'Scale database',
        result: `${Object.entries(counts).map(([k, v]) => `${(v / 1e6).toFixed(2)}M ${k}`).join(', ')}; ${mb(dbBytes)}; seeded in ${ms(seedMs)}`,
        target: '',
      },
    ];
    return { result, rows };
  } finally {
    await env.close();
  }
}

async function get(url: string): Promise<number> {
  const t = performance.now();
  const r = await fetch(url);
  await r.text();
  if (r.status !== 200) throw new Error(`${url} answered ${r.status}`);
  return performance.now() - t;
}
