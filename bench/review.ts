/**
 * 8. An access review of a large group: N members (a tenth of them holding a grant of the bot,
 * the rest standing access), started with `access-bot review start` beside the running bot.
 *
 * - Listing: the members are listed through Okta's listGroupUsers, 200 a page, under a tight
 *   per-minute budget of Okta's `groups` rate-limit bucket, starting `lead` seconds before the
 *   emulator's window ends: the connector must hold its calls until X-Rate-Limit-Reset instead of
 *   drawing 429s. Timed from the command to the review being open (every row assigned).
 * - Messages paged: the reviewer's one message, turned with Next through every page (each turn a
 *   click, then chat.update by the outbox); every version must hold at most 50 blocks.
 * - Decisions: a Keep or Revoke for every row, signed as Slack sends them, 50 in flight, under
 *   Okta's default `groups` limit (500/min) for the removals; then until the review is closed
 *   (every Jira comment, revocation and update landed).
 * The bot's memory (RSS, heap) is sampled throughout.
 */
import { runReview } from '../src/review-cli.js';
import type { Obj } from '../test/emulators/slack.js';
import { APP, APPROVER, BenchEnv, GROUP, person, ROLE } from './env.js';
import { Seeder, seedIssue } from './seed.js';
import { mb, ms, pct, pool, round, rounded, sleep, summarize, type Row, type Summary } from './stats.js';

const DAY = 86_400_000;

export interface ReviewResult {
  members: number;
  grants: number;
  revokes: number;
  perMinute: number;
  leadSec: number;
  /** From the command to the review being open, and to the reviewer's message being posted. */
  listMs: number;
  postedMs: number;
  listPages: number;
  tooManyRequests: number;
  pages: number;
  pageTurn: Summary;
  maxBlocks: number;
  decisions: number;
  decideMs: number;
  decisionsPerSecond: number;
  ack: Summary;
  /** From the first decision until the review closed and the outbox drained. */
  closeMs: number;
  removed: number;
  jiraComments: number;
  rssStartMb: number;
  rssPeakMb: number;
  heapPeakMb: number;
}

