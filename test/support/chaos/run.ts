/**
 * The crash-run engine behind `test/integration/chaos.test.ts` (CI size) and `npm run chaos`
 * (full size): a batch of flows driven through signed Slack requests against the bot of a
 * ChaosWorld (request → approve → grant → expire → revoke, some denied, some double-clicked), and
 * `kill -9` of the bot at randomised points (at random times, or right after it sent an Okta
 * membership change, a Jira write or a Slack post, before it could record the outcome), each
 * followed by a restart on the same database. Faults are injected meanwhile: Jira 503 and 429
 * bursts and reset connections, Okta 429 with X-Rate-Limit-Reset, Slack 429 and 503.
 *
 * Some flows are raised in Jira instead (a JSM request through the portal API, `jira.intake`):
 * the site's webhook drops and repeats some deliveries, the bot is down for others, and the poll
 * (every 2 s here) must catch what the webhook missed, each issue becoming exactly one request.
 *
 * Every random choice comes from a seeded PRNG (the seed is printed), so a run's plan — which
 * flows deny, who clicks, when and how the bot is killed, which faults are armed — replays with
 * the same seed; the exact interleaving still depends on timing. At the end, once everything is
 * quiet, invariants.ts checks what the run left behind.
 */
import type { RecordedCall } from '../../emulators/base.js';
import type { StoredMessage } from '../../emulators/slack.js';
import { PEOPLE, person, type Person } from '../fixtures.js';
import { checkInvariants, FINAL, type ChaosReport } from './invariants.js';
import { Rng } from './rng.js';
import { CHAOS_GROUPS, CHAOS_INTAKE_CATALOG, CHAOS_WEBHOOK_SECRET, ChaosWorld, isConnectionError } from './world.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

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
  /** Bot processes sharing one Postgres database (default 1; more than 1 runs on Postgres). A crash kills one of them. */
  replicas?: number;
  /** Gives up waiting for flows after this long (the report then shows what is stuck). */
  timeoutMs?: number;
  log?: (line: string) => void;
}

export type FaultKind = 'jira-503' | 'jira-429' | 'jira-reset' | 'jira-lost-response' | 'okta-429' | 'slack-429' | 'slack-503';
export type CrashMode = 'time' | 'after-okta-write' | 'after-jira-write' | 'after-slack-post';

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
  /** Raised with /access in Slack, or as a JSM request in Jira (the issue is then its record). */
  via: 'slack' | 'jira';
}

export interface FlowState {
  plan: FlowPlan;
  viewId?: string;
  requestId?: string;
  /** A flow raised in Jira: its issue. */
  issueKey?: string;
  issueId?: string;
  finalState?: string;
  error?: string;
  /** Where the harness is with this flow, for the report when it gets stuck. */
  phase?: string;
  reclicks: number;
  lostAfterAck: number;
  resubmits: number;
}

function flowUser(i: number): Person {
  const n = String(i + 1).padStart(4, '0');
  return person(`flow${n}`, `Flow ${n}`, { domain: 'chaos.example', oktaPrefix: '00u' });
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
      via: rng.chance(0.3) ? 'jira' : 'slack',
    });
  }
  return plans;
}

class Deadline extends Error {}

export class ChaosRun {
  readonly report: ChaosReport;
  private readonly world: ChaosWorld;
  private readonly flows: FlowState[];
  private readonly deadline: number;
  private readonly log: (line: string) => void;
  private finished = false;
  private crashesDone = false;
  private readonly crashRng: Rng;
  private readonly faultRng: Rng;
  private readonly webhookRng: Rng;
  private readonly started = Date.now();

