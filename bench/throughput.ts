/**
 * 6. Throughput: requests fully processed per second, end to end, with every emulator answering
 * at once. 50 people work in parallel, each in a loop: `/access` → the modal opens → submit →
 * the approver's card arrives → Approve → the request is active (membership added, recorded).
 * Everything else the lifecycle does (Jira issue, comments, transitions, DMs) runs alongside and
 * must be finished by the end.
 */
import { APPROVER, BenchEnv } from './env.js';
import type { StoredMessage } from '../test/emulators/slack.js';
import { interactiveElements, isObj, type Obj } from '../test/emulators/slack.js';
import { pct, round, rounded, summarize, type Row, type Summary } from './stats.js';

export interface ThroughputResult {
  requests: number;
  lanes: number;
  /** Requests active per second, first command to last activation. */
  perSecond: number;
  /** Including the drain of everything else (Jira comments, DMs) at the end. */
  perSecondDrained: number;
  endToEnd: Summary;
  wallMs: number;
  drainedMs: number;
  effects: number;
  /** Calls the bot made to each service per request. */
  callsPerRequest: Record<string, number>;
  /** Event loop utilisation of the bot and of the emulators + load generator (1 = saturated). */
  botElu: number;
  emulatorsElu: number;
}

export async function measureThroughput(opts: { requests: number; lanes?: number; log: (s: string) => void }): Promise<{ result: ThroughputResult; rows: Row[] }> {
  const lanes = opts.lanes ?? 50;
  const n = opts.requests;
  const env = await new BenchEnv({ people: n }).start();
  try {
    await env.startBot();
    const w = new Watcher(env);
    const before = (await env.rpc<{ dispatcher: { succeeded: number } }>('stats')).dispatcher.succeeded;
    const callsBefore = { slack: env.slack.calls.length, jira: env.jira.calls.length, okta: env.okta.calls.length };
    await env.rpc('elu');
    const parentElu0 = performance.eventLoopUtilization();
    const e2e: number[] = [];
    let next = 0;
    const t0 = performance.now();
    let lastActive = t0;
    const timer = setInterval(() => w.poll(), 2);
    try {
      await Promise.all(
        Array.from({ length: lanes }, async () => {
          for (;;) {
            const i = next++;
            if (i >= n) return;
            const p = env.people[i]!;
            const start = performance.now();
            const viewP = w.view(p.slackId);
            const c = await env.post(env.commandBody(p.slackId));
            if (c.status !== 200) throw new Error(`command answered ${c.status}`);
            const viewId = await viewP;
            const s = await env.post(env.submitBody(p.slackId, viewId));
            if (s.status !== 200 || s.text !== '') throw new Error(`submission answered ${s.status} ${s.text}`);
            const [requestId] = env.requestIdsFor([viewId]);
            const card = await w.card(requestId!);
            const k = await env.post(env.clickBody(APPROVER.slackId, card, 'approve'));
            if (k.status !== 200) throw new Error(`click answered ${k.status}`);
            await w.active(requestId!);
            const end = performance.now();
            e2e.push(end - start);
            lastActive = Math.max(lastActive, end);
          }
        }),
      );
    } finally {
      clearInterval(timer);
    }
    const wallMs = lastActive - t0;
    const botElu = await env.rpc<number>('elu');
    const parentElu = performance.eventLoopUtilization(parentElu0).utilization;
    await env.idle(300_000);
    const drainedMs = performance.now() - t0;
    const after = (await env.rpc<{ dispatcher: { succeeded: number } }>('stats')).dispatcher.succeeded;
    const callsPerRequest = {
      slack: round((env.slack.calls.length - callsBefore.slack) / n, 1),
      jira: round((env.jira.calls.length - callsBefore.jira) / n, 1),
      okta: round((env.okta.calls.length - callsBefore.okta) / n, 1),
    };
    const result: ThroughputResult = {
      requests: n,
      lanes,
      perSecond: round((n / wallMs) * 1000, 1),
      perSecondDrained: round((n / drainedMs) * 1000, 1),
      endToEnd: rounded(summarize(e2e)),
      wallMs: round(wallMs, 0),
      drainedMs: round(drainedMs, 0),
      effects: after - before,
      callsPerRequest,
      botElu: round(botElu),
      emulatorsElu: round(parentElu),
    };
    opts.log(
      `  ${n} requests, ${lanes} people at a time: ${result.perSecond}/s active (${result.perSecondDrained}/s with everything drained); ` +
        `end to end ${pct(result.endToEnd)}; ${result.effects} effects run (${((result.effects / drainedMs) * 1000).toFixed(0)}/s); calls per request ${JSON.stringify(callsPerRequest)}; ELU bot ${result.botElu}, emulators ${result.emulatorsElu}`,
    );
    const rows: Row[] = [
      {
        id: 'throughput',
        measurement: `Throughput, submit → approve → granted, 0 ms services, ${lanes} people at a time (n=${n})`,
        result:
          `${result.perSecond} requests/s (${result.perSecondDrained}/s incl. draining Jira/Slack); each request ${pct(result.endToEnd)}; ` +
          `${result.effects / n} effects and ${Object.values(callsPerRequest).reduce((a, b) => a + b, 0).toFixed(0)} service calls per request; bot CPU-bound (ELU ${result.botElu})`,
        target: '',
      },
    ];
    return { result, rows };
  } finally {
    await env.close();
  }
}