export async function measureReview(opts: { members: number; grants: number; revokes: number; perMinute: number; leadSec: number; log: (s: string) => void }): Promise<{ result: ReviewResult; rows: Row[] }> {
  const n = opts.members;
  const env = await new BenchEnv({ people: 0 }).start();
  try {
    const now = Date.now();
    const members = Array.from({ length: n }, (_, i) => person(i));
    members.forEach((p, i) => {
      // A tenth never signed in, a tenth not for 200 days, the others within the last 80 days.
      const lastLogin = i % 10 === 0 ? null : i % 10 === 1 ? now - 200 * DAY : now - (i % 80) * DAY;
      env.okta.addUser({ id: p.oktaId, login: p.email, email: p.email, firstName: 'User', lastName: p.name.split(' ')[1]!, title: 'Engineer', department: `Team ${i % 40}`, lastLogin });
      env.okta.addMember(GROUP, p.oktaId);
    });
    // The first `grants` members hold a permanent grant of the bot (seeded, with its Jira issue);
    // they are in Slack, which tells them when a review ends it.
    const db = env.openForSeeding();
    const seeder = new Seeder(db);
    db.transaction(() => {
      for (let i = 0; i < opts.grants; i++) {
        const p = members[i]!;
        env.slack.addUser({ id: p.slackId, email: p.email, realName: p.name });
        const id = `req_rv${String(i).padStart(7, '0')}`;
        seeder.activeGrant(id, p, i + 1, now - DAY, null);
        seedIssue(env.jira, i + 1, id, 'Provisioned');
      }
    })();
    db.close();
    const ready = await env.startBot();

    let rssPeak = ready.memory.rss;
    let heapPeak = ready.memory.heapUsed;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const m = (await env.rpc<{ memory: NodeJS.MemoryUsage }>('stats').catch(() => undefined))?.memory;
        if (m) {
          rssPeak = Math.max(rssPeak, m.rss);
          heapPeak = Math.max(heapPeak, m.heapUsed);
        }
        await sleep(250);
      }
    })();

    // The listing's budget, with the emulator's clock `lead` seconds before the end of a window.
    const real = Date.now();
    const offset = (Math.floor(real / 60_000) + 2) * 60_000 - opts.leadSec * 1000 - real;
    env.okta.setRateLimit({ perMinute: opts.perMinute, bucket: 'groups', now: () => Date.now() + offset });
    const limitedBefore = env.okta.tooManyRequests;
    const callMark = env.okta.calls.length;

    const t0 = performance.now();
    const out: string[] = [];
    const err: string[] = [];
    if (runReview(['start', '--app', APP, '--role', ROLE, '--due', '14d'], { ...env.env(), USER: 'bench' }, (l) => out.push(l), (l) => err.push(l)) !== 0) throw new Error(`review start: ${err.join(' ')}`);
    const campaignId = /(rev_[A-Za-z0-9_-]+)/.exec(out[0] ?? '')?.[1];
    if (!campaignId) throw new Error(`review start said: ${out.join(' ')}`);
    const stateOf = env.db().prepare('SELECT state FROM review_campaigns WHERE id = ?').pluck();
    const deadline = Date.now() + 20 * 60_000;
    for (let s = stateOf.get(campaignId); s !== 'open'; s = stateOf.get(campaignId)) {
      if (s === 'failed' || s === 'closed' || Date.now() > deadline) throw new Error(`the review is ${String(s)}`);
      await sleep(20);
    }
    const listMs = performance.now() - t0;
    const listPages = env.okta.calls.slice(callMark).filter((c) => c.method === 'GET' && c.path === `/api/v1/groups/${GROUP}/users`).length;
    const tooManyRequests = env.okta.tooManyRequests - limitedBefore;
    const im = env.slack.imChannelFor(APPROVER.slackId);
    const message = () => env.slack.messages.find((m) => m.channel === im && m.text.includes('Access review'));
    while (!message()) await sleep(5);
    const postedMs = performance.now() - t0;
    const msg = message()!;
    opts.log(`  ${n} members listed in ${ms(listMs)} (${listPages} pages, ${opts.perMinute}/min Okta budget starting ${opts.leadSec} s before a window ends, ${tooManyRequests} 429s); message posted after ${ms(postedMs)}`);
    // Okta's own default for the bucket from here on (the removals are in it too).
    env.okta.setRateLimit({ perMinute: 500, bucket: 'groups', now: Date.now });

    // Every page, with Next.
    const progress = () => JSON.stringify(env.slack.findMessage(msg.channel, msg.ts)!.blocks.find((b) => b.block_id === 'review_progress') ?? {});
    const pages = Number(/Page 1 of (\d+)/.exec(progress())?.[1] ?? 1);
    const turns: number[] = [];
    for (let p = 1; p < pages; p++) {
      const element: Obj = { type: 'button', action_id: 'review_page_next', text: { type: 'plain_text', text: 'Next ▶' }, value: `${campaignId}:${p}` };
      const a = performance.now();
      const r = await env.post(env.buttonBody(APPROVER.slackId, msg, { blockId: 'review_pages', element }));
      if (r.status !== 200) throw new Error(`Next answered ${r.status}`);
      const want = `Page ${p + 1} of ${pages}`;
      while (!progress().includes(want)) await sleep(1);
      turns.push(performance.now() - a);
    }
    opts.log(`  ${pages} pages turned: ${pct(summarize(turns))} from the click to the updated message`);

    // A decision for every row: Revoke for `revokes` of them (half granted, half standing), Keep for the rest.
    const rows = env.db().prepare('SELECT seq, idp_user_id AS idp FROM review_items WHERE campaign_id = ? ORDER BY seq').all(campaignId) as { seq: number; idp: string }[];
    const granted = new Set(members.slice(0, opts.grants).map((p) => p.oktaId));
    const revoke = new Set([...rows.filter((r) => granted.has(r.idp)).slice(0, Math.ceil(opts.revokes / 2)), ...rows.filter((r) => !granted.has(r.idp)).slice(0, Math.floor(opts.revokes / 2))].map((r) => r.seq));
    const bodies = rows.map(({ seq }) => {
      const value = `${campaignId}:${seq}`;
      if (!revoke.has(seq)) {
        const element: Obj = { type: 'button', action_id: 'review_keep', text: { type: 'plain_text', text: 'Keep' }, style: 'primary', value };
        return { body: env.buttonBody(APPROVER.slackId, msg, { blockId: `review_item:${seq}`, element }), type: 'application/x-www-form-urlencoded' };
      }
      const view: Obj = {
        id: `VREV${seq}`,
        type: 'modal',
        callback_id: 'review_revoke_reason',
        private_metadata: value,
        state: { values: { reason: { reason: { type: 'plain_text_input', value: 'Bench: no longer needed' } } } },
      };
      return { body: env.viewSubmissionBody(APPROVER.slackId, view), type: 'application/x-www-form-urlencoded' };
    });
    const acks: number[] = [];
    const d0 = performance.now();
    await pool(bodies.length, 50, async (i) => {
      const r = await env.post(bodies[i]!.body, bodies[i]!.type);
      if (r.status !== 200) throw new Error(`decision answered ${r.status} ${r.text}`);
      acks.push(r.ms);
    });
    const decideMs = performance.now() - d0;
    for (let s = stateOf.get(campaignId); s !== 'closed'; s = stateOf.get(campaignId)) {
      if (Date.now() > deadline) throw new Error(`the review is still ${String(s)}`);
      await sleep(20);
    }
    await env.idle(600_000);
    const closeMs = performance.now() - d0;
    sampling = false;
    await sampler;

    const tally = env.db().prepare("SELECT COUNT(*) AS total, SUM(decision IS NULL) AS undecided, SUM(revoke_state = 'removed') AS removed FROM review_items WHERE campaign_id = ?").get(campaignId) as { total: number; undecided: number; removed: number };
    const key = env.db().prepare('SELECT jira_key FROM review_campaigns WHERE id = ?').pluck().get(campaignId) as string;
    const jiraComments = env.jira.issues.get(key)?.comments.length ?? 0;
    const inGroup = env.okta.members(GROUP).length;
    if (tally.total !== n || tally.undecided !== 0 || tally.removed !== revoke.size || inGroup !== n - revoke.size) {
      throw new Error(`review ended wrong: ${JSON.stringify(tally)}, ${inGroup} still in the group`);
    }
    const maxBlocks = Math.max(...[...msg.history, env.slack.findMessage(msg.channel, msg.ts)!].map((v) => v.blocks.length));
    const ack = summarize(acks);
    const result: ReviewResult = {
      members: n,
      grants: opts.grants,
      revokes: revoke.size,
      perMinute: opts.perMinute,
      leadSec: opts.leadSec,
      listMs: round(listMs, 0),
      postedMs: round(postedMs, 0),
      listPages,
      tooManyRequests,
      pages,
      pageTurn: rounded(summarize(turns)),
      maxBlocks,
      decisions: bodies.length,
      decideMs: round(decideMs, 0),
      decisionsPerSecond: round((bodies.length / decideMs) * 1000, 1),
      ack: rounded(ack),
      closeMs: round(closeMs, 0),
      removed: tally.removed,
      jiraComments,
      rssStartMb: round(ready.memory.rss / 1024 / 1024, 0),
      rssPeakMb: round(rssPeak / 1024 / 1024, 0),
      heapPeakMb: round(heapPeak / 1024 / 1024, 0),
    };
    opts.log(
      `  ${bodies.length} decisions (${revoke.size} revoke) at ${result.decisionsPerSecond}/s, ack ${pct(ack)}; closed ${ms(closeMs)} after the first (${tally.removed} removed, ${jiraComments} Jira comments); ` +
        `bot RSS ${mb(ready.memory.rss)} at start, peak ${mb(rssPeak)}, heap peak ${mb(heapPeak)}; at most ${maxBlocks} blocks in a version of the message`,
    );
    const rowsOut: Row[] = [
      {
        id: 'review-list',
        measurement: `Access review of ${n.toLocaleString('en')} members: listing under Okta's limit (${opts.perMinute}/min on its groups bucket, from ${opts.leadSec} s before a window ends), until every row is assigned`,
        result: `${ms(listMs)} (${listPages} pages of 200), ${tooManyRequests} 429s; reviewer's message posted ${ms(postedMs)} after the command`,
        target: 'no 429 (the connector waits for the reset)',
        pass: tooManyRequests === 0,
      },
      {
        id: 'review-pages',
        measurement: `Its message paged: Next through ${pages} pages, click → updated message`,
        result: `${pct(result.pageTurn)}; at most ${maxBlocks} blocks in any version`,
        target: '≤ 50 blocks',
        pass: maxBlocks <= 50,
      },
      {
        id: 'review-decide',
        measurement: `Its decisions: ${bodies.length.toLocaleString('en')} (${revoke.size} Revoke with a reason, half of them ending grants), 50 in flight`,
        result: `${result.decisionsPerSecond}/s, ack ${pct(ack)}; review closed ${ms(closeMs)} after the first (every comment, removal and update landed: ${jiraComments.toLocaleString('en')} Jira comments)`,
        target: '',
      },
      {
        id: 'review-memory',
        measurement: 'Its memory: the bot process during the review',
        result: `RSS ${result.rssStartMb} MB at start, peak ${result.rssPeakMb} MB; heap peak ${result.heapPeakMb} MB`,
        target: '',
      },
    ];
    return { result, rows: rowsOut };
  } finally {
    await env.close();
  }
}
