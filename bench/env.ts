/**
 * One bench environment: the Slack, Jira and Okta emulators and the load generator in this
 * process, the bot in a child process (bench/bot.ts) on its own database, talking over loopback.
 *
 * The bot runs with production defaults (dispatcher concurrency, backoff, sweep, log level
 * `info`); only its log lines are counted instead of written.
 */
import Database from 'better-sqlite3';
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve as resolvePath } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { copySqliteToPostgres } from '../src/adapters/postgres/copyFromSqlite.js';
import { numberedParams, PgDb } from '../src/adapters/postgres/db.js';
import { migratePostgres } from '../src/adapters/postgres/migrate.js';
import { openDatabase } from '../src/adapters/sqlite/db.js';
import { migrate, readMigrations } from '../src/adapters/sqlite/migrate.js';
import { migrationsDir } from '../src/compose.js';
import type { CpuDuring, LoadResult } from './loadgen.js';
import { postSigned, type SignedAnswer } from './signedPost.js';
import { JiraEmulator } from '../test/emulators/jira.js';
import { OktaEmulator } from '../test/emulators/okta.js';
import { interactiveElements, isObj, SlackEmulator, type Obj, type StoredMessage } from '../test/emulators/slack.js';
import { createTestDatabase, dropTestDatabase } from '../test/support/postgres.js';
import { addPerson, catalogYaml, credentials, emulatorEnv, person as fixturePerson, type Person } from '../test/support/fixtures.js';

const CREDENTIALS = credentials('bench');
export const { signingSecret: SIGNING_SECRET, botToken: BOT_TOKEN, oktaToken: OKTA_TOKEN, jiraToken: JIRA_TOKEN } = CREDENTIALS;
export const GROUP = '00gbenchreader';
export const APP = 'bench-app';
export const ROLE = 'reader';

export const CATALOG = catalogYaml({
  applications: [
    {
      id: APP,
      name: 'Bench application',
      owners: ['approver@bench.example'],
      roles: [{ id: ROLE, name: 'Reader', group: GROUP, durations: ['10s', '4h', '7d', 'permanent'], approvers: ['owners'] }],
    },
  ],
});

export type { Person };

export function person(i: number): Person {
  const n = String(i).padStart(7, '0');
  return fixturePerson(`user${n}`, `User ${n}`, { domain: 'bench.example', slackId: `U${n}`, oktaId: `00ubench${n}` });
}

export const APPROVER: Person = fixturePerson('approver', 'Ann Approver', { domain: 'bench.example', oktaPrefix: '00ubench' });

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(HERE);

let built: Promise<string> | undefined;

/**
 * The bot runs compiled, as `npm start` runs it from dist/ (tsx's loader thread would add ~45 MB
 * of RSS and a second of start-up). Compiled once per bench run into .tmp/bench-dist with
 * `tsc --noCheck` (typechecking is `npm run typecheck`'s job). BENCH_TSX=1 runs bench/bot.ts
 * under tsx instead.
 */
export function botEntry(): Promise<string> {
  if (process.env.BENCH_BOT_ENTRY) return Promise.resolve(resolvePath(process.env.BENCH_BOT_ENTRY));
  if (process.env.BENCH_TSX) return Promise.resolve(join(HERE, process.env.BENCH_WHATIF ? `whatif-${process.env.BENCH_WHATIF}.ts` : 'bot.ts'));
  built ??= new Promise<string>((resolve, reject) => {
    const out = join(ROOT, '.tmp', 'bench-dist');
    const config = join(ROOT, '.tmp', 'bench-tsconfig.json');
    mkdirSync(dirname(config), { recursive: true });
    rmSync(out, { recursive: true, force: true });
    writeFileSync(
      config,
      JSON.stringify({
        extends: '../tsconfig.build.json',
        compilerOptions: { outDir: './bench-dist', noEmit: false, sourceMap: false, incremental: false },
        include: ['../src', '../bench/bot.ts', '../bench/loadgen.ts', '../bench/boltFloor.ts', '../bench/nodeFloor.ts', '../bench/whatif-*.ts'],
      }),
    );
    const tsc = fork(join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), ['-p', config, '--noCheck'], { stdio: 'inherit' });
    // BENCH_WHATIF=<name>: the bot as bench/whatif-<name>.ts changes it (experiments for the lead).
    const main = process.env.BENCH_WHATIF ? `whatif-${process.env.BENCH_WHATIF}.js` : 'bot.js';
    tsc.on('exit', (code) => (code === 0 ? resolve(join(out, 'bench', main)) : reject(new Error(`compiling the bot failed (tsc exited ${code})`))));
  });
  return built;
}

