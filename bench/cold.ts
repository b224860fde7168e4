/**
 * 7. Ack latency right after a restart, as Slack sees it: the production entry
 * (`node dist/src/main.js`, compiled) is started, a load generator in another process polls
 * `/healthz` from outside and, the moment it answers 200, sends a burst of 200 signed requests, 50
 * in flight, every one on a NEW connection (closed after its answer). Then, in the same process,
 * the same burst again on new connections (warm) and once more over reused keep-alive
 * connections (warm), so the cold figure can be told apart from what new connections cost.
 *
 * Three kinds, each after its own restart: slash commands (ack, then views.open), modal
 * submissions (recorded before the ack) and Approve clicks (recorded before the ack). A round is
 * all three; `rounds` rounds give the range. Between bursts the outbox is drained (read from the
 * database, read-only), so each burst carries only its own background work.
 *
 * On a shared machine the latencies follow its load; what each burst cost does not, nearly. So the
 * load generator also reads, from /proc, the CPU the bot used during the burst: its event loop's
 * (per answer, in the rows), its other threads' (V8's compiler and GC, the checkpoint worker),
 * and how long the event loop was ready to run but waited for a CPU.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { APPROVER, BenchEnv, botEntry, LoadGenerator, type BurstOutcome } from './env.js';
import type { CpuDuring } from './loadgen.js';
import { pct, round, rounded, summarize, type Row, type Summary } from './stats.js';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const MAIN = join(ROOT, '.tmp', 'bench-dist', 'src', 'main.js');

type Kind = 'command' | 'submission' | 'click';
type Variant = 'cold, new connections' | 'warm, new connections' | 'warm, reused connections';
const ALL_VARIANTS: Variant[] = ['cold, new connections', 'warm, new connections', 'warm, reused connections'];
// BENCH_COLD_ONLY=1: the cold burst alone (e.g. to profile it without the warm ones).
const VARIANTS = process.env.BENCH_COLD_ONLY ? ALL_VARIANTS.slice(0, 1) : ALL_VARIANTS;

export interface ColdBurst {
  round: number;
  kind: Kind;
  variant: Variant;
  latency: Summary;
  /** Time to connect on the new connections (ms). */
  connect: Summary | undefined;
  /** From spawning the process to the first 200 from /healthz, seen from outside (cold only). */
  spawnToHealthyMs?: number;
  errors: number;
  /** The burst's first send and last answer on the monotonic clock (ms), to find it in a profile. */
  window: [number, number];
  /** CPU the bot used during the burst (bench/loadgen.ts `CpuDuring`). */
  cpu: CpuDuring | undefined;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

// BENCH_COLD_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/p': node flags for the bot (diagnosis).
const NODE_ARGS = (process.env.BENCH_COLD_NODE_ARGS ?? '').split(' ').filter(Boolean);
const profiling = NODE_ARGS.some((a) => a.startsWith('--cpu-prof'));

