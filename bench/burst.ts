/**
 * 5. A burst of approvals under the IdP's rate limit: N requests are submitted through Slack and
 * wait for approval; then the Okta emulator gets a per-minute budget of P calls per rate-limit
 * bucket and the approver clicks Approve on all N at once (100 clicks in flight).
 *
 * A grant makes three Okta calls, each in its own bucket of Okta's management rate limits:
 * the user search (GET /api/v1/users → `users`), the membership check (GET
 * /api/v1/users/{id}/groups → `default`) and the add (PUT /api/v1/groups/{g}/users/{u} →
 * `groups`). Every bucket gets the same budget, so each must pass N calls.
 *
 * Okta counts per fixed one-minute window and says when the window resets
 * (X-Rate-Limit-Reset). The emulator's clock is shifted so the run starts `lead` seconds before a
 * window ends: the first window admits P calls per bucket, the next one opens `lead` seconds in.
 * The bound is when the window that has room for the N-th call opens; `N ÷ rate` is shown too.
 */
import type { Obj } from '../test/emulators/slack.js';
import { APPROVER, BenchEnv, GROUP } from './env.js';
import { Seeder, seedIssue } from './seed.js';
import { ms, pool, round, sleep, type Row } from './stats.js';

/** The Approve / Deny buttons of an approver's card, as the bot renders them. */
function cardBlocks(requestId: string): Obj[] {
  return [
    { type: 'section', text: { type: 'mrkdwn', text: `Access request ${requestId}` } },
    {
      type: 'actions',
      block_id: 'decision',
      elements: [
        { type: 'button', action_id: 'approve', text: { type: 'plain_text', text: 'Approve' }, style: 'primary', value: requestId },
        { type: 'button', action_id: 'deny', text: { type: 'plain_text', text: 'Deny' }, style: 'danger', value: requestId },
      ],
    },
  ];
}

export interface BurstResult {
  approvals: number;
  perMinute: number;
  leadSec: number;
  callsPerGrant: number;
  /** When the window with room for the last call opens (s after the first click). */
  windowBoundMs: number;
  /** N ÷ rate. */
  rateBoundMs: number;
  totalMs: number;
  ratio: number;
  tooManyRequests: number;
  callsByBucket: Record<string, { ok: number; limited: number }>;
  lost: number;
  duplicates: number;
  failed: number;
  seedMs: number;
  /** Grants completed in the first window, and when the last of them was. */
  firstWindow: { grants: number; lastAtMs: number };
  /** Grants completed once the next window opened, and how long after it opened the last was. */
  afterWindowOpens: { grants: number; lastAfterMs: number };
}

function bucketOf(method: string, path: string): string {
  const seg = path.split('/').filter(Boolean);
  if (seg[2] === 'users') {
    if (seg.length === 3) return 'users';
    if (seg.length === 4) return method === 'GET' ? 'user' : 'userWrite';
  }
  if (seg[2] === 'groups') return seg.length === 4 ? 'group' : 'groups';
  return 'default';
}