/** Starts bench/<name>.ts in a process of its own: compiled, like the bot, unless it runs under tsx. */
export async function forkBenchModule(name: string, env: Record<string, string> = {}): Promise<ChildProcess> {
  await botEntry();
  const compiled = !process.env.BENCH_BOT_ENTRY && !process.env.BENCH_TSX;
  const file = compiled ? join(ROOT, '.tmp', 'bench-dist', 'bench', `${name}.js`) : join(HERE, `${name}.ts`);
  return fork(file, [], {
    execArgv: file.endsWith('.ts') ? ['--import', 'tsx'] : [],
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

/**
 * CPU time (user + system, ms) a process has used so far, from /proc/<pid>/stat (in clock ticks
 * of 10 ms: Linux's USER_HZ is 100); NaN where there is no /proc. With the wall time of a phase, it says how many of the machine's
 * cores each process got: the bot, the load generator and the emulators share two.
 */
export function cpuMsOf(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces): state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

export interface BurstOutcome {
  results: LoadResult[];
  /** From the job's arrival to /healthz's first 200 (with `waitHealthy`). */
  healthyAfterMs?: number;
  /** First send and last answer, monotonic clock (ms). */
  startedAt: number;
  endedAt: number;
  cpu?: CpuDuring;
}

/** The ack measurement's load generator (bench/loadgen.ts), in its own process. */
export class LoadGenerator {
  private child: ChildProcess | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, (r: BurstOutcome) => void>();

  async start(): Promise<this> {
    this.child = await forkBenchModule('loadgen');
    this.child.on('message', (m: BurstOutcome & { id: number }) => {
      this.pending.get(m.id)?.(m);
      this.pending.delete(m.id);
    });
    return this;
  }

  /** Posts every body to `url`, signed, `concurrency` at a time; results in the same order. */
  async run(url: string | string[], bodies: string[], concurrency: number, contentType = 'application/x-www-form-urlencoded'): Promise<LoadResult[]> {
    return (await this.burst({ url, bodies, concurrency, contentType })).results;
  }

  /**
   * The same, with the options of a burst (bench/loadgen.ts): `fresh` sends every request on a new
   * connection; `waitHealthy` makes the load generator poll that URL until it answers 200 and
   * start at once; `watchPid` has it read that process's CPU during the burst.
   */
  burst(job: { url: string | string[]; bodies: string[]; concurrency: number; contentType?: string; fresh?: boolean; waitHealthy?: string; watchPid?: number }): Promise<BurstOutcome> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.child!.send({ contentType: 'application/x-www-form-urlencoded', ...job, id, secret: SIGNING_SECRET });
    });
  }

  stop(): void {
    this.child?.disconnect();
    this.child = undefined;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }
}

export interface EnvOptions {
  /** Requesters to create in Slack and Okta. */
  people: number;
  /** Emulator latency per call, ms. */
  latencyMs?: number;
  /** Extra environment for the bot. */
  botEnv?: Record<string, string>;
  /** Extra node arguments for the bot process (e.g. --cpu-prof). */
  nodeArgs?: string[];
}

export interface ReadyInfo {
  url: string;
  healthStatus: number;
  loadMs: number;
  createMs: number;
  startMs: number;
  healthMs: number;
  readyMs: number;
  memory: NodeJS.MemoryUsage;
  /** Parent's view: from spawn to the ready message (process start, module loading included). */
  spawnToReadyMs: number;
}

/** The reads measurements make of the bot's database, in either store (better-sqlite3's shape). */
export interface BenchReader {
  prepare(sql: string): {
    get(...params: unknown[]): unknown;
    all(...params: unknown[]): unknown[];
    pluck(): { get(...params: unknown[]): unknown; all(...params: unknown[]): unknown[] };
  };
  close(): void;
}

/** Waits for a bot process to exit: after `graceMs` (0: at once) it is sent SIGTERM, 5 s later SIGKILL. */
async function exitOf(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  if (child.connected) child.disconnect();
  const term = setTimeout(() => child.kill('SIGTERM'), graceMs);
  const kill = setTimeout(() => child.kill('SIGKILL'), graceMs + 5000);
  await exited;
  clearTimeout(term);
  clearTimeout(kill);
}

