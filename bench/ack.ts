/**
 * 1. Ack latency: how long Slack waits for the bot's answer to a signed slash command, a modal
 * submission and a button click, with 10, 50 and 200 requests in flight (closed loop: each
 * answer sends the next request). Slack gives up after 3,000 ms.
 *
 * A separate process (bench/loadgen.ts) sends the requests, signed as Slack signs them, and times
 * each one to the full answer, so the emulators' work in this process does not delay its clock.
 *
 * Each level is a chain on fresh users: `/access` (the bot acks, then calls views.open) →
 * submit the modal (the bot records the request before acking) → the approver clicks Approve
 * (the bot acks, then records the decision). The outbox drains between phases, so each phase is
 * measured with its own background work (routing, Jira, DMs, grants) running, not the previous
 * phase's.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { APPROVER, BenchEnv, cpuMsOf, forkBenchModule, LoadGenerator, SIGNING_SECRET } from './env.js';
import { pct, round, rounded, summarize, type Row, type Summary } from './stats.js';

export interface AckPhase {
  kind: 'command' | 'submission' | 'click';
  inFlight: number;
  n: number;
  latency: Summary;
  /** Requests answered per second during the phase. */
  perSecond: number;
  /** The bot's event loop utilisation during the phase (1 = saturated). */
  botElu: number;
  /** The same for the emulators (the bench process; the load generator has its own). */
  emulatorsElu: number;
  /** The bot's longest event-loop stall during the phase (ms): a bot stall, or not the bot's. */
  botLoopMaxMs: number;
  /**
   * Cores each process used during the phase (CPU time ÷ wall time; the machine has two): the bot
   * (or the reference app), the load generator, and the bench process with the emulators.
   */
  cores: { bot: number; load: number; emulators: number };
  /**
   * The bot's CPU per answer counting, beyond the phase, the background work it left (routing,
   * Jira, DMs, grants) until the outbox drained: what the answers cost in all, whatever a phase's
   * pace leaves for later (NaN for the references).
   */
  botCpuWithDrainMs: number;
  /** Connections the bot opened to the emulators during the phase (NaN for the references). */
  connectionsOpened: number;
  errors: number;
}

export interface AckResult {
  phases: AckPhase[];
  /** Bolt with ack-only listeners, for reference. */
  boltFloor: AckPhase[];
  /** node:http with the signature check only, for reference. */
  nodeFloor: AckPhase[];
}

type FloorName = 'bolt' | 'node';
const FLOOR_LABEL: Record<FloorName, string> = {
  bolt: 'Bolt with ack-only listeners (no app)',
  node: 'node:http with the signature check only (no framework)',
};

