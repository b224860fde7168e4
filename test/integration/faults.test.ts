/**
 * Faults the services throw at the bot, and what the bot must do (issue 3):
 * - Jira down (503, connection refused, reset connections, hanging past a short timeout, writes
 *   whose answer is lost) while requests keep flowing: approvals and grants proceed, and when
 *   Jira returns every issue and comment lands, in order, exactly once.
 * - Rate limits (Jira and Slack 429 with Retry-After, Okta 429 with X-Rate-Limit-*): honoured,
 *   not hammered; the 429s are counted.
 * - Permanent errors: no endless retries; the request ends failed with the cause, the requester
 *   is told, the Jira issue says why, the admin channel is alerted; a dead effect runs again
 *   through the admin entry point (`access-bot effects retry <id>`) once the cause is fixed.
 * - Shutdown: SIGTERM with effects in flight stops taking work, finishes or releases them and
 *   exits 0 (the real process, `src/main.ts`).
 * - Duplicates: the same signed payload replayed (Slack retries), concurrent double clicks by one
 *   or several approvers, re-submitted modals: one decision, one grant, one comment each.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { JiraCloudRecord } from '../../src/adapters/jira/record.js';
import { runEffects } from '../../src/effects-cli.js';
import { DEFAULT_WORKFLOW } from '../emulators/jira.js';
import type { Obj } from '../emulators/slack.js';
import { buttonClick, ChaosWorld, formBody, requestState, viewSubmission } from '../support/chaos/index.js';
import { catalogYaml } from '../support/fixtures.js';
import { GROUPS, Harness, JIRA_TOKEN, PEOPLE, waitUntil, type HarnessOptions, type Person } from '../support/harness.js';
import { runEntry } from '../support/process.js';

const { alice, bob, carol, dave } = PEOPLE;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The first words of each comment: the step, as the architecture words it. */
function steps(comments: string[]): string[] {
  return comments.map((c) => {
    const m = /^(Requested by|Approval requested|Approved by|Denied by|Access granted|Access revoked|Failed|Retried by|Stage \d+)/.exec(c);
    return m ? m[1]! : c.slice(0, 20);
  });
}

const STORY = ['Requested by', 'Approval requested', 'Approved by', 'Access granted', 'Access revoked'];

/** One issue for the request, carrying exactly `expected` steps in order; returns the issue key. */
function assertStory(h: Harness, id: string, expected: string[], status?: string): string {
  const issues = h.jira.issuesWithLabel(`access-bot-${id}`);
  assert.equal(issues.length, 1, `one Jira issue for ${id}, found ${issues.length}`);
  const issue = issues[0]!;
  assert.deepEqual(steps(h.jira.commentsText(issue.key)), expected, `the story of ${id} on ${issue.key}`);
  if (status) assert.equal(issue.status, status, `${issue.key} status`);
  return issue.key;
}

const state = (h: Harness, id: string) => h.bot.store.getRequest(id)?.state;

/** A harness whose Jira client gives up after `timeoutMs` (the bot's default is 15 s). */
async function harnessWithJiraTimeout(timeoutMs: number, opts: HarnessOptions = {}): Promise<Harness> {
  const compose: NonNullable<HarnessOptions['compose']> = { ...opts.compose };
  const h = await new Harness({ ...opts, compose }).start();
  compose.jira = JiraCloudRecord.fromConfig({ host: h.jira.url, email: 'access-bot@example.com', apiToken: JIRA_TOKEN, timeoutMs });
  await h.restart();
  return h;
}

function catalog(o: { project?: string; group?: string; approvers?: string[] } = {}): string {
  return catalogYaml({
    jira: { project: o.project },
    applications: [
      {
        id: 'okta-console',
        name: 'Okta admin console',
        owners: ['bob@example.com'],
        roles: [{ id: 'read-only', name: 'Read-only', group: o.group ?? GROUPS.readOnly, durations: ['2s', '3s', '4h'], approvers: o.approvers ?? ['owners'] }],
      },
    ],
  });
}

/** Admin channel messages that mention the request (by id or Jira key). */
function adminAlerts(h: Harness, id: string): string[] {
  const key = h.bot.store.getRequest(id)?.jiraKey;
  return h.slack.messages.filter((m) => m.channel === 'C0ADMIN' && (m.text.includes(id) || (key !== null && key !== undefined && m.text.includes(key)))).map((m) => m.text);
}

function deadEffects(h: Harness, id: string) {
  return h.bot.outbox.dead().filter((e) => e.requestId === id || JSON.stringify(e.payload).includes(id));
}

/** `access-bot effects retry <id>`, the admin entry point, run in-process on the bot's database. */
function adminRetry(h: Harness, effectId: number): { code: number; out: string } {
  const lines: string[] = [];
  const code = runEffects(['retry', String(effectId)], { ...h.databaseEnv, USER: 'ops' }, (l) => lines.push(l), (l) => lines.push(l));
  return { code, out: lines.join('\n') };
}

// -------------------------------------------------------------------------------------------------

