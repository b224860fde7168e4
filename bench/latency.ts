/**
 * 2. Time to record and to grant, one request at a time on a quiet bot:
 *   - record: modal submitted → the Jira issue exists (the emulator answered the create call);
 *   - grant: Approve clicked → the Okta membership exists (the emulator answered the PUT).
 * With every emulator answering at once (0 ms) and after 100 ms per call.
 *
 * The services' share of a path is the time the emulators spent on the calls made on it, from
 * each request's arrival to its answer as the emulator measured them (the union of those
 * intervals, so calls that overlap are not counted twice). The calls on the path are read from
 * the emulators' logs: for record, Slack's users.* lookups (routing) and every Jira call up to
 * the create (the Jira queue runs one effect at a time and the create comes first); for grant,
 * every Okta call up to the PUT (only the grant talks to Okta). What is left is what the bot
 * adds: queueing, database, HTTP clients, our code. (Counting calls × the configured latency
 * instead charged the emulators' timer overshoot, about 1-2 ms a call, to the bot.)
 */
import { preciseNow, type RecordedCall } from '../test/emulators/base.js';
import { APPROVER, BenchEnv, GROUP } from './env.js';
import { ms, pct, rounded, summarize, type Row, type Summary } from './stats.js';

export interface PathResult {
  latencyMs: number;
  samples: number;
  /** Wall time of the path. */
  total: Summary;
  /** Calls to services on the path (usually constant). */
  pathCalls: Record<string, number>;
  /** The services' own time on the path (union of the path calls' arrival → answer). */
  service: Summary;
  /** Total minus the services' own time. */
  added: Summary;
}

export interface LatencyResult {
  record: PathResult[];
  grant: PathResult[];
}

const WARMUP = 3;

export async function measureLatency(opts: { samples0: number; samples100: number; log: (s: string) => void }): Promise<{ result: LatencyResult; rows: Row[] }> {
  const result: LatencyResult = { record: [], grant: [] };
  for (const [latencyMs, samples] of [
    [0, opts.samples0],
    [100, opts.samples100],
  ] as const) {
    const { record, grant } = await run(latencyMs, samples);
    result.record.push(record);
    result.grant.push(grant);
    for (const [name, r] of [
      ['record', record],
      ['grant', grant],
    ] as const) {
      opts.log(`  ${name.padEnd(6)} @ ${String(latencyMs).padStart(3)} ms/call: total ${pct(r.total)}; calls on path ${JSON.stringify(r.pathCalls)}; bot adds ${pct(r.added)}`);
    }
  }
  const rows: Row[] = [];
  for (const [name, list] of [
    ['record', result.record],
    ['grant', result.grant],
  ] as const) {
    for (const r of list) {
      const label = name === 'record' ? 'Time to record (submit → Jira issue)' : 'Time to grant (Approve → Okta membership)';
      rows.push({
        id: `latency.${name}.${r.latencyMs}`,
        measurement: `${label}, ${r.latencyMs} ms/call (n=${r.samples})`,
        result: `total ${pct(r.total)}; ${describeCalls(r.pathCalls)} on the path, services' own time p50 ${ms(r.service.p50)}; bot adds p50 ${ms(r.added.p50)} · p99 ${ms(r.added.p99)}`,
        target: 'bot adds p99 < 20 ms',
        pass: r.added.p99 < 20,
      });
    }
  }
  return {
    result: {
      record: result.record.map((r) => ({ ...r, total: rounded(r.total), service: rounded(r.service), added: rounded(r.added) })),
      grant: result.grant.map((r) => ({ ...r, total: rounded(r.total), service: rounded(r.service), added: rounded(r.added) })),
    },
    rows,
  };
}

function sumCalls(c: Record<string, number>): number {
  return Object.values(c).reduce((a, b) => a + b, 0);
}

function describeCalls(c: Record<string, number>): string {
  return `${sumCalls(c)} calls (${Object.entries(c)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')})`;
}

/** The most frequent value per key over the samples. */
function modal(list: Record<string, number>[]): Record<string, number> {
  const keys = new Set(list.flatMap((o) => Object.keys(o)));
  const out: Record<string, number> = {};
  for (const k of keys) {
    const counts = new Map<number, number>();
    for (const o of list) counts.set(o[k] ?? 0, (counts.get(o[k] ?? 0) ?? 0) + 1);
    out[k] = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]![0];
  }
  return out;
}