/** The production entry, as `npm start` runs it (its log lines are dropped). */
function spawnBot(env: BenchEnv, port: number): ChildProcess {
  return spawn(process.execPath, [...NODE_ARGS, MAIN], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', TMPDIR: process.env.TMPDIR ?? '', ...env.env(), PORT: String(port) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

async function stopBot(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

/** Until the bot's outbox has nothing pending or running, read from its database. */
async function drained(env: BenchEnv, timeoutMs = 120_000): Promise<void> {
  const q = env.db().prepare("SELECT COUNT(*) FROM outbox WHERE status IN ('pending', 'running')").pluck();
  const deadline = Date.now() + timeoutMs;
  while ((q.get() as number) > 0) {
    if (Date.now() > deadline) throw new Error(`outbox not drained after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function measureCold(opts: { perBurst: number; inFlight: number; rounds: number; log: (s: string) => void }): Promise<{ result: unknown; rows: Row[] }> {
  const perRound = opts.perBurst * VARIANTS.length;
  const env = await new BenchEnv({ people: perRound * opts.rounds }).start();
  await botEntry();
  const load = await new LoadGenerator().start();
  // Bodies are built before the bot starts (a cold burst must not wait for the bench to build
  // them), so trigger ids must outlive a restart.
  env.slack.triggerTtlMs = 10 * 60_000;
  const bursts: ColdBurst[] = [];
  try {
    for (let round = 0; round < opts.rounds; round++) {
      const users = env.people.slice(round * perRound, (round + 1) * perRound).map((p) => p.slackId);
      const slices = VARIANTS.map((_, i) => users.slice(i * opts.perBurst, (i + 1) * opts.perBurst));
      let viewIds: string[][] = [];
      let requestIds: string[][] = [];
      for (const kind of ['command', 'submission', 'click'] as Kind[]) {
        const beforeViews = new Set(env.slack.views.keys());
        const bodies = slices.map((us, i) => {
          if (kind === 'command') return us.map((u) => env.commandBody(u));
          if (kind === 'submission') return us.map((u, j) => env.submitBody(u, viewIds[i]![j]!));
          const cards = env.approvalCards();
          return requestIds[i]!.map((id) => {
            const card = cards.get(id);
            if (!card) throw new Error(`no approval card for ${id}`);
            return env.clickBody(APPROVER.slackId, card, 'approve');
          });
        });
        const port = await freePort();
        const url = `http://127.0.0.1:${port}/slack/events`;
        const child = spawnBot(env, port);
        try {
          for (let v = 0; v < VARIANTS.length; v++) {
            const variant = VARIANTS[v]!;
            const cold = v === 0;
            const out = await load.burst({
              url,
              bodies: bodies[v]!,
              concurrency: opts.inFlight,
              fresh: variant !== 'warm, reused connections',
              waitHealthy: cold ? `http://127.0.0.1:${port}/healthz` : undefined,
              watchPid: child.pid,
            });
            // The load generator got the job right after the spawn: its wait is the time to healthy.
            bursts.push(summarise(round, kind, variant, out));
            // BENCH_DUMP=<dir>: each answer's send time (ms after the burst started), latency, connect time, status.
            if (process.env.BENCH_DUMP) {
              mkdirSync(process.env.BENCH_DUMP, { recursive: true });
              const csv = out.results.map((r) => `${r.sentAt.toFixed(2)},${r.ms.toFixed(2)},${r.connectMs.toFixed(2)},${r.status}`).join('\n');
              writeFileSync(join(process.env.BENCH_DUMP, `cold-${round + 1}-${kind}-${variant.replace(/[ ,]+/g, '-')}.csv`), `sent_ms,latency_ms,connect_ms,status\n${csv}\n`);
            }
            const b = bursts[bursts.length - 1]!;
            opts.log(`  round ${round + 1} ${kind.padEnd(10)} ${variant.padEnd(25)}: ${pct(b.latency)}${b.spawnToHealthyMs !== undefined ? ` (healthy ${b.spawnToHealthyMs.toFixed(0)} ms after spawn)` : ''}${b.errors ? `; ${b.errors} errors` : ''}`);
            opts.log(`    ${cpuLine(b, opts.perBurst)}${profiling ? `; in the profile: WINDOW=${b.window[0].toFixed(0)}-${b.window[1].toFixed(0)}` : ''}`);
            if (kind === 'command') await env.viewsFor(new Set(slices[v]!), beforeViews, slices[v]!);
            await drained(env);
          }
        } finally {
          await stopBot(child);
        }
        if (kind === 'command') viewIds = await Promise.all(slices.map((us) => env.viewsFor(new Set(us), beforeViews, us)));
        if (kind === 'submission') requestIds = viewIds.map((ids) => env.requestIdsFor(ids));
      }
    }
  } finally {
    load.stop();
    await env.close();
  }

  const rows: Row[] = [];
  for (const kind of ['command', 'submission', 'click'] as Kind[]) {
    for (const variant of VARIANTS) {
      const of = bursts.filter((b) => b.kind === kind && b.variant === variant);
      const p50s = of.map((b) => b.latency.p50);
      const p99s = of.map((b) => b.latency.p99);
      const cpu = of.map((b) => (b.cpu ? b.cpu.mainMs / opts.perBurst : Number.NaN)).filter((c) => !Number.isNaN(c));
      const errors = of.reduce((s, b) => s + b.errors, 0);
      const cold = variant.startsWith('cold');
      rows.push({
        id: `cold.${kind}.${variant.split(',')[0]}.${variant.includes('new') ? 'new' : 'reused'}`,
        measurement: `After a restart: ${kind === 'command' ? 'slash commands' : kind === 'submission' ? 'modal submissions' : 'button clicks'}, ${variant} (${opts.perBurst}, ${opts.inFlight} in flight, ×${of.length})`,
        result: `p50 ${range(p50s)} ms, p99 ${range(p99s)} ms${cpu.length ? `; the bot's event loop ${range(cpu, 2)} ms of CPU an answer` : ''}${errors ? `; ${errors} errors` : ''}`,
        target: cold ? 'p99 < 100 ms' : '',
        pass: cold ? errors === 0 && Math.max(...p99s) < 100 : undefined,
      });
    }
  }
  return {
    result: {
      bursts: bursts.map((b) => ({
        ...b,
        latency: rounded(b.latency),
        connect: b.connect && rounded(b.connect),
        spawnToHealthyMs: b.spawnToHealthyMs && round(b.spawnToHealthyMs, 0),
        cpu: b.cpu && Object.fromEntries(Object.entries(b.cpu).map(([k, v]) => [k, round(v, 1)])),
      })),
    },
    rows,
  };
}

function summarise(roundNo: number, kind: Kind, variant: Variant, out: BurstOutcome): ColdBurst {
  const { results } = out;
  const connects = results.map((r) => r.connectMs).filter((c) => c >= 0);
  return {
    round: roundNo,
    kind,
    variant,
    latency: summarize(results.map((r) => r.ms)),
    connect: connects.length ? summarize(connects) : undefined,
    spawnToHealthyMs: out.healthyAfterMs,
    errors: results.filter((r) => r.status !== 200).length,
    window: [out.startedAt, out.endedAt],
    cpu: out.cpu,
  };
}

/** Where the burst's time went, in CPU: the bot's event loop, its other threads, the load generator. */
function cpuLine(b: ColdBurst, n: number): string {
  const wall = b.window[1] - b.window[0];
  const c = b.cpu;
  const connect = b.connect ? `; connect p50 ${b.connect.p50.toFixed(1)} ms` : '';
  if (!c) return `${wall.toFixed(0)} ms${connect}`;
  return (
    `${wall.toFixed(0)} ms: bot's main thread ${c.mainMs.toFixed(0)} ms of CPU (${(c.mainMs / n).toFixed(2)} ms an answer), ` +
    `waited ${c.waitMs.toFixed(0)} ms for a CPU; its other threads ${c.otherMs.toFixed(0)} ms; load generator ${c.loadgenMs.toFixed(0)} ms${connect}`
  );
}

const range = (v: number[], digits = 0) => {
  const lo = Math.min(...v).toFixed(digits);
  const hi = Math.max(...v).toFixed(digits);
  return lo === hi ? lo : `${lo}–${hi}`;
};