describe('Jira down while requests keep flowing', () => {
  test('503 for a while: approvals, grants and revocations proceed; on recovery every issue and comment lands once, in order', async () => {
    const h = await new Harness().start();
    try {
      h.jira.outage();
      const ids = [await h.request(alice, { duration: '2s' }), await h.request(carol, { duration: '2s' }), await h.request(dave, { duration: '2s' })];
      for (const id of ids) await h.click(bob, id, 'approve');
      for (const id of ids) await waitUntil(() => state(h, id) === 'revoked', 10_000, `${id} revoked while Jira is down`);
      assert.ok(
        ids.every((id) => h.bot.store.getRequest(id)!.jiraKey === null),
        'no issue could be created',
      );
      assert.ok(h.jira.calls.filter((c) => c.status === 503).length > 0, 'Jira was asked and answered 503');
      assert.equal(h.okta.members(GROUPS.readOnly).length, 0, 'granted and revoked in Okta meanwhile');
      assert.equal(h.okta.addCalls, 3);
      h.jira.recover();
      await waitUntil(() => ids.every((id) => h.jira.issuesWithLabel(`access-bot-${id}`)[0]?.comments.length === STORY.length), 15_000, 'the backlog drained');
      await h.idle();
      for (const id of ids) assertStory(h, id, STORY, 'Done');
      assert.equal(h.jira.issues.size, 3, 'no stray issue');
    } finally {
      await h.stop();
    }
  });

  test('connection refused (Jira gone, then back on the same port): everything lands once, in order', async () => {
    const h = await new Harness().start();
    try {
      const port = Number(new URL(h.jira.url).port);
      await h.jira.stop();
      const ids = [await h.request(alice, { duration: '2s' }), await h.request(dave, { duration: '4h' })];
      for (const id of ids) await h.click(bob, id, 'approve');
      await waitUntil(() => state(h, ids[0]!) === 'revoked' && state(h, ids[1]!) === 'active', 10_000, 'granted (and one revoked) with Jira gone');
      const retried = h.bot.dispatcher.stats.byKind['jira.create']?.retry ?? 0;
      assert.ok(retried > 0, 'the issue creation was retried');
      await h.jira.start(port);
      await waitUntil(() => ids.every((id) => (h.jira.issuesWithLabel(`access-bot-${id}`)[0]?.comments.length ?? 0) >= 4), 15_000, 'the backlog drained');
      await h.idle();
      assertStory(h, ids[0]!, STORY, 'Done');
      assertStory(h, ids[1]!, STORY.slice(0, 4), 'Active');
    } finally {
      await h.stop();
    }
  });

  test('hanging past a short timeout, reset connections and lost answers: every issue and comment exactly once', async () => {
    const h = await harnessWithJiraTimeout(300);
    try {
      // Every call hangs for a while: the client gives up after 300 ms and the outbox retries.
      const unhang = h.jira.inject({ hang: true });
      const a = await h.request(alice, { duration: '2s' });
      await h.click(bob, a, 'approve');
      await waitUntil(() => state(h, a) === 'active', 10_000, 'granted while Jira hangs');
      await waitUntil(() => h.jira.calls.filter((c) => c.response === 'hang').length >= 3, 10_000, 'several calls hung');
      unhang();
      // Then connections reset, and writes whose answer never comes (carried out, unanswered).
      h.jira.inject({ drop: true, times: 4 });
      h.jira.swallowResponse({ method: 'POST', path: '/rest/api/3/issue', times: 1 });
      h.jira.swallowResponse({ method: 'POST', path: /\/comment$/, times: 3 });
      const d = await h.request(dave, { duration: '2s' });
      await h.click(bob, d, 'approve');
      for (const id of [a, d]) await waitUntil(() => state(h, id) === 'revoked', 10_000, `${id} revoked`);
      await waitUntil(() => [a, d].every((id) => h.jira.issuesWithLabel(`access-bot-${id}`)[0]?.comments.length === STORY.length), 20_000, 'every comment landed');
      await h.idle(15_000);
      assert.ok(h.jira.calls.some((c) => c.response === 'drop'), 'connections were reset');
      for (const id of [a, d]) assertStory(h, id, STORY, 'Done');
      assert.equal(h.jira.issues.size, 2, 'a create whose answer was lost is adopted, not repeated');
    } finally {
      await h.stop();
    }
  });
});

// -------------------------------------------------------------------------------------------------

describe('rate limits are honoured, not hammered', () => {
  let h: Harness;
  before(async () => {
    h = await new Harness().start();
  });
  after(async () => {
    await h.stop();
  });

  test('Jira 429 with Retry-After: 1 for 2.5 s: each request line comes back about once a second', async () => {
    const from = h.jira.calls.length;
    const stop = h.jira.rateLimit(10_000, 1);
    const t0 = Date.now();
    const ids = [await h.request(alice), await h.request(carol), await h.request(dave)];
    await sleep(Math.max(0, 2500 - (Date.now() - t0)));
    stop();
    const window = (Date.now() - t0) / 1000;
    await waitUntil(() => ids.every((id) => (h.jira.issuesWithLabel(`access-bot-${id}`)[0]?.comments.length ?? 0) >= 2), 10_000, 'the issues and first comments landed');
    const limited = h.jira.calls.slice(from).filter((c) => c.status === 429).length;
    // One Jira line per request and only its head runs: told "1 s", each line asks at most about
    // once a second. Our own backoff in this harness (20–200 ms) would have asked ~10x as often.
    const bound = ids.length * (Math.ceil(window) + 1);
    assert.ok(limited >= ids.length, `each line met the limit (${limited} 429s)`);
    assert.ok(limited <= bound, `no retry storm: ${limited} 429s in ${window.toFixed(1)} s for ${ids.length} lines (bound ${bound})`);
    await h.idle();
    for (const id of ids) assert.deepEqual(steps(h.jira.commentsText(h.bot.store.getRequest(id)!.jiraKey!)), STORY.slice(0, 2));
  });

  test('Slack 429 with Retry-After: 1 on chat.postMessage for 2.5 s: DMs wait, then each lands once', async () => {
    const from = h.slack.calls.length;
    const stop = h.slack.rateLimit('chat.postMessage', 10_000, 1);
    const t0 = Date.now();
    const ids = [await h.request(alice), await h.request(carol)];
    await sleep(Math.max(0, 2500 - (Date.now() - t0)));
    stop();
    const window = (Date.now() - t0) / 1000;
    for (const id of ids) await h.approverMessage(bob, id);
    await h.idle();
    const limited = h.slack.calls.slice(from).filter((c) => c.status === 429).length;
    // Lines that post: each requester's confirmation, and one card per approver (alice's request
    // asks bob; carol's asks bob and alice) — 5 lines. After a 429 every post waits for its
    // Retry-After, whatever its line: about one 429 a second, plus posts already on their way.
    const lines = 5;
    const bound = Math.ceil(window) + lines;
    assert.ok(limited >= 1, 'the posts met the limit');
    assert.ok(limited <= bound, `no retry storm: ${limited} 429s in ${window.toFixed(1)} s for ${lines} lines (bound ${bound})`);
    for (const id of ids) {
      const cards = h.slack.dmsTo(bob.slackId).filter((m) => JSON.stringify(m.blocks).includes(`request:${id}`));
      assert.equal(cards.length, 1, `one card for ${id}`);
    }
  });

  test('Okta 429 with X-Rate-Limit-Reset: grants wait for the reset, once each', async () => {
    const ids = [await h.request(alice, { role: 'super-admin', duration: '30m' }), await h.request(dave, { role: 'super-admin', duration: '30m' })];
    for (const id of ids) await h.approverMessage(bob, id);
    await h.idle();
    const from = h.okta.calls.length;
    const resetAt = Math.ceil(Date.now() / 1000) + 2;
    const stop = h.okta.inject({
      status: 429,
      headers: { 'X-Rate-Limit-Limit': '600', 'X-Rate-Limit-Remaining': '0', 'X-Rate-Limit-Reset': String(resetAt) },
      body: { errorCode: 'E0000047', errorSummary: 'API call exceeded rate limit due to too many requests.', errorLink: 'E0000047', errorId: 'oae-rate', errorCauses: [] },
    });
    const lift = setTimeout(stop, resetAt * 1000 - Date.now() - 20);
    try {
      for (const id of ids) await h.click(bob, id, 'approve');
      for (const id of ids) await waitUntil(() => state(h, id) === 'active', 12_000, `${id} granted after the reset`);
    } finally {
      clearTimeout(lift);
      stop();
    }
    const calls = h.okta.calls.slice(from);
    const limited = calls.filter((c) => c.status === 429);
    assert.ok(limited.length >= ids.length, `each grant met the limit (${limited.length})`);
    assert.ok(limited.length <= ids.length * 2, `no retry storm: ${limited.length} 429s for ${ids.length} grants`);
    const early = calls.filter((c) => c.status !== 429 && c.at < resetAt * 1000 - 50);
    assert.deepEqual(early.map((c) => `${c.method} ${c.path}`), [], 'nothing called Okta again before X-Rate-Limit-Reset');
    assert.equal(calls.filter((c) => c.method === 'PUT' && c.status === 204).length, ids.length, 'one membership add per grant');
  });
});

