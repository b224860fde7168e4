/**
 * The crash-run engine behind `test/integration/chaos.test.ts` (CI size) and `npm run chaos`
 * (full size): the real bot as a child process (`node --import tsx src/main.ts`) against Slack,
 * Jira and Okta emulators living in this process, a batch of flows driven through signed Slack
 * requests (request → approve → grant → expire → revoke, some denied, some double-clicked), and
 * `kill -9` of the bot at randomised points (at random times, or right after it sent an Okta
 * membership change, a Jira write or a Slack post, before it could record the outcome), each
 * followed by a restart on the same database. Faults are injected meanwhile: Jira 503 and 429
 * bursts and reset connections, Okta 429 with X-Rate-Limit-Reset, Slack 429 and 503.
 *
 * Every random choice comes from a seeded PRNG (the seed is printed), so a run's plan — which
 * flows deny, who clicks, when and how the bot is killed, which faults are armed — replays with
 * the same seed; the exact interleaving still depends on timing.
 *
 * At the end, once everything is quiet, the invariants are checked from the outside (the
 * emulators' state and call logs) and from the database:
 * - each approved request granted exactly once: one `granted` audit event, and one real addition
 *   of the membership in Okta (a re-sent PUT after a crash is idempotent and only counted);
 * - IdP membership equals what the database says (no membership left, no ownership record left);
 * - one Jira issue per request, every step's comment present exactly once and in step order
 *   (comments are matched to audit events through the effect id the bot stores on each);
 * - no request stuck (every one reaches a final state), none failed, no outbox row left pending,
 *   running or dead, the audit chain intact, no configured secret in the bot's output.
 */
import Database from 'better-sqlite3';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SqliteOutboxRepository } from '../../src/adapters/sqlite/outboxRepository.js';
import { SqliteStore } from '../../src/adapters/sqlite/store.js';
import { QUEUE_POLICY } from '../../src/app/effects.js';
import { isRecordedInJira, type Step } from '../../src/domain/steps.js';
import { Outbox } from '../../src/outbox/outbox.js';
import type { RecordedCall } from '../emulators/base.js';
import { JiraEmulator } from '../emulators/jira.js';
import { OktaEmulator } from '../emulators/okta.js';
import { SlackEmulator, type StoredMessage } from '../emulators/slack.js';
import { BOT_TOKEN, JIRA_TOKEN, OKTA_TOKEN, PEOPLE, SIGNING_SECRET, type Person } from './harness.js';
import { SlackDriver } from './slackDriver.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

// ---------------------------------------------------------------------------------------------
// Seeded randomness
// ---------------------------------------------------------------------------------------------