export class BenchEnv {
  readonly slack = new SlackEmulator({ botToken: BOT_TOKEN });
  readonly jira = new JiraEmulator({ apiToken: JIRA_TOKEN });
  readonly okta = new OktaEmulator({ token: OKTA_TOKEN });
  readonly dir = mkdtempSync(join(tmpdir(), 'access-bot-bench-'));
  readonly dbPath = join(this.dir, 'bot.db');
  readonly people: Person[] = [];
  readonly agent = new http.Agent({ keepAlive: true, maxSockets: 1024 });
  ready!: ReadyInfo;
  private child: ChildProcess | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private reader: BenchReader | undefined;
  /** The first replica's /slack/events (every replica's in `eventsUrls`). */
  eventsUrl = '';
  eventsUrls: string[] = [];
  /**
   * BENCH_STORE=postgres: the bot runs on Postgres (a database of its own on TEST_DATABASE_URL's
   * server, or a throwaway cluster; test/support/postgres.ts); what a measurement seeds into the
   * SQLite file is copied there first (`access-bot migrate-store`). BENCH_REPLICAS=2: that many
   * bot processes on it, Slack requests spread over them in turn; `rpc` talks to the first.
   */
  readonly replicas = Math.max(1, Number(process.env.BENCH_REPLICAS ?? 1));
  readonly store: 'sqlite' | 'postgres' = process.env.BENCH_STORE === 'postgres' || this.replicas > 1 ? 'postgres' : 'sqlite';
  private pgUrl: string | undefined;
  private seededCopied = false;
  private others: ChildProcess[] = [];
  private nextUrl = 0;

  constructor(private readonly opts: EnvOptions) {}

  async start(): Promise<this> {
    await Promise.all([this.slack.start(), this.jira.start(), this.okta.start(), botEntry()]);
    if (this.store === 'postgres') this.pgUrl = createTestDatabase('bench');
    this.setLatency(this.opts.latencyMs ?? 0);
    this.addPerson(APPROVER);
    for (let i = 0; i < this.opts.people; i++) {
      const p = person(i);
      this.people.push(p);
      this.addPerson(p);
    }
    this.okta.addGroup({ id: GROUP, name: 'Bench readers' });
    // Okta's default per-minute limits would throttle every measurement that grants more than a
    // few hundred requests; only the burst measurement sets a budget.
    this.okta.setRateLimit({ perMinute: 1_000_000_000 });
    this.slack.addChannel({ id: 'C0ADMIN', name: 'access-admins', botIsMember: true });
    writeFileSync(join(this.dir, 'catalog.yaml'), CATALOG);
    return this;
  }

  setLatency(ms: number): void {
    this.slack.latencyMs = ms;
    this.jira.latencyMs = ms;
    this.okta.latencyMs = ms;
  }

  private addPerson(p: Person): void {
    addPerson(this, p);
  }

  /** The database, migrated, for seeding before the bot starts. The caller closes it. */
  openForSeeding(): Database.Database {
    const db = openDatabase(this.dbPath);
    migrate(db, readMigrations(migrationsDir()), Date.now);
    return db;
  }

  env(): Record<string, string> {
    return {
      PORT: '0',
      ...(this.pgUrl ? { DATABASE_URL: this.pgUrl } : { DATABASE_PATH: this.dbPath }),
      ACCESS_CATALOG: join(this.dir, 'catalog.yaml'),
      ...emulatorEnv(CREDENTIALS, this),
      LOG_LEVEL: 'info',
      // The holder checks would read every holder from Okta at each quarter-hour, in the middle of a measurement.
      RECLAIM_SCHEDULE: 'off',
      OFFBOARDING_SCHEDULE: 'off',
      ...this.opts.botEnv,
    };
  }

  /** Spawns the bot (each replica) and waits until its /healthz answered. */
  async startBot(): Promise<ReadyInfo> {
    if (this.pgUrl && !this.seededCopied && existsSync(this.dbPath)) {
      // What the measurement seeded into SQLite goes to Postgres, as migrate-store copies it.
      const lite = this.openForSeeding();
      const pg = PgDb.open(this.pgUrl, { timeoutMs: 600_000 });
      try {
        migratePostgres(pg, readMigrations(migrationsDir('postgres')));
        copySqliteToPostgres(lite, pg);
      } finally {
        pg.close();
        lite.close();
      }
      this.seededCopied = true;
    }
    const first = await this.spawnBot();
    this.child = first.child;
    this.ready = first.ready;
    this.eventsUrls = [`${first.ready.url}/slack/events`];
    for (let i = 1; i < this.replicas; i++) {
      const other = await this.spawnBot();
      this.others.push(other.child);
      this.eventsUrls.push(`${other.ready.url}/slack/events`);
    }
    this.eventsUrl = this.eventsUrls[0]!;
    // BENCH_PROFILE=<dir>: a CPU profile of the bot for each run, written when it stops.
    if (process.env.BENCH_PROFILE) await this.rpc('profileStart');
    return first.ready;
  }