  constructor(private readonly o: ChaosOptions) {
    this.world = new ChaosWorld({ replicas: o.replicas ?? 1 });
    const root = new Rng(o.seed);
    this.flows = planFlows(root.fork(1), o.flows).map((plan) => ({ plan, reclicks: 0, lostAfterAck: 0, resubmits: 0 }));
    this.crashRng = root.fork(2);
    this.faultRng = root.fork(3);
    this.webhookRng = root.fork(4);
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
      raisedInJira: 0,
      webhooksDropped: 0,
      webhooksDuplicated: 0,
      shutdownExit: 'not stopped',
      durationMs: 0,
      problems: [],
    };
  }

  async run(): Promise<ChaosReport> {
    const w = this.world;
    try {
      await w.start(CHAOS_INTAKE_CATALOG, { JIRA_WEBHOOK_SECRET: CHAOS_WEBHOOK_SECRET, JIRA_POLL_INTERVAL: '2s' });
      const faulty = this.o.faults !== false;
      w.withJiraIntake({ dropRate: faulty ? 0.15 : 0, duplicateRate: faulty ? 0.15 : 0, random: () => this.webhookRng.next() });
      for (const f of this.flows) w.addPerson(f.plan.user);
      await Promise.all(w.bots.map((b) => b.start()));
      this.log(
        `chaos: seed=${this.o.seed} flows=${this.o.flows} crashes=${this.o.crashes} concurrency=${this.o.concurrency ?? 8} faults=${this.o.faults !== false} store=${w.store} replicas=${w.replicas}`,
      );

      const flowsDone = this.runFlows().finally(() => (this.finished = true));
      const crashes = this.crashLoop().finally(() => (this.crashesDone = true));
      const faults = this.o.faults === false ? Promise.resolve() : this.faultLoop();
      await flowsDone;
      await crashes;
      await faults;

      // After the deadline the stuck flows are reported rather than waited on any longer.
      await this.quiesce(Date.now() > this.deadline ? 5_000 : 60_000);
      const exits = await Promise.all(w.bots.map((b) => b.kill('SIGTERM')));
      this.report.shutdownExit = [...new Set(exits.map((exit) => (exit.code !== null ? `code ${exit.code}` : `signal ${exit.signal}`)))].join(', ');
      checkInvariants(w, this.flows, this.report);
      this.countServedFaults();
      this.report.raisedInJira = this.flows.filter((f) => f.plan.via === 'jira').length;
      this.report.webhooksDropped = w.jira.webhooks.deliveries.filter((d) => d.outcome === 'dropped').length;
      this.report.webhooksDuplicated = w.jira.webhooks.deliveries.filter((d) => d.duplicated).length;
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
      await Promise.race([this.world.whenAnyUp(), late]);
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
    if (f.plan.via === 'jira') return this.raiseInJira(f);
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

  /**
   * Raises the flow's request as a JSM request (retried while Jira answers with an injected fault:
   * those refuse the call before it is carried out), then waits for the bot to take the issue in,
   * by webhook or by its poll.
   */
  private async raiseInJira(f: FlowState): Promise<void> {
    const w = this.world;
    const p = f.plan;
    while (!f.issueId) {
      this.checkDeadline();
      try {
        const raised = await w.desk!.raise(p.user, {
          app: 'Chaos app',
          role: p.role.charAt(0).toUpperCase() + p.role.slice(1),
          duration: p.duration === '2s' ? '2 seconds' : '3 seconds',
          description: `Chaos flow ${p.index + 1}: checking crash safety from Jira`,
        });
        f.issueKey = raised.issueKey;
        f.issueId = raised.issueId;
      } catch {
        await sleep(200);
      }
    }
    f.phase = 'waiting for intake';
    for (;;) {
      this.checkDeadline();
      const id = w.bot.running ? w.requestForIssue(f.issueId) : undefined;
      if (id) {
        f.requestId = id;
        return;
      }
      await sleep(150);
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
      while (Date.now() < until && w.anyUp() && progress() === before) await sleep(100);
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
      // With replicas, one of them dies (a random one); the others go on serving meanwhile.
      const victim = w.bots.length > 1 ? rng.pick(w.bots) : w.bot;
      await victim.kill('SIGKILL');
      this.report.crashes += 1;
      this.report.crashesByMode[mode] = (this.report.crashesByMode[mode] ?? 0) + 1;
      this.log(`chaos: crash ${this.report.crashes} (${mode}${w.bots.length > 1 ? `, replica ${w.bots.indexOf(victim) + 1}` : ''}) at ${((Date.now() - this.started) / 1000).toFixed(1)} s; ${this.flows.filter((f) => f.finalState).length}/${this.flows.length} flows done`);
      await sleep(rng.int(0, 700));
      // A restart that fails is a finding in itself: try twice more, then end the run with it.
      for (let attempt = 1; ; attempt++) {
        try {
          await victim.start();
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
    await Promise.race([w.whenAnyUp(), sleep(maxMs)]);
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

  /** What the emulators actually answered with a fault. */
  private countServedFaults(): void {
    const w = this.world;
    const r = this.report;
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

export async function runChaos(o: ChaosOptions): Promise<ChaosReport> {
  return new ChaosRun(o).run();
}