type Card = Pick<StoredMessage, 'channel' | 'ts' | 'text' | 'blocks'>;

/** Reads the emulators' call logs incrementally and resolves what the lanes wait for. */
class Watcher {
  private slackAt = 0;
  private readonly views = new Map<string, string>();
  private readonly cards = new Map<string, Card>();
  private readonly waiting = { view: new Map<string, (v: string) => void>(), card: new Map<string, (c: Card) => void>(), active: new Map<string, () => void>() };
  private readonly isActive;

  constructor(private readonly env: BenchEnv) {
    this.isActive = env.db().prepare("SELECT CASE WHEN state = 'active' THEN 1 ELSE 0 END FROM requests WHERE id = ?").pluck();
  }

  view(user: string): Promise<string> {
    return new Promise((resolve) => this.waiting.view.set(user, resolve));
  }

  card(requestId: string): Promise<Card> {
    const c = this.cards.get(requestId);
    if (c) return Promise.resolve(c);
    return new Promise((resolve) => this.waiting.card.set(requestId, resolve));
  }

  active(requestId: string): Promise<void> {
    return new Promise((resolve) => this.waiting.active.set(requestId, resolve));
  }

  poll(): void {
    const calls = this.env.slack.calls;
    for (; this.slackAt < calls.length; this.slackAt++) {
      const c = calls[this.slackAt]!;
      const res = c.response;
      if (!isObj(res) || res.ok !== true) continue;
      if (c.path === '/api/views.open' && isObj(res.view)) {
        const id = String(res.view.id);
        const user = this.env.slack.views.get(id)?.userId;
        if (!user) continue;
        this.views.set(user, id);
        this.waiting.view.get(user)?.(id);
        this.waiting.view.delete(user);
      } else if (c.path === '/api/chat.postMessage' && isObj(res.message)) {
        const m = res.message as Obj;
        const blocks = Array.isArray(m.blocks) ? (m.blocks as Obj[]) : [];
        const approve = interactiveElements(blocks).find((e) => e.element.action_id === 'approve');
        if (!approve || typeof approve.element.value !== 'string') continue;
        const card: Card = { channel: String(res.channel), ts: String(res.ts), text: String(m.text ?? ''), blocks };
        const id = approve.element.value;
        this.cards.set(id, card);
        this.waiting.card.get(id)?.(card);
        this.waiting.card.delete(id);
      }
    }
    for (const [id, resolve] of this.waiting.active) {
      if (this.isActive.get(id) === 1) {
        this.waiting.active.delete(id);
        resolve();
      }
    }
  }
}