export async function measureAck(opts: { perLevel: number; warmup: number; levels: number[]; log: (s: string) => void }): Promise<{ result: AckResult; rows: Row[] }> {
  const warmup = opts.warmup;
  const env = await new BenchEnv({ people: warmup + opts.perLevel * opts.levels.length }).start();
  const load = await new LoadGenerator().start();
  // Bodies are built before each phase and sent by another process: trigger ids (which Slack
  // honours for 3 s) must outlive a phase of a thousand commands.
  env.slack.triggerTtlMs = 10 * 60_000;
  const phases: AckPhase[] = [];
  try {
    await env.startBot();
    // One untimed round first, so the JIT has seen every path.
    let offset = 0;
    for (const c of [0, ...opts.levels]) {
      const warm = c === 0;
      const size = warm ? warmup : opts.perLevel;
      const users = env.people.slice(offset, offset + size).map((p) => p.slackId);
      offset += size;
      const level = warm ? 10 : c;

      // Slash commands.
      const before = new Set(env.slack.views.keys());
      const cmd = await timed(env, load, 'command', level, users.map((u) => env.commandBody(u)));
      if (!warm) phases.push(cmd);
      const viewIds = await env.viewsFor(new Set(users), before, users);
      await env.idle();
      withDrain(env, cmd);

      // Modal submissions (bodies built before the clock starts).
      const submitBodies = viewIds.map((v, i) => env.submitBody(users[i]!, v));
      const sub = await timed(env, load, 'submission', level, submitBodies, (text) => text === '');
      if (!warm) phases.push(sub);
      await env.idle();
      withDrain(env, sub);

      // Approve clicks on each new request's card.
      const ids = env.requestIdsFor(viewIds);
      const cards = env.approvalCards();
      const clickBodies = ids.map((id) => {
        const card = cards.get(id);
        if (!card) throw new Error(`no approval card for ${id}`);
        return env.clickBody(APPROVER.slackId, card, 'approve');
      });
      const click = await timed(env, load, 'click', level, clickBodies);
      if (!warm) phases.push(click);
      await env.idle();
      withDrain(env, click);
      const active = env.db().prepare(`SELECT COUNT(*) FROM requests WHERE state = 'active' AND id IN (${ids.map(() => '?').join(',')})`).pluck().get(...ids) as number;
      if (active !== ids.length) {
        // Say why: each request that did not become active, its state and its effects' last errors.
        const stuck = env.db().prepare(`SELECT id, state FROM requests WHERE state <> 'active' AND id IN (${ids.map(() => '?').join(',')})`).all(...ids) as { id: string; state: string }[];
        const why = stuck.map((r) => {
          const effects = env.db().prepare("SELECT kind, status, attempts, last_error FROM outbox WHERE request_id = ? AND (status <> 'done' OR last_error IS NOT NULL)").all(r.id);
          return `${r.id} ${r.state}: ${JSON.stringify(effects)}`;
        });
        throw new Error(`only ${active} of ${ids.length} requests became active:\n${why.join('\n')}`);
      }
      if (!warm) for (const p of phases.slice(-3)) opts.log(`  ${p.kind.padEnd(10)} ${String(c).padStart(3)} in flight: ${pct(p.latency)}  (${p.perSecond.toFixed(0)}/s, ELU bot ${p.botElu.toFixed(2)}, emulators ${p.emulatorsElu.toFixed(2)}; ${coresLine(p)}, ${p.botCpuWithDrainMs.toFixed(2)} ms with the drain; ${p.connectionsOpened} connections opened to the emulators; bot's longest stall ${p.botLoopMaxMs.toFixed(0)} ms)`);
    }
  } finally {
    await env.close();
  }

  // The references, at the same levels: Bolt acking and doing nothing else; node:http checking
  // the signature and doing nothing else.
  const floors: Record<FloorName, AckPhase[]> = { bolt: [], node: [] };
  try {
    for (const name of Object.keys(floors) as FloorName[]) {
      const floorBot = await forkBenchModule(name === 'bolt' ? 'boltFloor' : 'nodeFloor', { SLACK_SIGNING_SECRET: SIGNING_SECRET });
      try {
        const port = await new Promise<number>((resolve, reject) => {
          floorBot.once('message', (m: { port: number }) => resolve(m.port));
          floorBot.once('exit', (code) => reject(new Error(`bench/${name}Floor exited (${code})`)));
        });
        const url = `http://127.0.0.1:${port}/slack/events`;
        const bodies = (n: number) => Array.from({ length: n }, (_, i) => floorCommand(i));
        await load.run(url, bodies(warmup), 10);
        for (const c of opts.levels) {
          const cpu0 = cpuNow(floorBot.pid, load);
          const t0 = performance.now();
          const results = await load.run(url, bodies(opts.perLevel), c);
          const wall = performance.now() - t0;
          const cores = coresSince(cpu0, cpuNow(floorBot.pid, load), wall);
          const p: AckPhase = {
            kind: 'command',
            inFlight: c,
            n: opts.perLevel,
            latency: summarize(results.map((r) => r.ms)),
            perSecond: (opts.perLevel / wall) * 1000,
            botElu: Number.NaN,
            emulatorsElu: Number.NaN,
            botLoopMaxMs: Number.NaN,
            cores,
            botCpuWithDrainMs: Number.NaN,
            connectionsOpened: Number.NaN,
            errors: results.filter((r) => r.status !== 200).length,
          };
          floors[name].push(p);
          opts.log(`  reference: ${FLOOR_LABEL[name]}, ${String(c).padStart(3)} in flight: ${pct(p.latency)}  (${p.perSecond.toFixed(0)}/s; ${coresLine(p)})`);
        }
      } finally {
        floorBot.disconnect();
      }
    }
  } finally {
    load.stop();
  }

  const rows: Row[] = phases.map((p) => ({
    id: `ack.${p.kind}.${p.inFlight}`,
    measurement: `Ack: ${p.kind === 'command' ? 'slash command' : p.kind === 'submission' ? 'modal submission' : 'button click'}, ${p.inFlight} in flight (n=${p.n})`,
    result: `${pct(p.latency)}; ${p.perSecond.toFixed(0)}/s${p.errors ? `; ${p.errors} errors` : ''}`,
    target: p.inFlight === 200 ? 'p99 < 50 ms' : 'p99 < 3,000 ms (Slack)',
    pass: p.errors === 0 && p.latency.p99 < (p.inFlight === 200 ? 50 : 3000),
  }));
  for (const name of Object.keys(floors) as FloorName[]) {
    rows.push(
      ...floors[name].map((p) => ({
        id: `ack.${name === 'bolt' ? 'floor' : 'nodeFloor'}.${p.inFlight}`,
        measurement: `Reference: ${FLOOR_LABEL[name]}, slash command, ${p.inFlight} in flight (n=${p.n})`,
        result: `${pct(p.latency)}; ${p.perSecond.toFixed(0)}/s`,
        target: '',
      })),
    );
  }
  const out = (p: AckPhase) => ({ ...p, latency: rounded(p.latency), perSecond: round(p.perSecond, 0), botElu: round(p.botElu), emulatorsElu: round(p.emulatorsElu), botLoopMaxMs: round(p.botLoopMaxMs), botCpuWithDrainMs: round(p.botCpuWithDrainMs), cores: { bot: round(p.cores.bot), load: round(p.cores.load), emulators: round(p.cores.emulators) } });
  return { result: { phases: phases.map(out), boltFloor: floors.bolt.map(out), nodeFloor: floors.node.map(out) }, rows };
}

