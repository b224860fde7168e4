/**
 * The world a crash run (or a hostile/fuzz test) plays in: the real bot as a child process
 * (`node --import tsx src/main.ts`, killed and restarted at will on the same database) against
 * the Slack, Jira and Okta emulators living in this process, with the people and the catalog of
 * the runs, and a read-only view of the bot's database.
 */
import Database from 'better-sqlite3';
import { PgDb } from '../../../src/adapters/postgres/db.js';
import { postgresReader, sqliteReader, type SqlReader } from '../../../src/storage.js';
import { defaultStore, storeEnv, type StoreKind } from '../harness.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stopAll } from '../../emulators/base.js';
import { JiraEmulator } from '../../emulators/jira.js';
import { OktaEmulator } from '../../emulators/okta.js';
import { SlackEmulator } from '../../emulators/slack.js';
import { addPerson, catalogYaml, emulatorEnv, PEOPLE, secretValues, seedWorld, TEST_CREDENTIALS, type CatalogSpec, type Person } from '../fixtures.js';
import { INTAKE, JsmDesk } from '../jsm.js';
import { SlackDriver } from '../slackDriver.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

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

  constructor(
    private readonly env: Record<string, string>,
    /** Called each time an incarnation is up, with its URL (the Jira webhook is pointed at it). */
    private readonly onUp: (url: string) => void = () => undefined,
  ) {}

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
    this.onUp(this.url);
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
export function botEnv(o: { dir: string; slack: SlackEmulator; jira: JiraEmulator; okta: OktaEmulator; catalogPath: string; database?: Record<string, string>; extra?: Record<string, string> }): Record<string, string> {
  return {
    PORT: '0',
    ...(o.database ?? { DATABASE_PATH: join(o.dir, 'bot.db') }),
    ACCESS_CATALOG: o.catalogPath,
    ...emulatorEnv(TEST_CREDENTIALS, o),
    LOG_LEVEL: 'info',
    // The holder checks (reclaim, account status) would call Okta at quarter-hours, outside the run's faults and invariants.
    RECLAIM_SCHEDULE: 'off',
    OFFBOARDING_SCHEDULE: 'off',
    ...o.extra,
  };
}

export const SECRETS = secretValues(TEST_CREDENTIALS);

export const CHAOS_GROUPS = { short: '00gchaos0short', other: '00gchaos0other', staged: '00gchaos0staged', timed: '00gchaos0timed' } as const;

/** Durations of seconds so a flow expires and is revoked within the run. */
const CHAOS_SPEC: CatalogSpec = {
  jira: { transitions: { timed_out: 'Time out' } },
  applications: [
    {
      id: 'chaos-app',
      name: 'Chaos app',
      owners: ['bob@example.com'],
      roles: [
        { id: 'short', name: 'Short', group: CHAOS_GROUPS.short, durations: ['2s', '3s'], approvers: ['bob@example.com', 'carol@example.com'] },
        { id: 'other', name: 'Other', group: CHAOS_GROUPS.other, durations: ['2s', '3s'], approvers: ['owners', 'carol@example.com'] },
        {
          id: 'staged',
          name: 'Staged',
          group: CHAOS_GROUPS.staged,
          durations: ['2s', '3s'],
          approval: { stages: [{ approvers: ['bob@example.com'] }, { approvers: ['carol@example.com'] }] },
        },
        { id: 'timed', name: 'Timed', group: CHAOS_GROUPS.timed, durations: ['2s'], approval: { approvers: ['bob@example.com', 'carol@example.com'], timeout: '4s' } },
      ],
    },
  ],
};
export const CHAOS_CATALOG = catalogYaml(CHAOS_SPEC);

/** The same, taking requests raised in Jira too (a JSM desk, `jira.intake`). */
export const CHAOS_INTAKE_CATALOG = catalogYaml({ ...CHAOS_SPEC, jira: { ...CHAOS_SPEC.jira, intake: INTAKE } });
export const CHAOS_WEBHOOK_SECRET = 'chaos-jira-webhook-secret-91c4';

export class ChaosWorld {
  readonly slack = new SlackEmulator({ botToken: TEST_CREDENTIALS.botToken });
  readonly jira = new JiraEmulator({ apiToken: TEST_CREDENTIALS.jiraToken });
  readonly okta = new OktaEmulator({ token: TEST_CREDENTIALS.oktaToken });
  readonly dir = mkdtempSync(join(tmpdir(), 'access-bot-chaos-'));
  /** The JSM desk, once `withJiraIntake` set it up. */
  desk: JsmDesk | undefined;
  /** The bot processes: one, or (`replicas`, on Postgres) several sharing the database. */
  bots: BotProcess[] = [];
  /** The store the bot runs on (`STORE=postgres`, or replicas: a Postgres database of its own). */
  readonly store: StoreKind;
  readonly replicas: number;
  private nextDriver = 0;
  /** The bot's database selection (DATABASE_PATH or DATABASE_URL), for more processes on it. */
  database: Record<string, string> = {};
  private dropDatabase: () => void = () => undefined;
  private reader: { sql: SqlReader; close(): void } | undefined;

  constructor(opts: { store?: StoreKind; replicas?: number } = {}) {
    this.replicas = opts.replicas ?? 1;
    // Replicas share one database: only Postgres allows it.
    this.store = this.replicas > 1 ? 'postgres' : (opts.store ?? defaultStore());
  }