  private async spawnBot(): Promise<{ child: ChildProcess; ready: ReadyInfo }> {
    // BENCH_BOT_ENTRY: another entry for the bot process (what-if experiments while profiling).
    const entry = await botEntry();
    const t0 = performance.now();
    const child = fork(entry, [], {
      execArgv: [...(entry.endsWith('.ts') ? ['--import', 'tsx'] : []), ...(this.opts.nodeArgs ?? [])],
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        TMPDIR: process.env.TMPDIR ?? '',
        ...(process.env.BENCH_LOG_FILE ? { BENCH_LOG_FILE: process.env.BENCH_LOG_FILE } : {}),
        ...(process.env.BENCH_TIMING ? { BENCH_TIMING: process.env.BENCH_TIMING } : {}),
        ...(process.env.BENCH_DISPATCHER ? { BENCH_DISPATCHER: process.env.BENCH_DISPATCHER } : {}),
        ...(process.env.BENCH_PRAGMA ? { BENCH_PRAGMA: process.env.BENCH_PRAGMA } : {}),
        ...this.env(),
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const ready = await new Promise<ReadyInfo>((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`bot exited (${code}) before it was ready`));
      child.once('exit', onExit);
      child.on('message', (m: { type?: string; id?: number; ok?: boolean; result?: unknown; error?: string }) => {
        if (m.type === 'ready') {
          child.off('exit', onExit);
          resolve({ ...(m as unknown as ReadyInfo), spawnToReadyMs: performance.now() - t0 });
          return;
        }
        const p = m.id === undefined ? undefined : this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id!);
        if (m.ok) p.resolve(m.result);
        else p.reject(new Error(`bot: ${m.error}`));
      });
    });
    child.on('exit', (code) => {
      for (const p of this.pending.values()) p.reject(new Error(`bot exited (${code})`));
      this.pending.clear();
    });
    return { child, ready };
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  rpc<T = unknown>(cmd: string, args: Record<string, unknown> = {}): Promise<T> {
    const child = this.child;
    if (!child?.connected) return Promise.reject(new Error('bot is not running'));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      child.send({ id, cmd, args });
    });
  }

  /** Until no effect is running or pending (also those waiting for a retry). */
  async idle(timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await this.rpc('idle', { timeoutMs });
      const { outbox } = await this.rpc<{ outbox: Record<string, number> }>('stats');
      if (!outbox.pending && !outbox.running) return;
      if (Date.now() > deadline) throw new Error(`outbox not drained after ${timeoutMs} ms: ${JSON.stringify(outbox)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** What the bot's dispatcher and log say at the end of a run: dead effects, retries, warnings. */
  lastStats:
    | {
        dispatcher: { succeeded: number; retried: number; dead: number };
        outbox: Record<string, number>;
        logs: { byLevel: Record<string, number>; lastWarnings: string[] };
        timing: Record<string, { n: number; ms: number; max: number }>;
      }
    | undefined;

  async stopBot(): Promise<void> {
    const child = this.child;
    if (!child) return;
    if (child.connected) this.lastStats = await this.rpc<NonNullable<BenchEnv['lastStats']>>('stats').catch(() => undefined);
    const st = this.lastStats;
    if (st && (st.dispatcher.dead > 0 || (st.logs.byLevel['50'] ?? 0) > 0 || process.env.BENCH_VERBOSE)) {
      console.log(`  [bot] effects ok ${st.dispatcher.succeeded}, retried ${st.dispatcher.retried}, dead ${st.dispatcher.dead}; outbox ${JSON.stringify(st.outbox)}; log lines by level ${JSON.stringify(st.logs.byLevel)}`);
      for (const w of st.logs.lastWarnings.slice(-3)) console.log(`  [bot] ${w}`);
      for (const [k, v] of Object.entries(st.timing ?? {})) console.log(`  [bot] ${k}: ${v.n} calls, ${v.ms.toFixed(0)} ms in all, ${(v.ms / v.n).toFixed(3)} ms each, max ${v.max.toFixed(1)} ms`);
    }
    this.reader?.close();
    this.reader = undefined;
    if (process.env.BENCH_PROFILE && child.connected) {
      mkdirSync(process.env.BENCH_PROFILE, { recursive: true });
      const path = join(process.env.BENCH_PROFILE, `bot-${new Date().toISOString().replace(/[:.]/g, '-')}.cpuprofile`);
      await this.rpc('profileStop', { path }).catch(() => undefined);
    }
    if (child.connected) await this.rpc('stop', { graceMs: 2000 }).catch(() => undefined);
    await Promise.all([child, ...this.others].map((c) => exitOf(c, c === child ? 5000 : 0)));
    this.others = [];
    this.child = undefined;
  }

  async close(): Promise<void> {
    await this.stopBot();
    this.agent.destroy();
    await Promise.all([this.slack.stop(), this.jira.stop(), this.okta.stop()]);
    rmSync(this.dir, { recursive: true, force: true });
    if (this.pgUrl) dropTestDatabase(this.pgUrl);
  }

  /** A read-only view of the bot's database (SQLite, WAL: it never blocks the bot; or Postgres). */
  db(): BenchReader {
    if (!this.reader) {
      if (this.pgUrl) {
        const pg = PgDb.open(this.pgUrl);
        const stmt = (sql: string, pluck: boolean) => ({
          get: (...p: unknown[]) => {
            const row = pg.get(numberedParams(sql), p);
            return pluck && row ? Object.values(row)[0] : row;
          },
          all: (...p: unknown[]) => pg.all(numberedParams(sql), p).map((r) => (pluck ? Object.values(r)[0] : r)),
        });
        this.reader = { prepare: (sql) => ({ ...stmt(sql, false), pluck: () => stmt(sql, true) }), close: () => pg.close() };
      } else {
        this.reader = new Database(this.dbPath, { readonly: true });
      }
    }
    return this.reader;
  }

  // ---- Slack's side of the wire -------------------------------------------------------------

  /** Posts a signed body to /slack/events over a keep-alive connection; resolves with the time to the full answer. */
  post(body: string, contentType = 'application/x-www-form-urlencoded'): Promise<SignedAnswer> {
    const url = this.eventsUrls[this.nextUrl++ % this.eventsUrls.length] ?? this.eventsUrl;
    return postSigned(url, SIGNING_SECRET, body, contentType, this.agent);
  }

  /** `/access` typed in the app's DM, as Slack posts it. */
  commandBody(userId: string): string {
    const channel = this.slack.imChannelFor(userId);
    return new URLSearchParams({
      token: 'bench-verification-token',
      team_id: this.slack.teamId,
      team_domain: this.slack.teamDomain,
      channel_id: channel,
      channel_name: 'directmessage',
      user_id: userId,
      user_name: this.slack.userName(userId),
      command: '/access',
      text: '',
      api_app_id: this.slack.appId,
      is_enterprise_install: 'false',
      response_url: this.slack.issueResponseUrl({ channel, user: userId }),
      trigger_id: this.slack.issueTriggerId(userId),
    }).toString();
  }

  /** The request modal's view_submission with the bench role chosen. */
  submitBody(userId: string, viewId: string, duration = '4h', reason = 'Bench: reading the quarterly access report'): string {
    const stored = this.slack.views.get(viewId);
    if (!stored) throw new Error(`no view ${viewId}`);
    const view = JSON.parse(JSON.stringify(stored.view)) as Obj;
    const appOpt = findOption(view, 'application', APP);
    const opt = (value: string) => ({ text: { type: 'plain_text', text: value, emoji: true }, value });
    view.state = {
      values: {
        application: { application: { type: 'static_select', selected_option: appOpt } },
        role: { role: { type: 'external_select', selected_option: opt(ROLE) } },
        duration: { duration: { type: 'external_select', selected_option: opt(duration) } },
        reason: { reason: { type: 'plain_text_input', value: reason } },
      },
    };
    return this.viewSubmissionBody(userId, view);
  }

  /** A modal's view_submission, with the view (and its state) as given. */
  viewSubmissionBody(userId: string, view: Obj): string {
    return interaction({
      type: 'view_submission',
      team: { id: this.slack.teamId, domain: this.slack.teamDomain },
      user: { id: userId, username: this.slack.userName(userId), name: this.slack.userName(userId), team_id: this.slack.teamId },
      api_app_id: this.slack.appId,
      token: 'bench-verification-token',
      trigger_id: this.slack.issueTriggerId(userId),
      view,
      response_urls: [],
      enterprise: null,
      is_enterprise_install: false,
    });
  }

  /** A click on a button (`approve` / `deny`) of an approver's message. */
  clickBody(userId: string, msg: Pick<StoredMessage, 'channel' | 'ts' | 'text' | 'blocks'>, actionId: string): string {
    const found = interactiveElements(msg.blocks).find((e) => e.element.type === 'button' && e.element.action_id === actionId);
    if (!found) throw new Error(`no ${actionId} button in ${msg.channel}/${msg.ts}`);
    return this.buttonBody(userId, msg, { blockId: found.blockId, element: found.element });
  }

  /** A click on this button of a message (one the message shows, or one it shows on another page). */
  buttonBody(userId: string, msg: Pick<StoredMessage, 'channel' | 'ts' | 'text' | 'blocks'>, { blockId, element }: { blockId: string; element: Obj }): string {
    const actionId = element.action_id;
    return interaction({
      type: 'block_actions',
      user: { id: userId, username: this.slack.userName(userId), name: this.slack.userName(userId), team_id: this.slack.teamId },
      api_app_id: this.slack.appId,
      token: 'bench-verification-token',
      container: { type: 'message', message_ts: msg.ts, channel_id: msg.channel, is_ephemeral: false },
      trigger_id: this.slack.issueTriggerId(userId),
      team: { id: this.slack.teamId, domain: this.slack.teamDomain },
      enterprise: null,
      is_enterprise_install: false,
      channel: { id: msg.channel, name: 'directmessage' },
      message: { type: 'message', subtype: 'bot_message', bot_id: this.slack.botId, text: msg.text, user: this.slack.botUserId, ts: msg.ts, team: this.slack.teamId, blocks: msg.blocks },
      state: { values: {} },
      response_url: this.slack.issueResponseUrl({ channel: msg.channel, user: userId, messageTs: msg.ts }),
      actions: [{ action_id: actionId, block_id: blockId, text: element.text, value: element.value, type: 'button', style: element.style, action_ts: `${(Date.now() / 1000).toFixed(6)}` }],
    });
  }

  /** The approver's DMs that still carry an Approve button, by request id (the button's value). */
  approvalCards(): Map<string, StoredMessage> {
    const out = new Map<string, StoredMessage>();
    for (const m of this.slack.messages) {
      if (m.deleted) continue;
      for (const { element } of interactiveElements(m.blocks)) {
        if (element.action_id === 'approve' && typeof element.value === 'string') out.set(element.value, m);
      }
    }
    return out;
  }

  /** Waits until every user has a new request modal, and returns their view ids in `order`. */
  async viewsFor(users: Set<string>, before: Set<string>, order: string[], timeoutMs = 60_000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const byUser = new Map<string, string>();
      for (const [id, v] of this.slack.views) {
        if (!before.has(id) && v.userId && users.has(v.userId) && isObj(v.view) && v.view.callback_id === 'access_request') byUser.set(v.userId, id);
      }
      if (byUser.size >= users.size) return order.map((u) => byUser.get(u)!);
      if (Date.now() > deadline) throw new Error(`only ${byUser.size} of ${users.size} modals opened`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** The request recorded for each submitted view id. */
  requestIdsFor(viewIds: string[]): string[] {
    const q = this.db().prepare('SELECT id FROM requests WHERE submission_key = ?').pluck();
    return viewIds.map((v) => {
      const id = q.get(v) as string | undefined;
      if (!id) throw new Error(`no request for view ${v}`);
      return id;
    });
  }
}

function findOption(view: Obj, blockId: string, value: string): Obj {
  const blocks = Array.isArray(view.blocks) ? (view.blocks as Obj[]) : [];
  const block = blocks.find((b) => b.block_id === blockId);
  const el = block && isObj(block.element) ? block.element : undefined;
  const options = el && Array.isArray(el.options) ? (el.options as Obj[]) : [];
  const o = options.find((x) => x.value === value);
  if (!o) throw new Error(`option ${value} not in ${blockId}`);
  return o;
}

function interaction(payload: Obj): string {
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}