export async function measureBurst(opts: { approvals: number; perMinute: number; leadSec: number; log: (s: string) => void }): Promise<{ result: BurstResult; rows: Row[] }> {
  const n = opts.approvals;
  const env = await new BenchEnv({ people: n }).start();
  try {
    // N requests waiting for the approver, written into the database before the bot starts,
    // with their Jira issues and the approver's cards in Slack.
    const s0 = performance.now();
    const db = env.openForSeeding();
    const seeder = new Seeder(db);
    const clicks: string[] = [];
    const im = env.slack.imChannelFor(APPROVER.slackId);
    db.transaction(() => {
      env.people.forEach((p, i) => {
        const id = `req_bu${String(i).padStart(7, '0')}`;
        const card = env.slack.addMessage({ channel: im, user: env.slack.botUserId, text: `Access request from ${p.name}`, blocks: cardBlocks(id) });
        seeder.pendingApproval(id, p, i + 1, Date.now() - 60_000, card);
        seedIssue(env.jira, i + 1, id, 'To Do');
        clicks.push(env.clickBody(APPROVER.slackId, card, 'approve'));
      });
    })();
    db.close();
    await env.startBot();
    const seedMs = performance.now() - s0;
    opts.log(`  ${n} requests waiting for approval (seeded in ${ms(seedMs)})`);

    // The budget, with the emulator's clock `lead` seconds before the end of a window.
    const real = Date.now();
    const windowEnd = (Math.floor(real / 60_000) + 2) * 60_000;
    const offset = windowEnd - opts.leadSec * 1000 - real;
    env.okta.setRateLimit({ perMinute: opts.perMinute, now: () => Date.now() + offset });
    const callMark = env.okta.calls.length;
    const limitedBefore = env.okta.tooManyRequests;

    const t0 = Date.now();
    await pool(n, 100, async (i) => {
      const r = await env.post(clicks[i]!);
      if (r.status !== 200) throw new Error(`click answered ${r.status}`);
    });
    const perMinute = opts.perMinute;
    const windows = Math.ceil(n / perMinute) - 1;
    const windowBoundMs = windows <= 0 ? 0 : opts.leadSec * 1000 + (windows - 1) * 60_000;
    const rateBoundMs = (n / perMinute) * 60_000;
    const deadline = t0 + Math.max(windowBoundMs, rateBoundMs) * 2 + 120_000;
    const activeCount = env.db().prepare(`SELECT COUNT(*) FROM requests WHERE state = 'active'`).pluck();
    while ((activeCount.get() as number) < n && Date.now() < deadline) await sleep(50);
    await env.idle(300_000);

    const calls = env.okta.calls.slice(callMark);
    const callsByBucket: BurstResult['callsByBucket'] = {};
    const putsByUser = new Map<string, number>();
    let lastPut = t0;
    for (const c of calls) {
      const b = (callsByBucket[bucketOf(c.method, c.path)] ??= { ok: 0, limited: 0 });
      if (c.status === 429) b.limited++;
      else b.ok++;
      if (c.method === 'PUT' && c.status === 204) {
        putsByUser.set(c.path, (putsByUser.get(c.path) ?? 0) + 1);
        lastPut = Math.max(lastPut, c.at);
      }
    }
    const totalMs = lastPut - t0;
    // Each bucket's calls answered in each of Okta's windows: how much of every window's budget was used.
    const perWindow: Record<string, number[]> = {};
    const firstWindow = Math.floor((t0 + offset) / 60_000);
    for (const c of calls) {
      if (c.status === 429) continue;
      const row = (perWindow[bucketOf(c.method, c.path)] ??= []);
      const w = Math.floor((c.at + offset) / 60_000) - firstWindow;
      while (row.length <= w) row.push(0);
      row[w]! += 1;
    }
    // When the memberships were added: the first window's share, then the rest after it opened.
    const putTimes = calls.filter((c) => c.method === 'PUT' && c.status === 204).map((c) => c.at - t0).sort((a, b) => a - b);
    const inFirst = putTimes.filter((t) => t < opts.leadSec * 1000);
    const firstWindowDoneMs = inFirst.at(-1) ?? 0;
    const afterOpen = putTimes.filter((t) => t >= opts.leadSec * 1000);
    const restMs = afterOpen.length ? afterOpen.at(-1)! - opts.leadSec * 1000 : 0;
    const members = env.people.filter((p) => env.okta.isMember(GROUP, p.oktaId)).length;
    const states = env.db().prepare(`SELECT state, COUNT(*) AS n FROM requests GROUP BY state`).all() as { state: string; n: number }[];
    const byState = Object.fromEntries(states.map((s) => [s.state, s.n]));
    const grantedEvents = env.db().prepare(`SELECT request_id, COUNT(*) AS n FROM audit_events WHERE type = 'granted' GROUP BY request_id HAVING n > 1`).all().length;
    const duplicates = [...putsByUser.values()].filter((v) => v > 1).length + grantedEvents;
    const lost = n - Math.min(members, byState.active ?? 0);
    const bound = Math.max(windowBoundMs, 1);
    const result: BurstResult = {
      approvals: n,
      perMinute,
      leadSec: opts.leadSec,
      callsPerGrant: 3,
      windowBoundMs,
      rateBoundMs: round(rateBoundMs, 0),
      totalMs,
      ratio: round(totalMs / bound, 3),
      tooManyRequests: env.okta.tooManyRequests - limitedBefore,
      callsByBucket,
      lost,
      duplicates,
      failed: byState.failed ?? 0,
      seedMs: round(seedMs, 0),
      firstWindow: { grants: inFirst.length, lastAtMs: firstWindowDoneMs },
      afterWindowOpens: { grants: afterOpen.length, lastAfterMs: restMs },
    };
    opts.log(
      `  ${n} approvals, ${perMinute}/min per bucket: last membership added after ${ms(totalMs)}; window bound ${ms(windowBoundMs)}, N÷rate ${ms(rateBoundMs)}; ` +
        `429s ${result.tooManyRequests}; calls ${JSON.stringify(callsByBucket)}, per window ${JSON.stringify(perWindow)}; lost ${lost}, duplicates ${duplicates}, failed ${result.failed}; ` +
        `${inFirst.length} granted in the first window (last at ${ms(firstWindowDoneMs)}), ${afterOpen.length} after it (last ${ms(restMs)} after the window opened)`,
    );
    const rows: Row[] = [
      {
        id: 'burst',
        measurement: `${n} approvals at once, Okta ${perMinute}/min per bucket (3 calls per grant, one per bucket)`,
        result:
          `${ms(totalMs)} = ${result.ratio.toFixed(2)}× the bound ${ms(windowBoundMs)} (window opens; N÷rate = ${ms(rateBoundMs)}); ` +
          `${result.tooManyRequests} 429s; lost ${lost}, duplicates ${duplicates}`,
        target: '≤ 1.15× bound; 0 lost, 0 duplicates',
        pass: result.ratio <= 1.15 && lost === 0 && duplicates === 0 && result.failed === 0,
      },
    ];
    return { result, rows };
  } finally {
    await env.close();
  }
}