  /** The first (or only) bot. */
  get bot(): BotProcess {
    return this.bots[0]!;
  }

  /** Whether any replica is up. */
  anyUp(): boolean {
    return this.bots.some((b) => b.running);
  }

  /** Resolves when a replica is up (at once if one is). */
  whenAnyUp(): Promise<void> {
    return Promise.race(this.bots.map((b) => b.whenUp()));
  }
  private readonly drivers = new Map<string, SlackDriver>();

  async start(catalog = CHAOS_CATALOG, extraEnv: Record<string, string> = {}): Promise<this> {
    await Promise.all([this.slack.start(), this.jira.start(), this.okta.start()]);
    seedWorld(this, {
      people: [PEOPLE.alice, PEOPLE.bob, PEOPLE.carol, PEOPLE.dave],
      groups: Object.entries(CHAOS_GROUPS).map(([role, id]) => ({ id, name: `Chaos ${role}` })),
    });
    const catalogPath = join(this.dir, 'catalog.yaml');
    writeFileSync(catalogPath, catalog);
    const webhook = extraEnv.JIRA_WEBHOOK_SECRET;
    const database = storeEnv(this.store, this.dir);
    this.database = database.env;
    this.dropDatabase = database.drop;
    const env = botEnv({ dir: this.dir, slack: this.slack, jira: this.jira, okta: this.okta, catalogPath, database: database.env, extra: extraEnv });
    const onStart = (url: string) => {
      if (webhook) this.jira.webhooks.register({ url: `${url}/webhooks/jira`, secret: webhook });
    };
    this.bots = Array.from({ length: this.replicas }, () => new BotProcess(env, onStart));
    return this;
  }

  /**
   * Requests raised in Jira (start with CHAOS_INTAKE_CATALOG): the project becomes a JSM desk whose
   * fields offer the chaos catalog's application, roles and durations, and the site's webhook
   * (pointed at each incarnation of the bot when JIRA_WEBHOOK_SECRET is set) loses and repeats
   * deliveries at these rates, drawn from `random`.
   */
  withJiraIntake(faults: { dropRate: number; duplicateRate: number; random: () => number }): JsmDesk {
    this.desk = JsmDesk.setUp(this.jira, { people: [PEOPLE.alice, PEOPLE.bob, PEOPLE.carol, PEOPLE.dave], applications: ['Chaos app'], roles: ['Short', 'Other', 'Staged', 'Timed'], durations: ['2 seconds', '3 seconds'] });
    this.jira.webhooks.faults = faults;
    return this.desk;
  }

  /** In Slack and Okta, and an account of the Jira site (to raise requests there). */
  addPerson(p: Person): void {
    addPerson(this, p);
    if (!this.jira.directory.userByEmail(p.email)) this.jira.directory.addUser({ email: p.email, displayName: p.name });
  }

  requestForIssue(issueId: string): string | undefined {
    return this.sql().value<string>('SELECT id FROM requests WHERE submission_key = ?', `jira:${issueId}`) ?? undefined;
  }

  /** A signed driver aimed at a running bot's current port; with replicas, each in turn (a load balancer). */
  driver(): SlackDriver {
    const up = this.bots.filter((b) => b.running);
    if (up.length === 0) throw new Error('the bot is down');
    const bot = up[this.nextDriver++ % up.length]!;
    let d = this.drivers.get(bot.url);
    if (!d) {
      d = new SlackDriver({ botUrl: bot.url, signingSecret: TEST_CREDENTIALS.signingSecret, emulator: this.slack });
      this.drivers.set(bot.url, d);
    }
    return d;
  }

  /** Reads of the bot's database, `?` placeholders, in either store (SQLite: read-only, WAL lets it read while the bot writes). */
  sql(): SqlReader {
    if (!this.reader) {
      if (this.database.DATABASE_URL) {
        const pg = PgDb.open(this.database.DATABASE_URL);
        this.reader = { sql: postgresReader(pg), close: () => pg.close() };
      } else {
        const db = new Database(join(this.dir, 'bot.db'), { readonly: true, fileMustExist: true });
        this.reader = { sql: sqliteReader(db), close: () => db.close() };
      }
    }
    return this.reader.sql;
  }

  requestState(id: string): string | undefined {
    return this.sql().value<string>('SELECT state FROM requests WHERE id = ?', id) ?? undefined;
  }

  requestStage(id: string): number | undefined {
    return this.sql().value<number>('SELECT stage FROM requests WHERE id = ?', id) ?? undefined;
  }

  requestBySubmission(viewId: string): string | undefined {
    return this.sql().value<string>('SELECT id FROM requests WHERE submission_key = ?', viewId) ?? undefined;
  }

  openEffects(): { pending: number; running: number; dead: number } {
    const out = { pending: 0, running: 0, dead: 0 };
    for (const r of this.sql().all<{ status: keyof typeof out; n: number }>("SELECT status, COUNT(*) AS n FROM outbox WHERE status <> 'done' GROUP BY status")) out[r.status] = r.n;
    return out;
  }

  async stop(): Promise<void> {
    await Promise.all(this.bots.map((b) => b.kill('SIGKILL').catch(() => undefined)));
    this.reader?.close();
    this.reader = undefined;
    try {
      await stopAll([this.slack, this.jira, this.okta]);
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
      this.dropDatabase();
    }
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
