/**
 * What a crash run must leave behind, checked once everything is quiet, from the outside (the
 * emulators' state and call logs) and from the database:
 * - each approved request granted exactly once: one `granted` audit event, and one real addition
 *   of the membership in Okta (a re-sent PUT after a crash is idempotent and only counted);
 * - IdP membership equals what the database says (no membership left, no ownership record left);
 * - one Jira issue per request, every step's comment present exactly once and in step order
 *   (comments are matched to audit events through the effect id the bot stores on each); a
 *   request raised in Jira has the issue it was raised as, and no other;
 * - no request stuck (every one reaches a final state), none failed, no outbox row left pending,
 *   running or dead, the audit chain intact, no configured secret in the bot's output.
 * And the report of a run, as `npm run chaos` prints it.
 */
import { chainHash } from '../../../src/adapters/storeRows.js';
import { checkChain, type StoredAuditEvent } from '../../../src/domain/audit.js';
import { isRecordedInJira, type Step } from '../../../src/domain/steps.js';
import type { CrashMode, FaultKind, FlowState } from './run.js';
import { CHAOS_GROUPS, SECRETS, type ChaosWorld } from './world.js';

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
  /** Flows raised as JSM requests in Jira. */
  raisedInJira: number;
  /** Webhook deliveries the site lost for good (the poll found what they carried). */
  webhooksDropped: number;
  /** Webhook deliveries sent twice. */
  webhooksDuplicated: number;
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

/** The states a request ends in. */
export const FINAL = new Set(['revoked', 'denied', 'failed', 'timed_out', 'cancelled']);

/**
 * Checks every invariant of a finished run from the outside (the emulators' state and call
 * logs) and from the database, counting each violation in `r` with a line in `r.problems`;
 * adds the flows' informational counts (re-clicks, re-submissions) to `r` on the way.
 */
export function checkInvariants(w: ChaosWorld, flows: readonly FlowState[], r: ChaosReport): void {
  const problem = (count: keyof ChaosReport, line: string) => {
    (r[count] as number) += 1;
    if (r.problems.length < 200) r.problems.push(`${String(count)}: ${line}`);
  };
  const db = w.sql();
  const outboxRow = { get: (id: unknown) => db.get('SELECT id, kind, status, payload, request_id FROM outbox WHERE id = ?', id) };
  const audit = { all: (id: unknown) => db.all('SELECT seq, type, data FROM audit_events WHERE request_id = ? ORDER BY seq', id) };
  const approvers = { all: (id: unknown) => db.all(`SELECT p.slack_id, s.channel AS dm_channel, s.ts AS dm_ts FROM approvers a JOIN people p ON p.id = a.person_id
      LEFT JOIN surface_refs s ON s.request_id = a.request_id AND s.surface = 'slack' AND s.purpose = 'approver_card' AND s.stage = a.stage AND s.person_id = a.person_id
      WHERE a.request_id = ?`, id) };
  const request = { get: (id: unknown) => db.get('SELECT * FROM requests WHERE id = ?', id) };
  const openFor = { all: (id: unknown) => db.all("SELECT id, queue, kind, status, attempts, available_at, lease_until, last_error FROM outbox WHERE request_id = ? AND status <> 'done' ORDER BY id", id) };

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

  for (const f of flows) {
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
    const owned = (db.value<number>('SELECT COUNT(*) FROM memberships WHERE group_id = ? AND idp_user_id = ?', group, p.user.oktaId) ?? 0);
    if (inOkta !== holds) problem('membershipMismatches', `${tag}: Okta member=${inOkta}, request ${state}`);
    if (owned > 0 && !holds) problem('membershipMismatches', `${tag}: an ownership record outlived the grant`);

    // Jira: one issue, each step's comment once, in order, the right final status.
    const labelled = w.jira.issuesWithLabel(`access-bot-${f.requestId}`);
    const raised = f.issueKey ? w.jira.issue(f.issueKey) : undefined;
    const issues = f.issueKey ? [...(raised ? [raised] : []), ...labelled] : labelled;
    if (f.issueKey && String(req.jira_key) !== f.issueKey) problem('lostEffects', `${tag}: raised as ${f.issueKey}, recorded on ${String(req.jira_key)}`);
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
  const leftover = db.all<{ group_id: string; idp_user_id: string }>(`SELECT m.group_id, m.idp_user_id FROM memberships m WHERE m.group_id IN (${groups.map(() => '?').join(', ')})`, ...groups);
  for (const m of leftover) if (!flows.some((f) => f.plan.user.oktaId === m.idp_user_id && f.requestId && ['approved', 'active', 'revoking'].includes(w.requestState(f.requestId) ?? ''))) problem('membershipMismatches', `ownership record ${m.group_id}/${m.idp_user_id} left behind`);
  for (const g of Object.values(CHAOS_GROUPS)) for (const m of w.okta.members(g)) problem('membershipMismatches', `${m} is still in Okta group ${g}`);

  // The outbox: nothing pending, running or dead.
  for (const e of db.all<{ id: number; kind: string; status: string; attempts: number; last_error: string | null }>("SELECT id, kind, status, attempts, last_error FROM outbox WHERE status <> 'done' ORDER BY id")) {
    problem('effectsNotDone', `effect ${e.id} ${e.kind} is ${e.status} after ${e.attempts} attempts: ${e.last_error ?? ''}`);
  }

  // The audit chain, recomputed.
  const chain = checkChain(db.all<StoredAuditEvent>('SELECT seq, request_id AS "requestId", at, type, actor, data, prev_hash AS "prevHash", hash FROM audit_events ORDER BY seq'), chainHash);
  if (!chain.ok) problem('auditChainBroken', `the audit chain breaks at seq ${chain.broken?.seq ?? '?'}: ${chain.what}`);

  const out = w.bots.map((b) => b.output()).join('');
  for (const s of SECRETS) if (out.includes(s)) problem('secretsInOutput', `a configured secret (${s.slice(0, 6)}…) is in the bot's output`);
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
    `raised in Jira          ${r.raisedInJira} (webhooks dropped ${r.webhooksDropped}, sent twice ${r.webhooksDuplicated}: the poll and deduplication cover them)`,
    `duration                ${(r.durationMs / 1000).toFixed(1)} s`,
  ];
  if (r.problems.length > 0) lines.push('-- problems --', ...r.problems);
  return lines.join('\n');
}