// -------------------------------------------------------------------------------------------------

describe('permanent errors: no endless retries, a clear end, the admin can retry once fixed', () => {
  test('IdP user not found: failed with the cause, everyone told; `access-bot effects retry` completes it once the user exists', async () => {
    const h = await new Harness().start();
    try {
      const erin: Person = { slackId: 'U0ERIN', email: 'erin@example.com', name: 'Erin Green', oktaId: '00u1erin' };
      h.slack.addUser({ id: erin.slackId, email: erin.email, realName: erin.name });
      const id = await h.request(erin, { duration: '2s' });
      await h.click(bob, id, 'approve');
      await waitUntil(() => state(h, id) === 'failed', 10_000, 'failed');
      await h.idle();
      const r = h.bot.store.getRequest(id)!;
      assert.match(r.failure ?? '', /no okta user has the email erin@example\.com/);
      const dead = deadEffects(h, id);
      assert.deepEqual(
        dead.map((e) => [e.kind, e.attempts]),
        [['idp.resolveUser', 1]],
        'one dead lookup of the IdP user, tried once (the grant was never enqueued)',
      );
      const oktaCalls = h.okta.calls.length;
      await sleep(600);
      assert.equal(h.okta.calls.length, oktaCalls, 'no retries after it died');
      assert.match(h.slack.dmsTo(erin.slackId).at(-1)!.text, /failed: granting access failed: no okta user has the email erin@example\.com/);
      assertStory(h, id, ['Requested by', 'Approval requested', 'Approved by', 'Failed']);
      assert.match(h.jiraComments(id).at(-1)!, /^Failed: granting access failed: no okta user has the email erin@example\.com/);
      assert.ok(adminAlerts(h, id).some((t) => /no okta user has the email erin@example\.com/.test(t)), 'the admin channel was alerted with the cause');

      // Fixed: the user exists now. The admin entry point, as an operator runs it (the real CLI).
      h.okta.addUser({ id: erin.oktaId, login: erin.email, email: erin.email, firstName: 'Erin', lastName: 'Green' });
      const { code, out } = await runEntry('src/cli.ts', ['effects', 'retry', String(dead[0]!.id)], { ...h.databaseEnv, USER: 'ops' });
      assert.equal(code, 0, out);
      await waitUntil(() => state(h, id) === 'revoked', 12_000, 'granted, then expired and revoked');
      await h.idle();
      assertStory(h, id, ['Requested by', 'Approval requested', 'Approved by', 'Failed', 'Retried by', 'Access granted', 'Access revoked'], 'Done');
      assert.equal(h.okta.isMember(GROUPS.readOnly, erin.oktaId), false);
      assert.deepEqual(deadEffects(h, id), []);
    } finally {
      await h.stop();
    }
  });

  test('group not found: failed with the cause; once the group exists, a retry grants and expiry revokes', async () => {
    const h = await new Harness({ catalog: catalog({ group: '00g1missing' }) }).start();
    try {
      const id = await h.request(alice, { duration: '2s' });
      await h.click(bob, id, 'approve');
      await waitUntil(() => state(h, id) === 'failed', 10_000, 'failed');
      await h.idle();
      assert.match(h.bot.store.getRequest(id)!.failure ?? '', /Okta group 00g1missing not found/);
      const dead = deadEffects(h, id);
      assert.deepEqual(
        dead.map((e) => [e.kind, e.attempts]),
        [['idp.grant', 1]],
      );
      assert.match(h.slack.dmsTo(alice.slackId).at(-1)!.text, /failed: .*Okta group 00g1missing not found/);
      assert.match(h.jiraComments(id).at(-1)!, /^Failed: .*Okta group 00g1missing not found/);
      assert.ok(adminAlerts(h, id).some((t) => /00g1missing not found/.test(t)));

      h.okta.addGroup({ id: '00g1missing', name: 'Created by the admin' });
      const retry = adminRetry(h, dead[0]!.id);
      assert.equal(retry.code, 0, retry.out);
      await waitUntil(() => h.okta.isMember('00g1missing', alice.oktaId), 10_000, 'granted after the retry');
      await waitUntil(() => state(h, id) === 'revoked', 10_000, 'revoked at expiry');
      await waitUntil(() => !h.okta.isMember('00g1missing', alice.oktaId), 3000, 'removed');
      await h.idle();
      assertStory(h, id, ['Requested by', 'Approval requested', 'Approved by', 'Failed', 'Retried by', 'Access granted', 'Access revoked'], 'Done');
    } finally {
      await h.stop();
    }
  });

  test(
    "a grant that died does not hold back the person's next request for the same group",
    async () => {
      const h = await new Harness({ catalog: catalog({ group: '00g1missing' }) }).start();
      try {
        const first = await h.request(alice, { duration: '2s' });
        await h.click(bob, first, 'approve');
        await waitUntil(() => state(h, first) === 'failed', 10_000, 'failed');
        await h.idle();
        h.okta.addGroup({ id: '00g1missing', name: 'Created by the admin' });
        // Nobody retries the first (it ended failed, she asked again instead).
        const second = await h.request(alice, { duration: '2s', reason: 'Asking again now that the group exists' });
        await h.click(bob, second, 'approve');
        await waitUntil(() => state(h, second) === 'revoked', 6000, 'the new request is granted and revoked');
      } finally {
        await h.stop();
      }
    },
  );

  test(
    'a grant that died on a missing group leaves no ownership behind: a membership added by hand later survives the next grant',
    async () => {
      const h = await new Harness({ catalog: catalog({ group: '00g1missing' }) }).start();
      try {
        const first = await h.request(alice, { duration: '2s' });
        await h.click(bob, first, 'approve');
        await waitUntil(() => state(h, first) === 'failed', 10_000, 'failed');
        await h.idle();
        assert.equal(h.bot.sql.value("SELECT COUNT(*) FROM memberships WHERE group_id = '00g1missing'"), 0, 'no ownership record for a membership that was never added');
        // The admin creates the group and adds Alice by hand: a membership access-bot does not own.
        h.okta.addGroup({ id: '00g1missing', name: 'Created by the admin' });
        h.okta.addMember('00g1missing', alice.oktaId);
        const second = await h.request(alice, { duration: '2s', reason: 'Temporary grant on top of my own membership' });
        await h.click(bob, second, 'approve');
        await waitUntil(() => state(h, second) === 'revoked', 12_000, 'the temporary grant ended');
        await h.idle();
        assert.match(h.jiraComments(second).find((c) => c.startsWith('Access granted'))!, /already a member before this grant/);
        assert.equal(h.okta.isMember('00g1missing', alice.oktaId), true, 'the membership added by hand is kept');
      } finally {
        await h.stop();
      }
    },
  );

  test(
    'the IdP user deleted while the grant was active: the revocation ends the request instead of leaving it "being revoked" forever',
    async () => {
      const h = await new Harness().start();
      try {
        const id = await h.request(alice, { duration: '2s' });
        await h.click(bob, id, 'approve');
        await waitUntil(() => state(h, id) === 'active', 10_000, 'active');
        h.okta.removeUser(alice.oktaId); // offboarded: the account and its memberships are gone
        await waitUntil(() => state(h, id) !== 'active', 10_000, 'expiry started');
        await h.idle();
        assert.equal(state(h, id), 'revoked', `state ${String(state(h, id))}; dead: ${h.bot.outbox.dead().map((e) => e.lastError).join('; ')}`);
        assert.ok(!h.jiraComments(id).some((c) => /still in place/.test(c)), 'no false "membership is still in place"');
      } finally {
        await h.stop();
      }
    },
  );

  test('Slack users_not_found for every approver: failed at once with the cause, requester, Jira and admins told', async () => {
    const h = await new Harness({ catalog: catalog({ approvers: ['nobody@example.com'] }) }).start();
    try {
      const id = await h.request(alice);
      await waitUntil(() => state(h, id) === 'failed', 10_000, 'failed');
      await h.idle();
      assert.match(h.bot.store.getRequest(id)!.failure ?? '', /no approver could be resolved for stage 1 \(nobody@example\.com\)/);
      assert.ok(h.slack.calls.some((c) => c.path === '/api/users.lookupByEmail' && (c.response as Obj | undefined)?.error === 'users_not_found'));
      assert.match(h.slack.dmsTo(alice.slackId).at(-1)!.text, /failed: no approver could be resolved/);
      assertStory(h, id, ['Requested by', 'Failed']);
      assert.ok(adminAlerts(h, id).some((t) => /no approver could be resolved/.test(t)));
      assert.deepEqual(deadEffects(h, id), [], 'a handled outcome, not a dead effect');
    } finally {
      await h.stop();
    }
  });

  test('ADMIN_CHANNEL not found: the alert dies after one try; the request still ends failed, told to the requester and on Jira', async () => {
    const h = await new Harness({ env: { ADMIN_CHANNEL: 'C0GONE' } }).start();
    try {
      const erin: Person = { slackId: 'U0ERIN', email: 'erin@example.com', name: 'Erin Green', oktaId: '00u1erin' };
      h.slack.addUser({ id: erin.slackId, email: erin.email, realName: erin.name });
      const id = await h.request(erin);
      await h.click(bob, id, 'approve');
      await waitUntil(() => state(h, id) === 'failed', 10_000, 'failed');
      await h.idle();
      const alert = h.bot.outbox.dead().find((e) => e.kind === 'slack.alert');
      assert.ok(alert, 'the alert is dead');
      assert.equal(alert.attempts, 1);
      assert.match(alert.lastError ?? '', /channel_not_found/);
      assert.match(h.slack.dmsTo(erin.slackId).at(-1)!.text, /failed/);
      assert.match(h.jiraComments(id).at(-1)!, /^Failed: /);
    } finally {
      await h.stop();
    }
  });

  test(
    "Slack channel_not_found for the only approver's DM: the admins are alerted and the request does not wait forever",
    async () => {
      const h = await new Harness().start();
      try {
        // Bob is found by email, then deactivated before his DM goes out: chat.postMessage answers channel_not_found.
        void h.slack
          .waitFor((c) => c.path === '/api/users.lookupByEmail' && JSON.stringify(c.body).includes(bob.email), 5000)
          .then(() => h.slack.addUser({ id: bob.slackId, email: bob.email, realName: bob.name, deleted: true }));
        const id = await h.request(alice);
        await waitUntil(() => h.bot.outbox.dead().some((e) => e.kind === 'slack.approverDm'), 10_000, 'the approver DM died');
        await h.idle();
        const dead = h.bot.outbox.dead().find((e) => e.kind === 'slack.approverDm')!;
        assert.equal(dead.attempts, 1, 'no endless retries');
        assert.match(dead.lastError ?? '', /channel_not_found/);
        assert.ok(adminAlerts(h, id).length > 0, 'the admin channel was alerted');
        assert.equal(state(h, id), 'failed', 'nobody can decide it: it ends failed, with the cause');
        assert.match(h.slack.dmsTo(alice.slackId).at(-1)!.text, /failed/);
      } finally {
        await h.stop();
      }
    },
  );

  test(
    'a refusal that could not be delivered does not silence the next refusals to the same person',
    async () => {
      const h = await new Harness().start();
      try {
        const id = await h.request(alice, { duration: '4h' });
        const card = await h.approverMessage(bob, id);
        await h.idle();
        // Carol may not decide. Her first refusal can't go where she clicked: no response_url, a channel that does not exist.
        const body = formBody({ ...buttonClick(h.slack, { userId: carol.slackId, actionId: 'approve', message: card }), response_url: undefined, channel: { id: 'C0NOPE' }, container: { type: 'message', channel_id: 'C0NOPE' } });
        assert.equal((await h.driver.raw(body, { 'Content-Type': 'application/x-www-form-urlencoded', ...h.driver.sign(body) })).status, 200);
        // The ephemeral is refused there (channel_not_found); she is told by DM instead, and nothing is left dead.
        await h.slack.waitForDm(carol.slackId, (m) => /not an approver/.test(m.text), 5000);
        await h.idle();
        assert.equal(h.bot.outbox.dead().filter((e) => e.kind === 'slack.ephemeral').length, 0);
        // Her next click is an ordinary one: its refusal must reach her.
        await h.driver.clickButton(carol.slackId, card, 'approve');
        await h.slack.waitForResponseUrlPost((p) => p.context.user === carol.slackId && /not an approver/.test(String(p.body.text)), 3000);
      } finally {
        await h.stop();
      }
    },
  );

  test(
    'a response_url that is not a URL: the refusal falls back to the channel instead of retrying forever',
    async () => {
      const h = await new Harness().start();
      try {
        const id = await h.request(alice, { duration: '4h' });
        const card = await h.approverMessage(bob, id);
        await h.idle();
        const body = formBody(buttonClick(h.slack, { userId: carol.slackId, actionId: 'approve', message: card, responseUrl: 'not a url' }));
        assert.equal((await h.driver.raw(body, { 'Content-Type': 'application/x-www-form-urlencoded', ...h.driver.sign(body) })).status, 200);
        await sleep(1500);
        const e = h.bot.sql.get("SELECT status, attempts, last_error FROM outbox WHERE kind = 'slack.ephemeral' ORDER BY id DESC LIMIT 1") as { status: string; attempts: number; last_error: string | null };
        assert.equal(e.status, 'done', `the refusal is ${e.status} after ${e.attempts} attempts: ${e.last_error}`);
        // Carol is not in Bob's DM, so the ephemeral there is refused; she is told by DM instead.
        const told = [...h.slack.ephemeralsTo(carol.slackId), ...h.slack.dmsTo(carol.slackId)].some((m) => /not an approver/.test(m.text));
        assert.ok(told, 'Carol is told, by ephemeral or DM');
      } finally {
        await h.stop();
      }
    },
  );

  test(
    'one admin alert Slack refuses for good does not silence the later ones',
    async () => {
      const h = await new Harness().start();
      try {
        const erin: Person = { slackId: 'U0ERIN', email: 'erin@example.com', name: 'Erin Green', oktaId: '00u1erin' };
        h.slack.addUser({ id: erin.slackId, email: erin.email, realName: erin.name });
        // The bot was removed from the admin channel and may not post to channels it is not in.
        h.slack.scopes = h.slack.scopes.filter((sc) => sc !== 'chat:write.public');
        h.slack.addChannel({ id: 'C0ADMIN', name: 'access-admins', botIsMember: false });
        const first = await h.request(erin, { duration: '4h' });
        await h.click(bob, first, 'approve');
        await waitUntil(() => h.bot.outbox.dead().some((e) => e.kind === 'slack.alert'), 10_000, 'the first alert died (not_in_channel)');
        // Fixed: the bot is invited back. The next failure must reach the admins.
        h.slack.addChannel({ id: 'C0ADMIN', name: 'access-admins', botIsMember: true });
        // Another person without an Okta account (Erin's own next grant would wait behind her dead one).
        h.slack.addUser({ id: 'U0FRANK', email: 'frank@example.com', realName: 'Frank Gray' });
        const second = await h.request({ slackId: 'U0FRANK', email: 'frank@example.com', name: 'Frank Gray', oktaId: '00u1frank' }, { duration: '4h', reason: 'Second failure, after the fix' });
        await h.click(bob, second, 'approve');
        await waitUntil(() => state(h, second) === 'failed', 10_000, 'failed');
        await waitUntil(() => adminAlerts(h, second).length > 0, 3000, 'the second alert reached the admin channel');
      } finally {
        await h.stop();
      }
    },
  );

  test('Jira project missing: the issue creation dies after one try, the request fails closed; once the project exists a retry lands the record in order', async () => {
    const h = await new Harness({ catalog: catalog({ project: 'NOPE' }) }).start();
    try {
      const id = await h.request(alice, { duration: '2s' });
      await waitUntil(() => h.bot.outbox.dead().some((e) => e.kind === 'jira.create'), 10_000, 'the issue creation died');
      const dead = h.bot.outbox.dead().find((e) => e.kind === 'jira.create')!;
      assert.equal(dead.attempts, 1, 'tried once');
      assert.match(dead.lastError ?? '', /NOPE/);
      await waitUntil(() => h.slack.messages.some((m) => m.channel === 'C0ADMIN' && m.text.includes(id) && /NOPE/.test(m.text)), 10_000, 'admins alerted with the cause');
      // No record, no access: Bob's approval is refused, nothing is granted.
      await h.click(bob, id, 'approve');
      await h.idle();
      assert.equal(state(h, id), 'failed');
      assert.equal(h.okta.addCalls, 0);
      const jiraCalls = h.jira.calls.length;
      await sleep(500);
      assert.equal(h.jira.calls.length, jiraCalls, 'the comments behind the dead creation wait; nothing hammers Jira');

      h.jira.addProject({ key: 'NOPE', name: 'Access requests (new)' });
      const retry = adminRetry(h, dead.id);
      assert.equal(retry.code, 0, retry.out);
      const story = ['Requested by', 'Approval requested', 'Failed'];
      await waitUntil(() => (h.jira.issuesWithLabel(`access-bot-${id}`)[0]?.comments.length ?? 0) === story.length, 12_000, 'the record landed');
      await h.idle();
      const key = assertStory(h, id, story);
      assert.match(key, /^NOPE-/);
    } finally {
      await h.stop();
    }
  });

  test(
    'Jira project missing: the request ends failed with the cause and the requester is told (issue 3: "the request ends in a clear state")',
    async () => {
      const h = await new Harness({ catalog: catalog({ project: 'NOPE' }) }).start();
      try {
        const id = await h.request(alice);
        await waitUntil(() => h.bot.outbox.dead().some((e) => e.kind === 'jira.create'), 10_000, 'the issue creation died');
        await h.idle();
        assert.equal(state(h, id), 'failed');
        assert.match(h.slack.dmsTo(alice.slackId).at(-1)!.text, /failed: .*NOPE/);
      } finally {
        await h.stop();
      }
    },
  );

  test(
    'Jira transition missing: the Jira issue says why, and the comments behind it are not held back',
    async () => {
      const h = await new Harness().start();
      try {
        h.jira.setWorkflow({ ...DEFAULT_WORKFLOW, transitions: DEFAULT_WORKFLOW.transitions.filter((t) => t.name !== 'Provisioned') });
        const id = await h.request(alice, { duration: '2s' });
        await h.click(bob, id, 'approve');
        await waitUntil(() => state(h, id) === 'revoked', 12_000, 'revoked');
        await h.idle();
        const comments = h.jiraComments(id);
        assert.ok(
          comments.some((c) => /Provisioned/.test(c)),
          'a comment on the issue names the missing transition',
        );
        assert.ok(
          comments.some((c) => c.startsWith('Access revoked')),
          'the later steps still reached the issue',
        );
        assert.equal(h.bot.outbox.dead().length, 0, 'nothing is left dead');
        assert.ok(h.slack.messages.some((m) => m.channel === 'C0ADMIN' && /Provisioned/.test(m.text)), 'admins are told');
      } finally {
        await h.stop();
      }
    },
  );
});