/** mulberry32: small, fast, good enough to pick crash points and payload mutations. */
export class Rng {
  private s: number;
  constructor(readonly seed: number) {
    this.s = seed >>> 0;
  }

  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  pick<T>(xs: readonly T[]): T {
    if (xs.length === 0) throw new Error('Rng.pick: empty list');
    return xs[Math.floor(this.next() * xs.length)]!;
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  /** An independent stream, so one kind of choice does not shift another's sequence. */
  fork(salt: number): Rng {
    return new Rng((Math.imul(this.seed ^ 0x9e3779b9, 0x85ebca6b) + salt * 0x27d4eb2f) >>> 0);
  }
}

export function randomSeed(): number {
  return (Date.now() ^ (process.pid << 16)) >>> 0;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// The bot as a child process
// ---------------------------------------------------------------------------------------------

export interface BotExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * `node --import tsx src/main.ts` with the given environment. `start()` resolves once the bot
 * logged "access-bot ready" (its port is read from that line); `kill()` resolves on exit. The
 * output of every incarnation is kept, for diagnostics and for grepping secrets.
 */
export class BotProcess {
  url = '';
  incarnations = 0;
  private child: ChildProcess | undefined;
  private exited: Promise<BotExit> | undefined;
  private out: string[] = [];
  private upWaiters: (() => void)[] = [];

  constructor(private readonly env: Record<string, string>) {}

  get running(): boolean {
    return this.child !== undefined && this.url !== '';
  }

  /** Everything the bot wrote, all incarnations. */
  output(): string {
    return this.out.join('');
  }

  /** Resolves when the bot is up (at once if it is). */
  whenUp(): Promise<void> {
    if (this.running) return Promise.resolve();
    return new Promise((r) => this.upWaiters.push(r));
  }

  async start(timeoutMs = 30_000): Promise<void> {
    if (this.child) throw new Error('bot already running');
    this.incarnations += 1;
    this.out.push(`\n----- incarnation ${this.incarnations} -----\n`);
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.exited = new Promise((r) => child.on('exit', (code, signal) => r({ code, signal })));
    let pending = '';
    let port: number | undefined;
    const ready = new Promise<void>((resolveReady, rejectReady) => {
      const timer = setTimeout(() => rejectReady(new Error(`bot not ready within ${timeoutMs} ms:\n${this.output().slice(-3000)}`)), timeoutMs);
      child.stdout!.on('data', (d: Buffer) => {
        const s = d.toString();
        this.out.push(s);
        pending += s;
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) {
          if (port === undefined && line.includes('"msg":"access-bot ready"')) {
            port = Number(/"port":(\d+)/.exec(line)?.[1]);
            clearTimeout(timer);
            resolveReady();
          }
        }
      });
      child.stderr!.on('data', (d: Buffer) => this.out.push(d.toString()));
      void this.exited!.then((e) => {
        clearTimeout(timer);
        rejectReady(new Error(`bot exited before it was ready (${e.code ?? e.signal}):\n${this.output().slice(-3000)}`));
      });
    });
    try {
      await ready;
    } catch (err) {
      this.child = undefined;
      throw err;
    }
    this.url = `http://127.0.0.1:${port}`;
    for (const w of this.upWaiters.splice(0)) w();
    void this.exited.then(() => {
      if (this.child === child) {
        this.child = undefined;
        this.url = '';
      }
    });
  }

  /** Sends `signal` and resolves once the process exited. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<BotExit> {
    const child = this.child;
    const exited = this.exited;
    if (!child || !exited) return { code: null, signal: null };
    this.url = '';
    child.kill(signal);
    const e = await exited;
    this.child = undefined;
    return e;
  }
}

/** The environment `src/main.ts` needs to run against the three emulators. */
export function botEnv(o: { dir: string; slack: SlackEmulator; jira: JiraEmulator; okta: OktaEmulator; catalogPath: string; extra?: Record<string, string> }): Record<string, string> {
  return {
    PORT: '0',
    DATABASE_PATH: join(o.dir, 'bot.db'),
    ACCESS_CATALOG: o.catalogPath,
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: `${o.slack.url}/api/`,
    JIRA_HOST: o.jira.url,
    JIRA_EMAIL: 'access-bot@example.com',
    JIRA_API_TOKEN: JIRA_TOKEN,
    OKTA_ORG_URL: o.okta.url,
    OKTA_API_TOKEN: OKTA_TOKEN,
    ADMIN_CHANNEL: 'C0ADMIN',
    LOG_LEVEL: 'info',
    ...o.extra,
  };
}

export const SECRETS = [BOT_TOKEN, SIGNING_SECRET, OKTA_TOKEN, JIRA_TOKEN];

// ---------------------------------------------------------------------------------------------
// The world: emulators, people, catalog
// ---------------------------------------------------------------------------------------------

export const CHAOS_GROUPS = { short: '00gchaos0short', other: '00gchaos0other', staged: '00gchaos0staged', timed: '00gchaos0timed' } as const;

/** Durations of seconds so a flow expires and is revoked within the run. */
export const CHAOS_CATALOG = `
jira:
  project: ACC
  issueType: Task
  transitions:
    approved: Approve
    denied: Reject
    active: Provisioned
    revoked: Done
    timed_out: Time out
applications:
  - id: chaos-app
    name: Chaos app
    owners: [bob@example.com]
    roles:
      - id: short
        name: Short
        grant: { connector: okta, group: ${CHAOS_GROUPS.short} }
        durations: [2s, 3s]
        approvers: [bob@example.com, carol@example.com]
      - id: other
        name: Other
        grant: { connector: okta, group: ${CHAOS_GROUPS.other} }
        durations: [2s, 3s]
        approvers: [owners, carol@example.com]
      - id: staged
        name: Staged
        grant: { connector: okta, group: ${CHAOS_GROUPS.staged} }
        durations: [2s, 3s]
        approval:
          stages:
            - approvers: [bob@example.com]
            - approvers: [carol@example.com]
      - id: timed
        name: Timed
        grant: { connector: okta, group: ${CHAOS_GROUPS.timed} }
        durations: [2s]
        approval: { approvers: [bob@example.com, carol@example.com], timeout: 4s }
`;

export class ChaosWorld {
  readonly slack = new SlackEmulator({ botToken: BOT_TOKEN });
  readonly jira = new JiraEmulator({ apiToken: JIRA_TOKEN });
  readonly okta = new OktaEmulator({ token: OKTA_TOKEN });
  readonly dir = mkdtempSync(join(tmpdir(), 'access-bot-chaos-'));
  bot!: BotProcess;
  private db: Database.Database | undefined;
  private driverFor: { url: string; driver: SlackDriver } | undefined;

  async start(catalog = CHAOS_CATALOG, extraEnv: Record<string, string> = {}): Promise<this> {
    await Promise.all([this.slack.start(), this.jira.start(), this.okta.start()]);
    for (const p of [PEOPLE.alice, PEOPLE.bob, PEOPLE.carol, PEOPLE.dave]) this.addPerson(p);
    for (const [role, id] of Object.entries(CHAOS_GROUPS)) this.okta.addGroup({ id, name: `Chaos ${role}` });
    this.slack.addChannel({ id: 'C0ADMIN', name: 'access-admins', botIsMember: true });
    const catalogPath = join(this.dir, 'catalog.yaml');
    writeFileSync(catalogPath, catalog);
    this.bot = new BotProcess(botEnv({ dir: this.dir, slack: this.slack, jira: this.jira, okta: this.okta, catalogPath, extra: extraEnv }));
    return this;
  }

  addPerson(p: Person): void {
    this.slack.addUser({ id: p.slackId, email: p.email, realName: p.name });
    const [first, ...rest] = p.name.split(' ');
    this.okta.addUser({ id: p.oktaId, login: p.email, email: p.email, firstName: first ?? p.name, lastName: rest.join(' ') || 'Person' });
  }

  /** A signed driver aimed at the bot's current port. */
  driver(): SlackDriver {
    if (!this.bot.running) throw new Error('the bot is down');
    if (this.driverFor?.url !== this.bot.url) {
      this.driverFor = { url: this.bot.url, driver: new SlackDriver({ botUrl: this.bot.url, signingSecret: SIGNING_SECRET, emulator: this.slack }) };
    }
    return this.driverFor.driver;
  }

  /** A read-only view of the bot's database (WAL lets it read while the bot writes). */
  sql(): Database.Database {
    this.db ??= new Database(join(this.dir, 'bot.db'), { readonly: true, fileMustExist: true });
    return this.db;
  }

  requestState(id: string): string | undefined {
    return (this.sql().prepare('SELECT state FROM requests WHERE id = ?').pluck().get(id) as string | undefined) ?? undefined;
  }

  requestStage(id: string): number | undefined {
    return (this.sql().prepare('SELECT stage FROM requests WHERE id = ?').pluck().get(id) as number | undefined) ?? undefined;
  }

  requestBySubmission(viewId: string): string | undefined {
    return (this.sql().prepare('SELECT id FROM requests WHERE submission_key = ?').pluck().get(viewId) as string | undefined) ?? undefined;
  }

  openEffects(): { pending: number; running: number; dead: number } {
    const out = { pending: 0, running: 0, dead: 0 };
    for (const r of this.sql().prepare("SELECT status, COUNT(*) AS n FROM outbox WHERE status <> 'done' GROUP BY status").all() as { status: keyof typeof out; n: number }[]) out[r.status] = r.n;
    return out;
  }

  async stop(): Promise<void> {
    await this.bot?.kill('SIGKILL').catch(() => undefined);
    this.db?.close();
    this.db = undefined;
    await Promise.all([this.slack.stop(), this.jira.stop(), this.okta.stop()]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------------------------

export interface ChaosOptions {
  flows: number;
  /** How many times the bot is killed with SIGKILL (fewer if the flows finish first). */
  crashes: number;
  seed: number;
  /** Flows in flight at once. */
  concurrency?: number;
  /** Inject Jira/Okta/Slack faults during the run (default true). */
  faults?: boolean;
  /**
   * Also lose Jira responses (the write is done, the answer never comes): the bot's Jira client
   * then waits for its 15 s timeout, so this is for the long run.
   */
  lostResponses?: boolean;
  /** Gives up waiting for flows after this long (the report then shows what is stuck). */
  timeoutMs?: number;
  log?: (line: string) => void;
}

export type FaultKind = 'jira-503' | 'jira-429' | 'jira-reset' | 'jira-lost-response' | 'okta-429' | 'slack-429' | 'slack-503';
export type CrashMode = 'time' | 'after-okta-write' | 'after-jira-write' | 'after-slack-post';

export interface ChaosReport {
  seed: number;
  flows: number;
  outcomes: Record<string, number>;
  crashes: number;
  crashesByMode: Partial<Record<CrashMode, number>>;
  faultsArmed: Partial<Record<FaultKind, number>>;
  /** Faulty answers the emulators actually gave, by kind. */
  faultsServed: Partial<Record<FaultKind, number>>;
  // ---- must all be zero ----
  lostEffects: number;
  duplicateGrants: number;
  duplicateComments: number;
  outOfOrderComments: number;
  stuckRequests: number;
  failedRequests: number;
  membershipMismatches: number;
  effectsNotDone: number;
  auditChainBroken: number;
  secretsInOutput: number;
  // ---- informational ----
  /** PUTs of a membership that already existed (a grant re-run after a crash; Okta's PUT is idempotent). */
  resentOktaPuts: number;
  /** Slack messages posted twice (at-least-once: a crash between the post and recording it). */
  duplicateSlackPosts: number;
  /** Clicks sent again because the decision was not recorded (the bot was down, or died under the click). */
  reclicks: number;
  /** Of those, clicks Slack got a 200 for and the decision was still lost (the bot acks first, decides after). */
  clicksLostAfterAck: number;
  /** Modal submissions sent again after a crash (the same view: one request). */
  resubmits: number;
  shutdownExit: string;
  durationMs: number;
  /** One line per problem found, for the failure message. */
  problems: string[];
}

/** The counts that must be zero for the run to pass. */
export const MUST_BE_ZERO = [
  'lostEffects',
  'duplicateGrants',
  'duplicateComments',
  'outOfOrderComments',
  'stuckRequests',
  'failedRequests',
  'membershipMismatches',
  'effectsNotDone',
  'auditChainBroken',
  'secretsInOutput',
] as const satisfies readonly (keyof ChaosReport)[];

export function invariantsHold(r: ChaosReport): boolean {
  return MUST_BE_ZERO.every((k) => r[k] === 0) && r.shutdownExit === 'code 0';
}

interface FlowPlan {
  index: number;
  user: Person;
  role: keyof typeof CHAOS_GROUPS;
  duration: '2s' | '3s';
  /** `ignore`: nobody decides, the approval times out. Staged flows deny at their second stage. */
  decision: 'approve' | 'deny' | 'ignore';
  /**
   * Who clicks: one approver, both at once (one decision must win), one approver twice at once,
   * or, for the two-stage role, the approver of the current stage.
   */
  click: 'bob' | 'carol' | 'both' | 'double' | 'stages';
}

interface FlowState {
  plan: FlowPlan;
  viewId?: string;
  requestId?: string;
  finalState?: string;
  error?: string;
  /** Where the harness is with this flow, for the report when it gets stuck. */
  phase?: string;
  reclicks: number;
  lostAfterAck: number;
  resubmits: number;
}

const FINAL = new Set(['revoked', 'denied', 'failed', 'timed_out', 'cancelled']);

function flowUser(i: number): Person {
  const n = String(i + 1).padStart(4, '0');
  return { slackId: `U0FLOW${n}`, email: `flow${n}@chaos.example`, name: `Flow ${n}`, oktaId: `00uflow${n}` };
}

function planFlows(rng: Rng, n: number): FlowPlan[] {
  const plans: FlowPlan[] = [];
  for (let i = 0; i < n; i++) {
    const role = rng.pick(['short', 'short', 'short', 'other', 'other', 'other', 'staged', 'staged', 'timed'] as const);
    const deny = rng.chance(0.15);
    plans.push({
      index: i,
      user: flowUser(i),
      role,
      duration: role === 'timed' ? '2s' : rng.pick(['2s', '3s'] as const),
      decision: role === 'timed' ? 'ignore' : deny ? 'deny' : 'approve',
      click: role === 'staged' ? 'stages' : rng.pick(['bob', 'bob', 'carol', 'both', 'double'] as const),
    });
  }
  return plans;
}

class Deadline extends Error {}

export class ChaosRun {
  readonly report: ChaosReport;
  private readonly world = new ChaosWorld();
  private readonly flows: FlowState[];
  private readonly deadline: number;
  private readonly log: (line: string) => void;
  private finished = false;
  private crashesDone = false;
  private readonly crashRng: Rng;
  private readonly faultRng: Rng;
  private readonly started = Date.now();

  constructor(private readonly o: ChaosOptions) {
    const root = new Rng(o.seed);
    this.flows = planFlows(root.fork(1), o.flows).map((plan) => ({ plan, reclicks: 0, lostAfterAck: 0, resubmits: 0 }));
    this.crashRng = root.fork(2);
    this.faultRng = root.fork(3);
    this.deadline = Date.now() + (o.timeoutMs ?? 10 * 60_000);
    this.log = o.log ?? (() => undefined);
    this.report = {
      seed: o.seed,
      flows: o.flows,
      outcomes: {},
      crashes: 0,
      crashesByMode: {},
      faultsArmed: {},
      faultsServed: {},
      lostEffects: 0,
      duplicateGrants: 0,
      duplicateComments: 0,
      outOfOrderComments: 0,
      stuckRequests: 0,
      failedRequests: 0,
      membershipMismatches: 0,
      effectsNotDone: 0,
      auditChainBroken: 0,
      secretsInOutput: 0,
      resentOktaPuts: 0,
      duplicateSlackPosts: 0,
      reclicks: 0,
      clicksLostAfterAck: 0,
      resubmits: 0,
      shutdownExit: 'not stopped',
      durationMs: 0,
      problems: [],
    };
  }

  async run(): Promise<ChaosReport> {
    const w = this.world;
    try {
      await w.start();
      for (const f of this.flows) w.addPerson(f.plan.user);
      await w.bot.start();
      this.log(`chaos: seed=${this.o.seed} flows=${this.o.flows} crashes=${this.o.crashes} concurrency=${this.o.concurrency ?? 8} faults=${this.o.faults !== false}`);

      const flowsDone = this.runFlows().finally(() => (this.finished = true));
      const crashes = this.crashLoop().finally(() => (this.crashesDone = true));
      const faults = this.o.faults === false ? Promise.resolve() : this.faultLoop();
      await flowsDone;
      await crashes;
      await faults;

      // After the deadline the stuck flows are reported rather than waited on any longer.
      await this.quiesce(Date.now() > this.deadline ? 5_000 : 60_000);
      const exit = await w.bot.kill('SIGTERM');
      this.report.shutdownExit = exit.code !== null ? `code ${exit.code}` : `signal ${exit.signal}`;
      this.check();
    } finally {
      this.report.durationMs = Date.now() - this.started;
      await w.stop();
    }
    return this.report;
  }

  // ---- flows ----------------------------------------------------------------------------------

  private async runFlows(): Promise<void> {
    const limit = this.o.concurrency ?? 8;
    let next = 0;
    const crashes = Math.max(1, this.o.crashes);
    const worker = async () => {
      while (next < this.flows.length) {
        // Pace the flows to the crashes, so the crashes spread over the whole batch instead of
        // the batch finishing before the planned crashes happened.
        while (!this.crashesDone && this.report.crashes + 1 < (crashes * next) / this.flows.length) {
          this.checkDeadline();
          await sleep(100);
        }
        if (next >= this.flows.length) break;
        const f = this.flows[next++]!;
        try {
          await this.runFlow(f);
        } catch (err) {
          f.error = err instanceof Deadline ? 'gave up at the run deadline' : (err as Error).message;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(limit, this.flows.length) }, worker));
  }

  private checkDeadline(): void {
    if (Date.now() > this.deadline) throw new Deadline('deadline');
  }

  /** Waits for the bot to be up, but not past the run's deadline. */
  private async up(): Promise<void> {
    this.checkDeadline();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Deadline('deadline')), Math.max(0, this.deadline - Date.now()))));
    try {
      await Promise.race([this.world.bot.whenUp(), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async runFlow(f: FlowState): Promise<void> {
    f.phase = 'submitting';
    await this.submit(f);
    f.phase = 'deciding';
    await this.decide(f);
    f.phase = 'waiting for a final state';
    for (;;) {
      this.checkDeadline();
      const s = this.world.requestState(f.requestId!);
      if (s && FINAL.has(s)) {
        f.finalState = s;
        return;
      }
      await sleep(150);
    }
  }

  private async submit(f: FlowState): Promise<void> {
    const w = this.world;
    const u = f.plan.user;
    while (!f.requestId) {
      this.checkDeadline();
      await this.up();
      if (f.viewId) {
        const got = w.requestBySubmission(f.viewId);
        if (got) {
          f.requestId = got;
          return;
        }
        const view = w.slack.views.get(f.viewId);
        if (!view || view.closed) {
          f.viewId = undefined;
          continue;
        }
        try {
          const res = await w.driver().submitView(u.slackId, f.viewId, {
            application: { application: 'chaos-app' },
            role: { role: f.plan.role },
            duration: { duration: f.plan.duration },
            reason: { reason: `Chaos flow ${f.plan.index + 1}: checking crash safety` },
          });
          if (res.status !== 200) throw new Error(`submission answered ${res.status}`);
          const id = w.requestBySubmission(f.viewId);
          if (!id) throw new Error(`submission answered 200 but recorded nothing: ${JSON.stringify(res.body)}`);
          f.requestId = id;
          return;
        } catch (err) {
          // The bot died with the submission in flight: Slack's client would send it again.
          if (!isConnectionError(err)) throw err;
          f.resubmits += 1;
          await sleep(200);
          continue;
        }
      }
      const before = new Set(w.slack.views.keys());
      try {
        await w.driver().command(u.slackId);
        const view = await w.slack.waitForView((v) => v.userId === u.slackId && !before.has(v.id) && v.view.callback_id === 'access_request', 4000);
        f.viewId = view.id;
      } catch {
        // Killed before it opened the modal (or the trigger expired under load): type /access again.
        await sleep(200);
      }
    }
  }

  /** The latest version of the approver's card for the request, if it still has buttons. */
  private card(approver: Person, requestId: string): StoredMessage | undefined {
    const cards = this.world.slack.dmsTo(approver.slackId).filter((m) => JSON.stringify(m.blocks).includes(`request:${requestId}`));
    return cards.reverse().find((m) => JSON.stringify(m.blocks).includes('"action_id":"approve"'));
  }

  private async decide(f: FlowState): Promise<void> {
    if (f.plan.decision === 'ignore') return; // the approval times out on its own
    const w = this.world;
    const id = f.requestId!;
    const { bob, carol } = PEOPLE;
    const progress = () => `${w.requestState(id)}:${w.requestStage(id)}`;
    let attempts = 0;
    for (;;) {
      this.checkDeadline();
      await this.up();
      if (w.requestState(id) !== 'pending') return;
      const stage = w.requestStage(id) ?? 0;
      const p = f.plan;
      const clickers = p.click === 'stages' ? [stage === 0 ? bob : carol] : p.click === 'carol' ? [carol] : p.click === 'both' ? [bob, carol] : p.click === 'double' ? [bob, bob] : [bob];
      const deny = p.decision === 'deny' && (p.click !== 'stages' || stage === 1);
      const cards = clickers.map((c) => this.card(c, id));
      if (cards.some((c) => !c)) {
        await sleep(100);
        continue;
      }
      if (attempts++ > 0) f.reclicks += 1;
      const before = progress();
      let acked = false;
      try {
        if (!deny) {
          const res = await Promise.all(clickers.map((c, i) => w.driver().clickButton(c.slackId, cards[i]!, 'approve')));
          acked = res.every((r) => r.status === 200);
        } else {
          const denier = clickers[0]!;
          const seen = new Set(w.slack.views.keys());
          await w.driver().clickButton(denier.slackId, cards[0]!, 'deny');
          const modal = await w.slack.waitForView((v) => v.userId === denier.slackId && !seen.has(v.id) && v.view.callback_id === 'deny_reason', 3000);
          acked = (await w.driver().submitView(denier.slackId, modal.id, { reason: { reason: `Chaos flow ${p.index + 1} is denied` } })).status === 200;
        }
      } catch {
        // The bot died under the click, or the deny modal never opened: look again, click again.
      }
      // The decision is taken after the ack: give it a moment before concluding the click was lost.
      const until = Date.now() + 4000;
      while (Date.now() < until && w.bot.running && progress() === before) await sleep(100);
      if (progress() === before) {
        if (acked) f.lostAfterAck += 1;
      } else attempts = 0;
    }
  }

  // ---- crashes and faults -----------------------------------------------------------------------

  private async crashLoop(): Promise<void> {
    const w = this.world;
    const rng = this.crashRng;
    const modes: CrashMode[] = ['time', 'time', 'after-okta-write', 'after-jira-write', 'after-slack-post'];
    while (this.report.crashes < this.o.crashes && !this.finished) {
      await sleep(rng.int(800, 3000));
      if (this.finished) break;
      const mode = rng.pick(modes);
      if (mode !== 'time') await this.nextCall(mode, 4000);
      if (this.finished) break;
      await w.bot.kill('SIGKILL');
      this.report.crashes += 1;
      this.report.crashesByMode[mode] = (this.report.crashesByMode[mode] ?? 0) + 1;
      this.log(`chaos: crash ${this.report.crashes} (${mode}) at ${((Date.now() - this.started) / 1000).toFixed(1)} s; ${this.flows.filter((f) => f.finalState).length}/${this.flows.length} flows done`);
      await sleep(rng.int(0, 700));
      // A restart that fails is a finding in itself: try twice more, then end the run with it.
      for (let attempt = 1; ; attempt++) {
        try {
          await w.bot.start();
          break;
        } catch (err) {
          this.log(`chaos: restart ${attempt} after crash ${this.report.crashes} failed: ${(err as Error).message.split('\n')[0]}`);
          if (attempt >= 3) throw err;
        }
      }
    }
  }

  /** Resolves right after the emulators saw the kind of call `mode` waits for (or after `timeoutMs`). */
  private nextCall(mode: Exclude<CrashMode, 'time'>, timeoutMs: number): Promise<void> {
    const since = Date.now();
    const w = this.world;
    const fresh = (c: RecordedCall) => c.at >= since && c.status >= 200 && c.status < 300;
    const wait =
      mode === 'after-okta-write'
        ? w.okta.waitFor((c) => fresh(c) && (c.method === 'PUT' || c.method === 'DELETE') && /^\/api\/v1\/groups\/[^/]+\/users\//.test(c.path), timeoutMs)
        : mode === 'after-jira-write'
          ? w.jira.server.waitFor((c) => fresh(c) && (c.method === 'POST' || c.method === 'PUT') && !c.path.endsWith('/search/jql'), timeoutMs)
          : w.slack.waitFor((c) => fresh(c) && (c.path === '/api/chat.postMessage' || c.path === '/api/chat.update'), timeoutMs);
    return wait.then(
      () => undefined,
      () => undefined,
    );
  }

  private arm(kind: FaultKind, times: number): void {
    const w = this.world;
    switch (kind) {
      case 'jira-503':
        w.jira.inject({ times, status: 503, headers: { 'content-type': 'text/html; charset=UTF-8' }, body: '<html><body><h1>Service Unavailable</h1></body></html>' });
        break;
      case 'jira-429':
        w.jira.rateLimit(times, 1);
        break;
      case 'jira-reset':
        w.jira.inject({ times, drop: true });
        break;
      case 'jira-lost-response':
        w.jira.swallowResponse({ method: 'POST', path: /\/rest\/api\/3\/issue(\/[^/]+\/comment)?$/, times });
        break;
      case 'okta-429':
        w.okta.forceRateLimit(times, { resetAt: Math.ceil(Date.now() / 1000) + 1 });
        break;
      case 'slack-429':
        w.slack.rateLimit(this.faultRng.pick(['chat.postMessage', 'chat.update']), times, 1);
        break;
      case 'slack-503':
        w.slack.inject({ path: `/api/${this.faultRng.pick(['chat.postMessage', 'chat.update', 'users.lookupByEmail'])}`, times, status: 503, body: 'upstream unavailable' });
        break;
    }
    this.report.faultsArmed[kind] = (this.report.faultsArmed[kind] ?? 0) + times;
  }

  private async faultLoop(): Promise<void> {
    const rng = this.faultRng;
    const kinds: FaultKind[] = ['jira-503', 'jira-503', 'jira-429', 'jira-reset', 'okta-429', 'okta-429', 'slack-429', 'slack-503'];
    const w = this.world;
    const calls = { jira: w.jira.calls, okta: w.okta.calls, slack: w.slack.calls };
    // Faults follow the traffic: a service gets its next fault only after it answered a few
    // calls normally since the last one was armed. Armed on a clock alone, faults outran the
    // retries once few flows were left (only retries, seconds apart, reached the services): every
    // retry met a fresh fault, an endless outage no run can finish under (seed 908923230 armed
    // 283 faults; one revocation met 24 rate limits in a row).
    const GOOD_CALLS_BETWEEN = 5;
    const armedAt: Record<keyof typeof calls, number> = { jira: 0, okta: 0, slack: 0 };
    const goodSince = (svc: keyof typeof calls) => calls[svc].slice(armedAt[svc]).filter((c) => c.status >= 200 && c.status < 300).length;
    let lost = 0;
    while (!this.finished) {
      await sleep(rng.int(300, 1500));
      if (this.finished) break;
      if (this.o.lostResponses && lost < 3 && rng.chance(0.05)) {
        lost += 1;
        this.arm('jira-lost-response', 1);
        continue;
      }
      const kind = rng.pick(kinds);
      const svc = kind.split('-')[0] as keyof typeof calls;
      if (armedAt[svc] > 0 && goodSince(svc) < GOOD_CALLS_BETWEEN) continue;
      armedAt[svc] = calls[svc].length;
      this.arm(kind, kind.startsWith('jira-5') ? rng.int(2, 8) : rng.int(1, 3));
    }
    this.world.jira.clearFaults();
    this.world.slack.clearFaults();
  }

  /** Waits until no effect is pending or running (twice in a row, a moment apart). */
  private async quiesce(maxMs: number): Promise<void> {
    const w = this.world;
    await Promise.race([w.bot.whenUp(), sleep(maxMs)]);
    // The retry backoff is capped at 20 s: a minute is enough for any backlog to drain.
    const until = Date.now() + maxMs;
    let quiet = 0;
    while (Date.now() < until) {
      const c = w.openEffects();
      quiet = c.pending === 0 && c.running === 0 ? quiet + 1 : 0;
      if (quiet >= 3) return;
      await sleep(250);
    }
  }

  // ---- the invariants ---------------------------------------------------------------------------

  private check(): void {
    const w = this.world;
    const r = this.report;
    const problem = (count: keyof ChaosReport, line: string) => {
      (r[count] as number) += 1;
      if (r.problems.length < 200) r.problems.push(`${String(count)}: ${line}`);
    };
    const db = w.sql();
    const outboxRow = db.prepare('SELECT id, kind, status, payload, request_id FROM outbox WHERE id = ?');
    const audit = db.prepare('SELECT seq, type, data FROM audit_events WHERE request_id = ? ORDER BY seq');
    const approvers = db.prepare('SELECT slack_id, dm_channel, dm_ts FROM approvers WHERE request_id = ?');
    const request = db.prepare('SELECT * FROM requests WHERE id = ?');
    const openFor = db.prepare("SELECT id, queue, kind, status, attempts, available_at, lease_until, last_error FROM outbox WHERE request_id = ? AND status <> 'done' ORDER BY id");

    // Okta: replay the membership writes that reached the org, per (group, user).
    const writes = new Map<string, { adds: number; puts: number; member: boolean }>();
    for (const c of w.okta.calls) {
      const m = /^\/api\/v1\/groups\/([^/]+)\/users\/([^/]+)$/.exec(c.path);
      if (!m || c.status !== 204 || (c.method !== 'PUT' && c.method !== 'DELETE')) continue;
      const key = `${m[1]}/${m[2]}`;
      const s = writes.get(key) ?? { adds: 0, puts: 0, member: false };
      if (c.method === 'PUT') {
        s.puts += 1;
        if (!s.member) s.adds += 1;
        s.member = true;
      } else s.member = false;
      writes.set(key, s);
    }

    for (const f of this.flows) {
      const p = f.plan;
      r.reclicks += f.reclicks;
      r.clicksLostAfterAck += f.lostAfterAck;
      r.resubmits += f.resubmits;
      const tag = `flow ${p.index + 1} (${f.requestId ?? 'no request'})`;
      if (!f.requestId) {
        problem('stuckRequests', `${tag}: never got a request recorded${f.error ? `: ${f.error}` : ''}`);
        continue;
      }
      const req = request.get(f.requestId) as Record<string, unknown>;
      const state = String(req.state);
      r.outcomes[state] = (r.outcomes[state] ?? 0) + 1;
      if (!FINAL.has(state)) {
        const open = (openFor.all(f.requestId) as { id: number; queue: string; kind: string; status: string; attempts: number; available_at: number; lease_until: number | null; last_error: string | null }[])
          .map((e) => `#${e.id} ${e.kind} [${e.queue}] ${e.status} attempts=${e.attempts} due ${((e.available_at - Date.now()) / 1000).toFixed(1)} s${e.lease_until ? ` lease ${((e.lease_until - Date.now()) / 1000).toFixed(1)} s` : ''}${e.last_error ? ` last error: ${e.last_error.slice(0, 160)}` : ''}`)
          .join('; ');
        problem('stuckRequests', `${tag}: still ${state} (phase ${f.phase ?? '?'}, stage ${String(req.stage ?? '-')}, expires ${String(req.expires_at ?? '-')}, next timer ${String(req.next_timer_at ?? '-')})${f.error ? ` (${f.error})` : ''}; open effects: ${open || 'none'}`);
      }
      if (state === 'failed') problem('failedRequests', `${tag}: failed: ${String(req.failure)}`);
      const expectedFinal = p.decision === 'deny' ? 'denied' : p.decision === 'ignore' ? 'timed_out' : 'revoked';
      if (FINAL.has(state) && state !== expectedFinal && state !== 'failed') problem('lostEffects', `${tag}: ended ${state}, planned ${expectedFinal}`);

      // Grants: one `granted` step, one real addition in Okta.
      const events = (audit.all(f.requestId) as { seq: number; type: string; data: string }[]).map((e) => ({ seq: e.seq, step: JSON.parse(e.data) as Step }));
      const granted = events.filter((e) => e.step.type === 'granted').length;
      const group = CHAOS_GROUPS[p.role];
      const okta = writes.get(`${group}/${p.user.oktaId}`) ?? { adds: 0, puts: 0, member: false };
      r.resentOktaPuts += Math.max(0, okta.puts - okta.adds);
      if (granted > 1) problem('duplicateGrants', `${tag}: ${granted} granted steps`);
      if (okta.adds > 1) problem('duplicateGrants', `${tag}: the membership was added ${okta.adds} times in Okta`);
      if (state === 'revoked' && (granted === 0 || okta.adds === 0)) problem('lostEffects', `${tag}: revoked but granted ${granted} times in the audit, ${okta.adds} in Okta`);
      if (p.decision !== 'approve' && okta.puts > 0) problem('duplicateGrants', `${tag}: ${state}, yet Okta saw ${okta.puts} PUTs`);

      // Membership: Okta and the database agree (nothing left once every flow ended).
      const holds = ['approved', 'active', 'revoking'].includes(state);
      const inOkta = w.okta.isMember(group, p.user.oktaId);
      const owned = db.prepare('SELECT COUNT(*) FROM memberships WHERE group_id = ? AND idp_user_id = ?').pluck().get(group, p.user.oktaId) as number;
      if (inOkta !== holds) problem('membershipMismatches', `${tag}: Okta member=${inOkta}, request ${state}`);
      if (owned > 0 && !holds) problem('membershipMismatches', `${tag}: an ownership record outlived the grant`);

      // Jira: one issue, each step's comment once, in order, the right final status.
      const issues = w.jira.issuesWithLabel(`access-bot-${f.requestId}`);
      if (issues.length === 0) {
        problem('lostEffects', `${tag}: no Jira issue`);
        continue;
      }
      if (issues.length > 1) problem('duplicateComments', `${tag}: ${issues.length} Jira issues`);
      const issue = issues[0]!;
      const expected = events.filter((e) => isRecordedInJira(e.step)).map((e) => e.seq);
      const seen: number[] = [];
      for (const c of issue.comments) {
        const mark = c.properties.get('access-bot') as { effectId?: unknown } | undefined;
        const effectId = Number(/^effect-(\d+)$/.exec(String(mark?.effectId ?? ''))?.[1]);
        const row = Number.isFinite(effectId) ? (outboxRow.get(effectId) as { payload: string; request_id: string } | undefined) : undefined;
        const seq = row ? (JSON.parse(row.payload) as { auditSeq?: number }).auditSeq : undefined;
        if (seq === undefined || row?.request_id !== f.requestId) {
          problem('duplicateComments', `${tag}: comment ${c.id} on ${issue.key} matches no step of the request`);
          continue;
        }
        seen.push(seq);
      }
      for (const seq of expected) {
        const n = seen.filter((s) => s === seq).length;
        if (n === 0) problem('lostEffects', `${tag}: the comment for step ${seq} is missing on ${issue.key}`);
        if (n > 1) problem('duplicateComments', `${tag}: the comment for step ${seq} is on ${issue.key} ${n} times`);
      }
      for (const seq of seen) if (!expected.includes(seq)) problem('duplicateComments', `${tag}: comment for unexpected step ${seq}`);
      const distinct = seen.filter((s, i) => seen.indexOf(s) === i);
      if (distinct.some((s, i) => i > 0 && s < distinct[i - 1]!)) problem('outOfOrderComments', `${tag}: comments out of step order on ${issue.key}: ${distinct.join(', ')}`);
      const wantStatus = state === 'revoked' ? 'Done' : state === 'denied' ? 'Rejected' : state === 'timed_out' ? 'Cancelled' : undefined;
      if (wantStatus && issue.status !== wantStatus) problem('lostEffects', `${tag}: ${issue.key} is "${issue.status}", expected "${wantStatus}" (transitions: ${issue.history.join(' → ')})`);

      // Slack: the requester was told each step; each approver's recorded card lost its buttons.
      const told = w.slack.dmsTo(p.user.slackId).map((m) => m.text);
      const wanted =
        state === 'revoked'
          ? [/was submitted/, /was approved by/, /Access granted/, /expired and was removed/]
          : state === 'denied'
            ? [/was submitted/, /was denied by/]
            : state === 'timed_out'
              ? [/was submitted/, /timed out/]
              : [];
      for (const re of wanted) {
        const n = told.filter((t) => re.test(t)).length;
        if (n === 0) problem('lostEffects', `${tag}: the requester was never told /${re.source}/`);
        if (n > 1) r.duplicateSlackPosts += n - 1;
      }
      const recorded = approvers.all(f.requestId) as { slack_id: string; dm_channel: string | null; dm_ts: string | null }[];
      for (const a of recorded) {
        if (!a.dm_channel || !a.dm_ts) {
          problem('lostEffects', `${tag}: approver ${a.slack_id} has no card recorded`);
          continue;
        }
        const msg = w.slack.findMessage(a.dm_channel, a.dm_ts);
        if (!msg) problem('lostEffects', `${tag}: approver ${a.slack_id}'s recorded card ${a.dm_ts} does not exist`);
        else if (JSON.stringify(msg.blocks).includes('"action_id":"approve"')) problem('lostEffects', `${tag}: approver ${a.slack_id}'s card still has its buttons`);
        const orphans = w.slack.dmsTo(a.slack_id).filter((m) => m.ts !== a.dm_ts && JSON.stringify(m.blocks).includes(`request:${f.requestId}`));
        r.duplicateSlackPosts += orphans.length;
      }
    }

    // Memberships nobody holds any more.
    const groups = Object.values(CHAOS_GROUPS);
    const leftover = db.prepare(`SELECT m.group_id, m.idp_user_id FROM memberships m WHERE m.group_id IN (${groups.map(() => '?').join(', ')})`).all(...groups) as { group_id: string; idp_user_id: string }[];
    for (const m of leftover) if (!this.flows.some((f) => f.plan.user.oktaId === m.idp_user_id && f.requestId && ['approved', 'active', 'revoking'].includes(w.requestState(f.requestId) ?? ''))) problem('membershipMismatches', `ownership record ${m.group_id}/${m.idp_user_id} left behind`);
    for (const g of Object.values(CHAOS_GROUPS)) for (const m of w.okta.members(g)) problem('membershipMismatches', `${m} is still in Okta group ${g}`);

    // The outbox: nothing pending, running or dead.
    for (const e of db.prepare("SELECT id, kind, status, attempts, last_error FROM outbox WHERE status <> 'done' ORDER BY id").all() as { id: number; kind: string; status: string; attempts: number; last_error: string | null }[]) {
      problem('effectsNotDone', `effect ${e.id} ${e.kind} is ${e.status} after ${e.attempts} attempts: ${e.last_error ?? ''}`);
    }

    // The audit chain, recomputed.
    const rw = new Database(join(w.dir, 'bot.db'));
    try {
      const broken = new SqliteStore(rw, new Outbox(new SqliteOutboxRepository(rw, QUEUE_POLICY), Date.now)).verifyAuditChain();
      if (broken !== undefined) problem('auditChainBroken', `the audit chain breaks at seq ${broken}`);
    } finally {
      rw.close();
    }

    const out = w.bot.output();
    for (const s of SECRETS) if (out.includes(s)) problem('secretsInOutput', `a configured secret (${s.slice(0, 6)}…) is in the bot's output`);

    // What the emulators actually answered with a fault.
    const served = r.faultsServed;
    const count = (k: FaultKind, n: number) => n > 0 && (served[k] = n);
    count('jira-503', w.jira.calls.filter((c) => c.status === 503).length);
    count('jira-429', w.jira.calls.filter((c) => c.status === 429).length);
    count('jira-reset', w.jira.calls.filter((c) => c.response === 'drop').length);
    count('okta-429', w.okta.calls.filter((c) => c.status === 429).length);
    count('slack-429', w.slack.calls.filter((c) => c.status === 429).length);
    count('slack-503', w.slack.calls.filter((c) => c.status === 503).length);
    if (r.faultsArmed['jira-lost-response']) served['jira-lost-response'] = r.faultsArmed['jira-lost-response'];
  }
}

export function isConnectionError(err: unknown): boolean {
  const e = err as { message?: string; cause?: { code?: string } } | undefined;
  return (
    e?.message === 'fetch failed' ||
    ['ECONNREFUSED', 'ECONNRESET', 'UND_ERR_SOCKET', 'EPIPE', 'UND_ERR_CLOSED'].includes(String(e?.cause?.code)) ||
    /bot is down/.test(String(e?.message))
  );
}

export async function runChaos(o: ChaosOptions): Promise<ChaosReport> {
  return new ChaosRun(o).run();
}

/** The figures, one per line, as `npm run chaos` prints them. */
export function formatReport(r: ChaosReport): string {
  const kinds = (m: Partial<Record<string, number>>) =>
    Object.entries(m)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ') || 'none';
  const total = (m: Partial<Record<string, number>>) => Object.values(m).reduce((a: number, b) => a + (b ?? 0), 0);
  const lines = [
    `seed                    ${r.seed}`,
    `flows run               ${r.flows} (${kinds(r.outcomes)})`,
    `crashes (kill -9)       ${r.crashes} (${kinds(r.crashesByMode)})`,
    `faults armed            ${total(r.faultsArmed)} (${kinds(r.faultsArmed)})`,
    `faulty answers served   ${total(r.faultsServed)} (${kinds(r.faultsServed)})`,
    `lost effects            ${r.lostEffects}`,
    `duplicate grants        ${r.duplicateGrants}`,
    `duplicate comments      ${r.duplicateComments}`,
    `comments out of order   ${r.outOfOrderComments}`,
    `stuck requests          ${r.stuckRequests}`,
    `failed requests         ${r.failedRequests}`,
    `membership mismatches   ${r.membershipMismatches}`,
    `effects not done        ${r.effectsNotDone}`,
    `audit chain broken      ${r.auditChainBroken}`,
    `secrets in output       ${r.secretsInOutput}`,
    `shutdown (SIGTERM)      ${r.shutdownExit}`,
    `-- informational --`,
    `re-sent Okta PUTs       ${r.resentOktaPuts} (idempotent: a grant re-run after a crash)`,
    `duplicate Slack posts   ${r.duplicateSlackPosts} (at-least-once: posted, then killed before recording it)`,
    `clicks repeated         ${r.reclicks} (the decision was not recorded: the bot was down or died under the click)`,
    `  lost after a 200      ${r.clicksLostAfterAck} (Slack got its ack, then the bot died before deciding)`,
    `modals re-submitted     ${r.resubmits}`,
    `duration                ${(r.durationMs / 1000).toFixed(1)} s`,
  ];
  if (r.problems.length > 0) lines.push('-- problems --', ...r.problems);
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Hand-built Slack payloads: exact bytes to replay, tamper with or fuzz (shapes as SlackDriver
// builds them, https://docs.slack.dev/reference/interaction-payloads)
// ---------------------------------------------------------------------------------------------

type Json = Record<string, unknown>;

/** `payload=<json>`, the form body Slack posts interactivity in. */
export function formBody(payload: unknown): string {
  return new URLSearchParams({ payload: typeof payload === 'string' ? payload : JSON.stringify(payload) }).toString();
}

export function userRef(emu: SlackEmulator, userId: string): Json {
  const name = emu.userName(userId);
  return { id: userId, username: name, name, team_id: emu.teamId };
}

/**
 * A `block_actions` click on a button. With `message`, the click comes from that message (its
 * channel, ts and blocks); `value` overrides the button's value (a forged request id).
 */
export function buttonClick(
  emu: SlackEmulator,
  o: { userId: string; actionId: string; value?: unknown; message?: { channel: string; ts: string; text: string; blocks: unknown[] }; responseUrl?: string },
): Json {
  const m = o.message;
  let element: Json | undefined;
  let blockId = o.actionId;
  for (const b of (m?.blocks ?? []) as Json[]) {
    for (const e of Array.isArray(b.elements) ? (b.elements as Json[]) : []) {
      if (e.action_id === o.actionId) {
        element = e;
        blockId = String(b.block_id);
      }
    }
  }
  const channel = m?.channel ?? emu.imChannelFor(o.userId);
  return {
    type: 'block_actions',
    user: userRef(emu, o.userId),
    api_app_id: emu.appId,
    token: 'emulated-verification-token',
    container: m ? { type: 'message', message_ts: m.ts, channel_id: m.channel, is_ephemeral: false } : { type: 'message', channel_id: channel },
    trigger_id: emu.issueTriggerId(o.userId),
    team: { id: emu.teamId, domain: emu.teamDomain },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: channel, name: 'directmessage' },
    ...(m ? { message: { type: 'message', text: m.text, ts: m.ts, blocks: m.blocks } } : {}),
    state: { values: {} },
    response_url: o.responseUrl ?? emu.issueResponseUrl({ channel, user: o.userId, messageTs: m?.ts }),
    actions: [
      {
        action_id: o.actionId,
        block_id: blockId,
        text: element?.text ?? { type: 'plain_text', text: o.actionId, emoji: true },
        value: o.value !== undefined ? o.value : element?.value,
        type: 'button',
        action_ts: `${(Date.now() / 1000).toFixed(6)}`,
      },
    ],
  };
}

const option = (value: string) => ({ text: { type: 'plain_text', text: value, emoji: true }, value });

/** The state of a request modal as Slack submits it. */
export function requestState(o: { app: unknown; role: unknown; duration: unknown; reason: unknown }): Json {
  const sel = (v: unknown) => (typeof v === 'string' ? option(v) : v);
  return {
    application: { application: { type: 'static_select', selected_option: sel(o.app) } },
    role: { role: { type: 'external_select', selected_option: sel(o.role) } },
    duration: { duration: { type: 'external_select', selected_option: sel(o.duration) } },
    reason: { reason: { type: 'plain_text_input', value: o.reason } },
  };
}

/** A `view_submission` of `view` (an object as Slack shows it) with `values` as its state. */
export function viewSubmission(emu: SlackEmulator, userId: string, view: Json, values: Json): Json {
  return {
    type: 'view_submission',
    team: { id: emu.teamId, domain: emu.teamDomain },
    user: userRef(emu, userId),
    api_app_id: emu.appId,
    token: 'emulated-verification-token',
    trigger_id: emu.issueTriggerId(userId),
    view: { ...view, state: { values } },
    response_urls: [],
    enterprise: null,
    is_enterprise_install: false,
  };
}

/** A deny-reason modal as the bot opens it, for forging submissions of one never opened. */
export function denyView(requestId: unknown, viewId = `V0FORGED${Math.floor(Math.random() * 1e6)}`): Json {
  return { id: viewId, type: 'modal', callback_id: 'deny_reason', private_metadata: requestId, blocks: [], root_view_id: viewId, app_id: 'A0EMULATED' };
}