async function timed(env: BenchEnv, load: LoadGenerator, kind: AckPhase['kind'], inFlight: number, bodies: string[], okBody: (text: string) => boolean = () => true): Promise<AckPhase> {
  // BENCH_PROFILE_PHASES=<dir>: a CPU profile of the bot for each timed phase alone.
  const profileDir = process.env.BENCH_PROFILE ? undefined : process.env.BENCH_PROFILE_PHASES;
  if (profileDir) await env.rpc('profileStart');
  await env.rpc('elu');
  await env.rpc('loopDelay');
  const parent0 = performance.eventLoopUtilization();
  const cpu0 = cpuNow(env.pid, load);
  const conns0 = connectionsTo(env);
  const t0 = performance.now();
  const results = await load.run(env.eventsUrls, bodies, inFlight);
  const wall = performance.now() - t0;
  const cores = coresSince(cpu0, cpuNow(env.pid, load), wall);
  const connections = connectionsTo(env) - conns0;
  const botElu = await env.rpc<number>('elu');
  const botLoopMaxMs = (await env.rpc<{ max: number }>('loopDelay')).max;
  const emulatorsElu = performance.eventLoopUtilization(parent0).utilization;
  if (profileDir) {
    mkdirSync(profileDir, { recursive: true });
    await env.rpc('profileStop', { path: join(profileDir, `ack-${kind}-${inFlight}-${Date.now()}.cpuprofile`) });
  }
  // BENCH_DUMP=<dir>: each answer's send time (ms after the phase started) and latency, as CSV.
  const dumpDir = process.env.BENCH_DUMP;
  if (dumpDir) {
    mkdirSync(dumpDir, { recursive: true });
    writeFileSync(join(dumpDir, `ack-${kind}-${inFlight}-${Date.now()}.csv`), `sent_ms,latency_ms,connect_ms,status\n${results.map((r) => `${r.sentAt.toFixed(2)},${r.ms.toFixed(2)},${r.connectMs.toFixed(2)},${r.status}`).join('\n')}\n`);
  }
  const failed = results.filter((r) => r.status !== 200 || !okBody(r.text));
  const errors = failed.length;
  if (errors > 0) console.log(`  ${kind} ${inFlight} in flight: ${errors} answers were not what Slack expects, e.g. ${JSON.stringify(failed.slice(0, 3).map((r) => `${r.status} ${r.text.slice(0, 200)}`))}`);
  const n = bodies.length;
  return { kind, inFlight, n, latency: summarize(results.map((r) => r.ms)), perSecond: (n / wall) * 1000, botElu, emulatorsElu, botLoopMaxMs, cores, botCpuWithDrainMs: cpu0.bot, connectionsOpened: connections, errors };
}

/** Once the outbox has drained after a phase: its CPU per answer, drain included (the phase carries its start). */
function withDrain(env: BenchEnv, p: AckPhase): void {
  p.botCpuWithDrainMs = (cpuMsOf(env.pid) - p.botCpuWithDrainMs) / p.n;
}

/** Connections the emulators have accepted so far (the bot is their only client during a phase). */
const connectionsTo = (env: BenchEnv) => env.slack.connectionsAccepted + env.okta.connectionsAccepted + env.jira.server.connectionsAccepted;

type CpuMs = { bot: number; load: number; emulators: number };
function cpuNow(botPid: number | undefined, load: LoadGenerator): CpuMs {
  const self = process.cpuUsage();
  return { bot: cpuMsOf(botPid), load: cpuMsOf(load.pid), emulators: (self.user + self.system) / 1000 };
}
function coresSince(a: CpuMs, b: CpuMs, wallMs: number): CpuMs {
  return { bot: (b.bot - a.bot) / wallMs, load: (b.load - a.load) / wallMs, emulators: (b.emulators - a.emulators) / wallMs };
}
/** Cores used, and the CPU each answer cost the bot and the load generator (cores ÷ answers per second). */
const coresLine = (p: AckPhase) =>
  `cores: bot ${p.cores.bot.toFixed(2)}, load generator ${p.cores.load.toFixed(2)}, emulators ${p.cores.emulators.toFixed(2)}; CPU per answer: bot ${((p.cores.bot / p.perSecond) * 1000).toFixed(2)} ms, load generator ${((p.cores.load / p.perSecond) * 1000).toFixed(2)} ms`;

/** A signed-later slash command for the reference app (it reads nothing from it). */
function floorCommand(i: number): string {
  return new URLSearchParams({
    token: 'bench-verification-token',
    team_id: 'T0EMULATED',
    team_domain: 'emulated',
    channel_id: 'D0000001',
    channel_name: 'directmessage',
    user_id: `U${String(i).padStart(7, '0')}`,
    user_name: 'user',
    command: '/access',
    text: '',
    api_app_id: 'A0EMULATED',
    is_enterprise_install: 'false',
    response_url: 'http://127.0.0.1:9/actions/none',
    trigger_id: `${i}.0.bench`,
  }).toString();
}