// -------------------------------------------------------------------------------------------------

describe('shutdown (the real process)', () => {
  let w: ChaosWorld;
  before(async () => {
    w = await new ChaosWorld().start();
  });
  after(async () => {
    await w.stop();
  });

  async function submit(who: Person, role = 'short', duration = '3s'): Promise<string> {
    await w.bot.whenUp();
    const before = new Set(w.slack.views.keys());
    await w.driver().command(who.slackId);
    const view = await w.slack.waitForView((v) => v.userId === who.slackId && !before.has(v.id) && v.view.callback_id === 'access_request', 5000);
    const res = await w.driver().submitView(who.slackId, view.id, {
      application: { application: 'chaos-app' },
      role: { role },
      duration: { duration },
      reason: { reason: 'Shutdown test: effects in flight' },
    });
    assert.equal(res.status, 200);
    return w.requestBySubmission(view.id)!;
  }

  async function approveAll(ids: string[]): Promise<void> {
    for (const id of ids) {
      const card = await w.slack.waitForDm(bob.slackId, (m) => JSON.stringify(m.blocks).includes(`request:${id}`) && JSON.stringify(m.blocks).includes('"action_id":"approve"'), 10_000);
      await w.driver().clickButton(bob.slackId, card, 'approve');
    }
  }

  async function sigterm(): Promise<{ code: number | null; ms: number; refused: boolean }> {
    const url = w.bot.url;
    const t0 = Date.now();
    const exiting = w.bot.kill('SIGTERM');
    await sleep(300);
    // Stops taking work: a new Slack request is not served any more.
    const refused = await fetch(`${url}/slack/events`, { method: 'POST', body: 'x' }).then(
      () => false,
      () => true,
    );
    const exit = await exiting;
    return { code: exit.code, ms: Date.now() - t0, refused };
  }

  test('SIGTERM with slow effects in flight: stops taking work, finishes them, exits 0; after a restart nothing is lost or doubled', async () => {
    await w.bot.start();
    w.jira.latencyMs = 1500;
    const ids = [await submit(alice), await submit(dave)];
    await waitUntil(() => w.openEffects().running > 0, 10_000, 'effects in flight');
    const inFlight = w.sql().all<{ id: number }>("SELECT id FROM outbox WHERE status = 'running'").map((r) => r.id);
    const { code, ms, refused } = await sigterm();
    w.jira.latencyMs = 0;
    assert.equal(code, 0, w.bot.output().slice(-2000));
    assert.ok(ms < 10_000, `exited within 10 s (${ms} ms)`);
    assert.ok(refused, 'no new work taken after SIGTERM');
    assert.equal(w.openEffects().running, 0, 'nothing left running');
    const finished = w.sql().value<number>(`SELECT COUNT(*) FROM outbox WHERE status = 'done' AND id IN (${inFlight.join(',')})`);
    assert.equal(finished, inFlight.length, 'the effects in flight finished within the grace period');

    await w.bot.start();
    await approveAll(ids);
    for (const id of ids) await waitUntil(() => w.requestState(id) === 'revoked', 15_000, `${id} revoked`);
    await waitUntil(() => w.openEffects().pending + w.openEffects().running === 0, 15_000, 'quiet');
    for (const id of ids) {
      const issues = w.jira.issuesWithLabel(`access-bot-${id}`);
      assert.equal(issues.length, 1);
      assert.deepEqual(steps(w.jira.commentsText(issues[0]!.key)), STORY);
    }
    await w.bot.kill('SIGTERM');
  });

  test('SIGTERM while Jira hangs: effects that cannot finish are released, the process exits 0 within 10 s, and the next start completes them', async () => {
    await w.bot.start();
    const unhang = w.jira.inject({ hang: true });
    const id = await submit(carol, 'other');
    await waitUntil(() => w.openEffects().running > 0 && w.jira.calls.some((c) => c.response === 'hang'), 10_000, 'an effect stuck on Jira');
    const { code, ms } = await sigterm();
    unhang();
    assert.equal(code, 0, w.bot.output().slice(-2000));
    assert.ok(ms < 10_000, `exited within 10 s (${ms} ms)`);
    assert.equal(w.openEffects().running, 0, 'released, not left running');
    assert.ok(w.openEffects().pending > 0, 'released effects wait for the next process');

    await w.bot.start();
    await approveAll([id]);
    await waitUntil(() => w.requestState(id) === 'revoked', 15_000, 'revoked');
    await waitUntil(() => w.openEffects().pending + w.openEffects().running === 0, 20_000, 'quiet');
    const issues = w.jira.issuesWithLabel(`access-bot-${id}`);
    assert.equal(issues.length, 1);
    assert.deepEqual(steps(w.jira.commentsText(issues[0]!.key)), STORY);
    await w.bot.kill('SIGTERM');
  });
});