async function run(latencyMs: number, samples: number): Promise<{ record: PathResult; grant: PathResult }> {
  const env = await new BenchEnv({ people: samples + WARMUP }).start();
  const rec = { total: [] as number[], service: [] as number[], added: [] as number[], calls: [] as Record<string, number>[] };
  const gr = { total: [] as number[], service: [] as number[], added: [] as number[], calls: [] as Record<string, number>[] };
  try {
    await env.startBot();
    env.setLatency(latencyMs);
    for (let i = 0; i < samples + WARMUP; i++) {
      const p = env.people[i]!;
      const before = new Set(env.slack.views.keys());
      await env.post(env.commandBody(p.slackId));
      const [viewId] = await env.viewsFor(new Set([p.slackId]), before, [p.slackId]);
      const submit = env.submitBody(p.slackId, viewId!);
      await env.idle();

      // Record.
      const slackMark = env.slack.calls.length;
      const jiraMark = env.jira.calls.length;
      const t0 = preciseNow();
      const s = await env.post(submit);
      if (s.status !== 200 || s.text !== '') throw new Error(`submission answered ${s.status} ${s.text}`);
      const created = await waitForCall(env.jira.calls, jiraMark, (c) => c.method === 'POST' && c.path === '/rest/api/3/issue' && c.status === 201 && JSON.stringify(c.body).includes(p.name));
      const recordPath = {
        slack: env.slack.calls.slice(slackMark).filter((c) => c.answeredAt <= created.answeredAt && /^\/api\/(users\.|usergroups\.)/.test(c.path)),
        jira: env.jira.calls.slice(jiraMark).filter((c) => c.answeredAt <= created.answeredAt),
      };
      const recordCalls: Record<string, number> = { slack: recordPath.slack.length, jira: recordPath.jira.length };
      const recordService = serviceTime([...recordPath.slack, ...recordPath.jira]);
      await env.idle();

      // Grant.
      const [requestId] = env.requestIdsFor([viewId!]);
      const card = env.approvalCards().get(requestId!);
      if (!card) throw new Error(`no approval card for ${requestId}`);
      const click = env.clickBody(APPROVER.slackId, card, 'approve');
      const oktaMark = env.okta.calls.length;
      const t1 = preciseNow();
      const c = await env.post(click);
      if (c.status !== 200) throw new Error(`click answered ${c.status}`);
      const put = await waitForCall(env.okta.calls, oktaMark, (x) => x.method === 'PUT' && x.path === `/api/v1/groups/${GROUP}/users/${p.oktaId}` && x.status === 204);
      const grantPath = env.okta.calls.slice(oktaMark).filter((x) => x.answeredAt <= put.answeredAt);
      const grantCalls = { okta: grantPath.length };
      const grantService = serviceTime(grantPath);
      await env.idle();

      if (i < WARMUP) continue;
      const recordTotal = created.answeredAt - t0;
      rec.total.push(recordTotal);
      rec.calls.push(recordCalls);
      rec.service.push(recordService);
      rec.added.push(recordTotal - recordService);
      const grantTotal = put.answeredAt - t1;
      gr.total.push(grantTotal);
      gr.calls.push(grantCalls);
      gr.service.push(grantService);
      gr.added.push(grantTotal - grantService);
    }
  } finally {
    await env.close();
  }
  const path = (x: typeof rec): PathResult => ({ latencyMs, samples, total: summarize(x.total), pathCalls: modal(x.calls), service: summarize(x.service), added: summarize(x.added) });
  return { record: path(rec), grant: path(gr) };
}

/** The length of the union of the calls' arrival → answer intervals. */
function serviceTime(calls: RecordedCall[]): number {
  const spans = calls.map((c) => [c.arrivedAt, c.answeredAt] as const).sort((a, b) => a[0] - b[0]);
  let total = 0;
  let end = -Infinity;
  for (const [from, to] of spans) {
    if (to <= end) continue;
    total += to - Math.max(from, end);
    end = to;
  }
  return total;
}

async function waitForCall(calls: RecordedCall[], from: number, pred: (c: RecordedCall) => boolean, timeoutMs = 30_000): Promise<RecordedCall> {
  const deadline = Date.now() + timeoutMs;
  let i = from;
  for (;;) {
    for (; i < calls.length; i++) if (pred(calls[i]!)) return calls[i]!;
    if (Date.now() > deadline) throw new Error('expected call did not arrive');
    await new Promise((r) => setTimeout(r, 1));
  }
}