// -------------------------------------------------------------------------------------------------

describe('duplicates: Slack retries, double clicks, re-submitted modals', () => {
  let h: Harness;
  let send: (body: string, headers?: Record<string, string>) => Promise<number>;
  before(async () => {
    h = await new Harness().start();
    send = async (body, headers = {}) => (await h.driver.raw(body, { 'Content-Type': 'application/x-www-form-urlencoded', ...h.driver.sign(body), ...headers })).status;
  });
  after(async () => {
    await h.stop();
  });

  test('the same signed click delivered 4 times (3 at once, then with X-Slack-Retry-Num): one decision, one grant, one comment', async () => {
    const id = await h.request(alice, { duration: '4h' });
    const card = await h.approverMessage(bob, id);
    await h.idle();
    const adds = h.okta.addCalls;
    const body = formBody(buttonClick(h.slack, { userId: bob.slackId, actionId: 'approve', message: card }));
    const headers = { ...h.driver.sign(body) };
    const statuses = await Promise.all([1, 2, 3].map(() => h.driver.raw(body, { 'Content-Type': 'application/x-www-form-urlencoded', ...headers }).then((r) => r.status)));
    statuses.push((await h.driver.raw(body, { 'Content-Type': 'application/x-www-form-urlencoded', ...headers, 'X-Slack-Retry-Num': '1', 'X-Slack-Retry-Reason': 'http_timeout' })).status);
    assert.deepEqual(statuses, [200, 200, 200, 200]);
    await waitUntil(() => state(h, id) === 'active', 10_000, 'active');
    await h.idle();
    assert.equal(h.okta.addCalls - adds, 1, 'one membership add');
    const audit = h.bot.store.auditOf(id);
    assert.equal(audit.filter((a) => a.step.type === 'approved').length, 1, 'one decision');
    assert.equal(audit.filter((a) => a.step.type === 'granted').length, 1, 'one grant');
    assertStory(h, id, STORY.slice(0, 4), 'Active');
    await h.slack.waitForResponseUrlPost((p) => /already approved/.test(String(p.body.text)));
  });

  test('two approvers click Approve at the same moment: one decision wins, the other is told', async () => {
    const id = await h.request(dave, { role: 'super-admin', duration: '30m' });
    const bobs = await h.approverMessage(bob, id);
    const carols = await h.approverMessage(carol, id);
    await h.idle();
    const adds = h.okta.addCalls;
    const res = await Promise.all([h.driver.clickButton(bob.slackId, bobs, 'approve'), h.driver.clickButton(carol.slackId, carols, 'approve'), h.driver.clickButton(carol.slackId, carols, 'approve')]);
    assert.deepEqual(
      res.map((r) => r.status),
      [200, 200, 200],
    );
    await waitUntil(() => state(h, id) === 'active', 10_000, 'active');
    await h.idle();
    assert.equal(h.okta.addCalls - adds, 1, 'one membership add');
    const audit = h.bot.store.auditOf(id);
    assert.equal(audit.filter((a) => a.step.type === 'approved').length, 1, 'one decision');
    assert.equal(audit.filter((a) => a.step.type === 'decision_refused').length, 2, 'the two late clicks were refused');
    assertStory(h, id, STORY.slice(0, 4), 'Active');
  });

  test('an approve and a deny racing: exactly one of them decides', async () => {
    const id = await h.request(alice, { role: 'super-admin', duration: '30m', reason: 'Racing decisions' });
    const bobs = await h.approverMessage(bob, id);
    const carols = await h.approverMessage(carol, id);
    await h.idle();
    // Carol opens the deny modal while Bob approves; her submission arrives after his click.
    await h.driver.clickButton(carol.slackId, carols, 'deny');
    const modal = await h.slack.waitForView((v) => v.userId === carol.slackId && v.view.callback_id === 'deny_reason' && String(v.view.private_metadata) === id);
    await Promise.all([h.driver.clickButton(bob.slackId, bobs, 'approve'), h.driver.submitView(carol.slackId, modal.id, { reason: { reason: 'Not during the freeze' } })]);
    await h.idle();
    const r = h.bot.store.getRequest(id)!;
    assert.ok(['approved', 'active', 'denied'].includes(r.state), r.state);
    const audit = h.bot.store.auditOf(id);
    assert.equal(audit.filter((a) => a.step.type === 'approved' || a.step.type === 'denied').length, 1, 'one decision');
    const comments = steps(h.jiraComments(id));
    assert.equal(comments.filter((c) => c === 'Approved by' || c === 'Denied by').length, 1, 'one decision comment');
  });

  test('Revoke now clicked twice at once by the requester: one revocation, one removal, one comment', async () => {
    const id = await h.request(carol, { duration: '4h', reason: 'Give it back early' });
    await h.click(bob, id, 'approve');
    await waitUntil(() => state(h, id) === 'active', 10_000, 'active');
    await h.idle();
    // Her "Access granted" notice carries the Revoke now button for this request.
    const notice = await h.slack.waitForDm(carol.slackId, (m) => /^Access granted/.test(m.text) && JSON.stringify(m.blocks).includes(`"value":"${id}"`));
    const removes = h.okta.removeCalls;
    const res = await Promise.all([h.driver.clickButton(carol.slackId, notice, 'revoke_access'), h.driver.clickButton(carol.slackId, notice, 'revoke_access')]);
    assert.deepEqual(
      res.map((r) => r.status),
      [200, 200],
    );
    await waitUntil(() => state(h, id) === 'revoked', 10_000, 'revoked');
    await h.idle();
    assert.equal(h.okta.removeCalls - removes, 1, 'one removal');
    assert.equal(h.jiraComments(id).filter((c) => c.startsWith('Access revoked')).length, 1, 'one comment');
    assert.equal(h.okta.isMember(GROUPS.readOnly, carol.oktaId), false);
  });

  test('the same modal submission delivered 4 times (3 at once, then again): one request, one issue, each comment once', async () => {
    const before = (h.bot.sql.value<number>('SELECT COUNT(*) FROM requests') ?? 0) + 0;
    const issuesBefore = h.jira.issues.size;
    const seen = new Set(h.slack.views.keys());
    await h.driver.command(carol.slackId);
    const view = await h.slack.waitForView((v) => v.userId === carol.slackId && !seen.has(v.id) && v.view.callback_id === 'access_request');
    const body = formBody(
      viewSubmission(h.slack, carol.slackId, view.view, requestState({ app: 'okta-console', role: 'read-only', duration: '4h', reason: 'Submitted once, delivered four times' })),
    );
    const headers = h.driver.sign(body);
    const statuses = await Promise.all([1, 2, 3].map(() => h.driver.raw(body, { 'Content-Type': 'application/x-www-form-urlencoded', ...headers }).then((r) => r.status)));
    statuses.push(await send(body));
    assert.deepEqual(statuses, [200, 200, 200, 200]);
    await h.idle();
    assert.equal(h.bot.sql.value('SELECT COUNT(*) FROM requests'), before + 1, 'one request');
    const id = h.bot.store.findBySubmissionKey(view.id)!.id;
    assert.equal(h.bot.sql.value("SELECT COUNT(*) FROM outbox WHERE kind = 'request.route' AND request_id = ?", id), 1, 'routed once');
    assert.equal(h.jira.issues.size, issuesBefore + 1, 'one issue');
    assertStory(h, id, STORY.slice(0, 2));
    assert.equal(h.slack.dmsTo(bob.slackId).filter((m) => JSON.stringify(m.blocks).includes(`request:${id}`)).length, 1, 'one card for the approver');
  });

  test('the same deny submission delivered twice: one denial, one comment', async () => {
    const id = await h.request(dave, { reason: 'Deny me twice' });
    await h.click(bob, id, 'deny');
    const modal = await h.slack.waitForView((v) => v.userId === bob.slackId && v.view.callback_id === 'deny_reason' && String(v.view.private_metadata) === id);
    const body = formBody(viewSubmission(h.slack, bob.slackId, modal.view, { reason: { reason: { type: 'plain_text_input', value: 'No, and no again' } } }));
    const statuses = await Promise.all([send(body), send(body, { 'X-Slack-Retry-Num': '1' })]);
    assert.deepEqual(statuses, [200, 200]);
    await waitUntil(() => state(h, id) === 'denied', 10_000, 'denied');
    await h.idle();
    assert.equal(h.bot.store.auditOf(id).filter((a) => a.step.type === 'denied').length, 1);
    assertStory(h, id, ['Requested by', 'Approval requested', 'Denied by'], 'Rejected');
    assert.equal(h.slack.dmsTo(dave.slackId).filter((m) => /was denied/.test(m.text)).length, 1, 'the requester is told once');
  });

  test('the same signed /access command delivered twice: one modal, nothing recorded', async () => {
    const before = h.bot.sql.value('SELECT COUNT(*) FROM requests');
    const opened = () => h.slack.calls.filter((c) => c.path === '/api/views.open' && (c.response as Obj | undefined)?.ok === true).length;
    const was = opened();
    const body = new URLSearchParams({
      token: 'emulated-verification-token',
      team_id: h.slack.teamId,
      channel_id: h.slack.imChannelFor(carol.slackId),
      user_id: carol.slackId,
      command: '/access',
      text: '',
      trigger_id: h.slack.issueTriggerId(carol.slackId),
      response_url: h.slack.issueResponseUrl({ channel: h.slack.imChannelFor(carol.slackId), user: carol.slackId }),
    }).toString();
    const headers = { 'Content-Type': 'application/x-www-form-urlencoded', ...h.driver.sign(body) };
    const res = await Promise.all([h.driver.raw(body, headers), h.driver.raw(body, { ...headers, 'X-Slack-Retry-Num': '1' })]);
    assert.deepEqual(
      res.map((r) => r.status),
      [200, 200],
    );
    await waitUntil(() => opened() > was, 3000, 'the modal opened');
    await sleep(200);
    assert.equal(opened() - was, 1, 'one modal: the trigger id is single-use');
    assert.equal(h.bot.sql.value('SELECT COUNT(*) FROM requests'), before);
  });

  test('an Events API delivery retried with X-Slack-Retry-Num is acknowledged and changes nothing', async () => {
    const counts = () => [h.bot.sql.value('SELECT COUNT(*) FROM requests'), h.bot.sql.value('SELECT COUNT(*) FROM outbox')];
    const before = counts();
    const event = { type: 'app_mention', user: alice.slackId, text: '<@U0BOB> please approve', channel: 'C0ADMIN', ts: '1700000000.000100' };
    const first = await h.driver.event(event, { eventId: 'Ev0RETRY01' });
    const again = await h.driver.event(event, { eventId: 'Ev0RETRY01', retryNum: 1, retryReason: 'http_timeout' });
    assert.equal(first.status, 200);
    assert.equal(again.status, 200);
    await h.idle();
    assert.deepEqual(counts(), before);
  });
});
