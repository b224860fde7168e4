/**
 * Hostile and bad input (issue 3): requests that are not Slack's are refused; authorisation holds
 * at click time; forged payloads change nothing; text from users stays text in Slack and Jira;
 * lengths are bounded with a clear message; secrets never reach a log line, an error message, a
 * Slack message or a Jira comment.
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import { request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { AdfNode } from '../../src/adapters/jira/types.js';
import type { StoredMessage } from '../emulators/slack.js';
import { buttonClick, ChaosWorld, denyView, formBody, requestState, SECRETS, viewSubmission } from '../support/chaos/index.js';
import { ACTIVE, mrkdwnOf } from '../support/mrkdwn.js';
import { BOT_TOKEN, DEFAULT_CATALOG, GROUPS, Harness, JIRA_TOKEN, OKTA_TOKEN, PEOPLE, SIGNING_SECRET, waitUntil, type Person } from '../support/harness.js';

const { alice, bob, carol, dave } = PEOPLE;
const FORM = { 'Content-Type': 'application/x-www-form-urlencoded' };
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Everything the database holds about requests, to prove nothing changed. */
function snapshot(h: Harness): string {
  const q = (sql: string) => h.bot.db.prepare(sql).all();
  return JSON.stringify({
    requests: q('SELECT * FROM requests ORDER BY id'),
    approvers: q('SELECT * FROM approvers ORDER BY request_id, stage, person_id'),
    memberships: q('SELECT * FROM memberships ORDER BY group_id, idp_user_id'),
    audit: q("SELECT seq, type FROM audit_events WHERE type <> 'decision_refused' ORDER BY seq"),
  });
}

// -------------------------------------------------------------------------------------------------

describe('signed-request checks', () => {
  let h: Harness;
  let pending: string;
  before(async () => {
    h = await new Harness().start();
    pending = await h.request(alice);
    await h.approverMessage(bob, pending);
    await h.idle();
  });
  after(async () => {
    await h.stop();
  });

  /** Requests that would act if they were accepted: a valid approve click, a valid submission, a command. */
  async function wouldAct(): Promise<{ name: string; body: string }[]> {
    const card = await h.approverMessage(bob, pending);
    const view = { id: 'V0NEVEROPENED', type: 'modal', callback_id: 'access_request', blocks: [] };
    return [
      { name: 'approve click', body: formBody(buttonClick(h.slack, { userId: bob.slackId, actionId: 'approve', message: card })) },
      {
        name: 'request submission',
        body: formBody(viewSubmission(h.slack, carol.slackId, view, requestState({ app: 'okta-console', role: 'read-only', duration: '4h', reason: 'Would create a request' }))),
      },
      {
        name: 'slash command',
        body: new URLSearchParams({ command: '/access', text: '', user_id: dave.slackId, team_id: h.slack.teamId, trigger_id: h.slack.issueTriggerId(dave.slackId), response_url: h.slack.issueResponseUrl({ channel: 'D0DAVE', user: dave.slackId }) }).toString(),
      },
    ];
  }

  const now = () => Math.floor(Date.now() / 1000);
  const cases: { name: string; headers: (body: string) => Record<string, string> }[] = [
    { name: 'no signature headers at all', headers: () => ({}) },
    { name: 'a bad signature', headers: (b) => ({ ...h.driver.sign(b), 'X-Slack-Signature': `v0=${'0'.repeat(64)}` }) },
    { name: 'signed with another secret', headers: (b) => new SlackSigner('not-the-signing-secret').sign(b) },
    { name: 'a signature without its timestamp', headers: (b) => ({ 'X-Slack-Signature': h.driver.sign(b)['X-Slack-Signature']! }) },
    { name: 'a timestamp that is not a number', headers: (b) => ({ ...h.driver.sign(b), 'X-Slack-Request-Timestamp': 'yesterday' }) },
    { name: 'correctly signed, 6 minutes old', headers: (b) => h.driver.sign(b, now() - 360) },
    { name: 'correctly signed, 5 minutes and 5 seconds old', headers: (b) => h.driver.sign(b, now() - 305) },
    { name: 'signed for another timestamp than the one sent', headers: (b) => ({ ...h.driver.sign(b, now() - 10), 'X-Slack-Request-Timestamp': String(now()) }) },
    { name: 'signature in upper case hex', headers: (b) => ({ ...h.driver.sign(b), 'X-Slack-Signature': h.driver.sign(b)['X-Slack-Signature']!.toUpperCase() }) },
  ];

  for (const c of cases) {
    test(`${c.name} → 401, and nothing happens`, async () => {
      const before = snapshot(h);
      const outbox = h.bot.outbox.counts();
      const views = h.slack.callsTo('POST', '/api/views.open').length;
      for (const r of await wouldAct()) {
        const res = await h.driver.raw(r.body, { ...FORM, ...c.headers(r.body) });
        assert.equal(res.status, 401, `${r.name}: ${res.status}`);
      }
      await sleep(100);
      await h.idle();
      assert.equal(snapshot(h), before, 'no state changed');
      assert.deepEqual(h.bot.outbox.counts(), outbox);
      assert.equal(h.slack.callsTo('POST', '/api/views.open').length, views, 'no modal opened');
    });
  }

  test('a body changed after it was signed → 401', async () => {
    const before = snapshot(h);
    const card = await h.approverMessage(bob, pending);
    const honest = formBody(buttonClick(h.slack, { userId: dave.slackId, actionId: 'approve', message: card }));
    const headers = h.driver.sign(honest);
    const tampered = honest.replace(encodeURIComponent(dave.slackId), encodeURIComponent(bob.slackId));
    assert.notEqual(tampered, honest);
    const res = await h.driver.raw(tampered, { ...FORM, ...headers });
    assert.equal(res.status, 401);
    await h.idle();
    assert.equal(snapshot(h), before);
    assert.equal(h.bot.store.getRequest(pending)!.state, 'pending');
  });

  test('the control: the same approve click, correctly signed and fresh, is accepted', async () => {
    const card = await h.approverMessage(bob, pending);
    const body = formBody(buttonClick(h.slack, { userId: bob.slackId, actionId: 'approve', message: card }));
    const res = await h.driver.raw(body, { ...FORM, ...h.driver.sign(body) });
    assert.equal(res.status, 200);
    await waitUntil(() => h.bot.store.getRequest(pending)!.state !== 'pending', 3000, 'decided');
  });
});

/** Signs like SlackDriver, with any secret. */
class SlackSigner {
  constructor(private readonly secret: string) {}
  sign(body: string, ts = Math.floor(Date.now() / 1000)): Record<string, string> {
    return { 'X-Slack-Request-Timestamp': String(ts), 'X-Slack-Signature': `v0=${createHmac('sha256', this.secret).update(`v0:${ts}:${body}`).digest('hex')}` };
  }
}

// -------------------------------------------------------------------------------------------------

/** read-only is approved by its owner Bob; "other" by Carol only; Alice is listed to prove she can't approve herself. */
const TWO_ROLES = DEFAULT_CATALOG.replace(
  '      - id: super-admin',
  `      - id: other
        name: Other
        grant: { connector: okta, group: ${GROUPS.superAdmin} }
        durations: [4h]
        approvers: [carol@example.com]
      - id: super-admin`,
);

describe('authorisation at click time; forged payloads change nothing', () => {
  let h: Harness;
  let send: (payload: unknown) => Promise<number>;
  before(async () => {
    h = await new Harness({ catalog: TWO_ROLES }).start();
    send = async (payload) => {
      const body = formBody(payload);
      return (await h.driver.raw(body, { ...FORM, ...h.driver.sign(body) })).status;
    };
  });
  after(async () => {
    await h.stop();
  });

  const refusals = (id: string, who: string) => h.bot.store.auditOf(id).filter((a) => a.step.type === 'decision_refused' && a.actor === who).length;

  test('an approver removed from the catalog since the DM was sent can no longer decide', async () => {
    const id = await h.request(dave, { duration: '4h', reason: 'Asked before the catalog changed' });
    const card = await h.approverMessage(bob, id);
    await h.idle();
    // Bob is no longer the owner (nor listed) after the restart.
    await h.restart({ catalog: TWO_ROLES.replace('owners: [bob@example.com]', 'owners: [carol@example.com]') });
    try {
      await h.driver.clickButton(bob.slackId, card, 'approve');
      await h.slack.waitForResponseUrlPost((p) => /no longer an approver/.test(String(p.body.text)));
      // The deny path is checked too (the modal opens only for someone who may decide).
      const views = h.slack.callsTo('POST', '/api/views.open').length;
      await h.driver.clickButton(bob.slackId, card, 'deny');
      assert.equal(await send(viewSubmission(h.slack, bob.slackId, denyView(id), { reason: { reason: { type: 'plain_text_input', value: 'Removed, but denying anyway' } } })), 200);
      await h.idle();
      assert.equal(h.slack.callsTo('POST', '/api/views.open').length, views, 'no deny modal for him');
      assert.equal(h.bot.store.getRequest(id)!.state, 'pending');
      assert.equal(refusals(id, bob.slackId), 3);
    } finally {
      await h.restart({ catalog: TWO_ROLES });
    }
  });

  test('the requester can never decide their own request: forged click on the approver\'s card, deny modal, listed as approver', async () => {
    const id = await h.request(alice, { duration: '4h' });
    const card = await h.approverMessage(bob, id);
    await h.idle();
    await h.driver.clickButton(alice.slackId, card, 'approve');
    assert.equal(await send(buttonClick(h.slack, { userId: alice.slackId, actionId: 'approve', value: id })), 200);
    assert.equal(await send(viewSubmission(h.slack, alice.slackId, denyView(id), { reason: { reason: { type: 'plain_text_input', value: 'Denying myself to see' } } })), 200);
    await h.idle();
    assert.equal(h.bot.store.getRequest(id)!.state, 'pending');
    assert.equal(refusals(id, alice.slackId), 3);
    assert.equal(h.bot.store.approversOf(id).some((a) => a.slackId === alice.slackId), false, 'listed in the catalog, but never asked');
    await h.slack.waitForResponseUrlPost((p) => /own request/.test(String(p.body.text)));
  });

  test('a requester who is the only approver listed cannot end up approving: the request fails with the cause', async () => {
    const id = await h.request(carol, { role: 'other', duration: '4h' });
    await waitUntil(() => h.bot.store.getRequest(id)!.state === 'failed', 10_000, 'failed');
    assert.match(h.bot.store.getRequest(id)!.failure ?? '', /no approver could be resolved/);
    assert.equal(h.okta.isMember(GROUPS.superAdmin, carol.oktaId), false);
  });

  test("another request's id in a button value: refused when the clicker may not decide that one, and the card's own request is untouched", async () => {
    const mine = await h.request(alice, { duration: '4h' }); // Bob approves this one
    const theirs = await h.request(dave, { role: 'other' }); // only Carol approves this one
    const bobsCard = await h.approverMessage(bob, mine);
    await h.approverMessage(carol, theirs);
    await h.idle();
    const before = snapshot(h);
    assert.equal(await send(buttonClick(h.slack, { userId: bob.slackId, actionId: 'approve', message: bobsCard, value: theirs })), 200);
    assert.equal(await send(buttonClick(h.slack, { userId: bob.slackId, actionId: 'deny', message: bobsCard, value: theirs })), 200);
    assert.equal(await send(buttonClick(h.slack, { userId: dave.slackId, actionId: 'approve', message: bobsCard, value: mine })), 200);
    // Malformed ids are refused unread.
    for (const value of [`${mine}' OR 1=1 --`, 'req_', 'req_../../etc', mine.toUpperCase(), ['req_x'], { id: mine }, 42, null]) {
      assert.equal(await send(buttonClick(h.slack, { userId: bob.slackId, actionId: 'approve', message: bobsCard, value })), 200);
    }
    await h.idle();
    assert.equal(snapshot(h), before);
    assert.equal(refusals(theirs, bob.slackId), 2);
    assert.equal(refusals(mine, dave.slackId), 1);
  });

  test("a tampered private_metadata in the deny modal: another request's id, garbage, or a modal never opened — nothing changes", async () => {
    const mine = await h.request(alice, { duration: '4h', reason: 'Deny modal tampering target' });
    const theirs = await h.request(dave, { role: 'other', reason: 'Someone else approves this' });
    await h.approverMessage(bob, mine);
    await h.approverMessage(carol, theirs);
    await h.click(bob, mine, 'deny');
    const modal = await h.slack.waitForView((v) => v.userId === bob.slackId && v.view.callback_id === 'deny_reason' && v.view.private_metadata === mine);
    await h.idle();
    const before = snapshot(h);
    const reason = { reason: { reason: { type: 'plain_text_input', value: 'Tampered deny' } } };
    for (const meta of [theirs, 'garbage', '', `${theirs}\n${mine}`, 'req_doesnotexist1', JSON.stringify({ id: mine })]) {
      assert.equal(await send(viewSubmission(h.slack, bob.slackId, { ...modal.view, private_metadata: meta }, reason)), 200, String(meta));
    }
    // A modal Dave never had, naming a request he may not decide.
    assert.equal(await send(viewSubmission(h.slack, dave.slackId, denyView(mine), reason)), 200);
    await h.idle();
    assert.equal(snapshot(h), before);
    assert.equal(h.bot.store.getRequest(theirs)!.state, 'pending');
    assert.equal(refusals(theirs, bob.slackId), 1);
    assert.equal(refusals(mine, dave.slackId), 1);
  });

  test('a forged Revoke click by someone who is neither the requester nor an approver changes nothing', async () => {
    const id = await h.request(alice, { duration: '4h', reason: 'Active grant to try to revoke' });
    await h.click(bob, id, 'approve');
    await waitUntil(() => h.bot.store.getRequest(id)!.state === 'active', 10_000, 'active');
    await h.idle();
    assert.equal(await send(buttonClick(h.slack, { userId: dave.slackId, actionId: 'revoke_access', value: id })), 200);
    assert.equal(await send(buttonClick(h.slack, { userId: carol.slackId, actionId: 'revoke_access', value: id })), 200);
    await h.idle();
    assert.equal(h.bot.store.getRequest(id)!.state, 'active');
    assert.equal(h.okta.isMember(GROUPS.readOnly, alice.oktaId), true);
    assert.equal(refusals(id, dave.slackId) + refusals(id, carol.slackId), 2);
  });
});

// -------------------------------------------------------------------------------------------------

function adfNodes(doc: unknown): AdfNode[] {
  const out: AdfNode[] = [];
  const walk = (n: AdfNode) => {
    out.push(n);
    (n.content ?? []).forEach(walk);
  };
  walk(doc as AdfNode);
  return out;
}

describe('text from users is inert; lengths are bounded', () => {
  let h: Harness;
  const mallory: Person = { slackId: 'U0MALLORY', email: 'mallory@example.com', name: '<!channel> Mallory <@U0BOB>', oktaId: '00u1mallory' };
  const EVIL =
    'Urgent <!channel> <!here> <@U0BOB> <#C0ADMIN> see <https://evil.example/login|the docs> & <mailto:x@evil.example|mail> *bold* _it_ `code` ' +
    '{code}x{code} [link|https://evil.example] h1. Heading ||table|| {"type":"mention","attrs":{"id":"x"}} <script>alert(1)</script>';
  before(async () => {
    h = await new Harness({
      catalog: DEFAULT_CATALOG.replace(
        '      - id: super-admin',
        `      - id: break-glass
        name: Emergency admin
        grant: { connector: okta, group: ${GROUPS.superAdmin} }
        durations: [1h]
        approval: auto
        breakGlass: { notify: "#security-alerts", minReasonLength: 40 }
      - id: super-admin`,
      ),
    }).start();
    h.slack.addUser({ id: mallory.slackId, email: mallory.email, realName: mallory.name });
    h.okta.addUser({ id: mallory.oktaId, login: mallory.email, email: mallory.email, firstName: '<!channel>', lastName: 'Mallory' });
    h.slack.addChannel({ id: 'C0SECURITY', name: 'security-alerts' });
  });
  after(async () => {
    await h.stop();
  });

  test('mentions, links and markup in a reason and a name are escaped in every Slack block and notice, and stay text nodes in Jira', async () => {
    const id = await h.request(mallory, { duration: '4h', reason: EVIL });
    const bg = await h.request(mallory, { role: 'break-glass', duration: '1h', reason: `${EVIL} (break glass)` });
    const dn = await h.request(mallory, { duration: '4h', reason: `${EVIL} (to be denied)` });
    await h.click(bob, id, 'approve');
    await waitUntil(() => h.bot.store.getRequest(id)!.state === 'active', 10_000, 'active');
    await waitUntil(() => h.bot.store.getRequest(bg)!.state === 'active', 10_000, 'break-glass granted');
    await h.click(bob, dn, 'deny');
    const modal = await h.slack.waitForView((v) => v.userId === bob.slackId && v.view.callback_id === 'deny_reason' && v.view.private_metadata === dn);
    await h.driver.submitView(bob.slackId, modal.id, { reason: { reason: `No: ${EVIL}` } });
    await waitUntil(() => h.bot.store.getRequest(dn)!.state === 'denied', 10_000, 'denied');
    await h.idle();

    // Slack: every version of every message the bot wrote.
    const written = h.slack.messages.filter((m) => m.user === h.slack.botUserId);
    const versions = written.flatMap((m: StoredMessage) => [...m.history, m]);
    assert.ok(versions.some((v) => JSON.stringify(v).includes('&lt;!channel&gt;')), 'the reason is shown, escaped');
    assert.ok(h.slack.messages.some((m) => m.channel === 'C0SECURITY'), 'the break-glass alert went out');
    const active = versions.flatMap((v) => mrkdwnOf(v).filter((t) => ACTIVE.test(t)).map((t) => `${v.channel} ${v.via}: ${t.slice(0, 160)}`));
    assert.deepEqual(active, [], 'no mention, channel ping or link produced from user text in any block');
    const ephemerals = [...h.slack.ephemerals, ...h.slack.responseUrlPosts.map((p) => ({ text: String(p.body.text ?? ''), blocks: (p.body.blocks as unknown[]) ?? [] }))];
    assert.deepEqual(ephemerals.flatMap((e) => [e.text, ...mrkdwnOf({ blocks: e.blocks as unknown[] })].filter((t) => ACTIVE.test(t))), []);
    // Requester DMs and admin alerts carry their text escaped too.
    const notices = versions.filter((v) => v.channel === h.slack.imChannelFor(mallory.slackId) || v.channel === 'C0ADMIN');
    assert.deepEqual(notices.map((v) => v.text).filter((t) => ACTIVE.test(t)), []);

    // Jira: the reason is the text of a text node, exactly as typed; no node type comes from it.
    for (const rid of [id, bg, dn]) {
      const issue = h.jira.issue(h.bot.store.getRequest(rid)!.jiraKey!)!;
      const docs = [issue.description, ...issue.comments.map((c) => c.body)];
      const nodes = docs.flatMap(adfNodes);
      assert.deepEqual([...new Set(nodes.map((n) => n.type))].sort(), ['doc', 'paragraph', 'text'], `${issue.key}: only paragraphs of text`);
      const marks = new Set(nodes.flatMap((n) => (n.marks ?? []).map((m) => m.type)));
      assert.ok([...marks].every((m) => m === 'strong' || m === 'code'), `marks: ${[...marks].join(', ')}`);
      const texts = nodes.filter((n) => n.type === 'text').map((n) => n.text ?? '');
      assert.ok(texts.some((t) => t.includes(EVIL)), `${issue.key}: the reason is one text node, verbatim`);
      assert.ok(!issue.summary.includes('\n'));
    }
    assert.ok(h.jiraComments(dn).some((c) => c.includes(`— No: ${EVIL}`)), 'the denial reason is on the issue verbatim');
  });

  test(
    "the top-level `text` of every message (what notifications show) escapes user text too",
    async () => {
      const written = h.slack.messages.filter((m) => m.user === h.slack.botUserId).flatMap((m: StoredMessage) => [...m.history, m]);
      assert.ok(written.length > 0, 'runs after the test above');
      const active = written.filter((v) => ACTIVE.test(v.text)).map((v) => `${v.channel} ${v.via}: ${v.text.slice(0, 120)}`);
      assert.deepEqual(active, []);
    },
  );

  test('a reason over 2,000 characters is refused with a clear message (a forged submission; the modal caps it too)', async () => {
    const before = h.bot.db.prepare('SELECT COUNT(*) FROM requests').pluck().get();
    await h.driver.command(dave.slackId);
    const view = await h.slack.waitForView((v) => v.userId === dave.slackId && v.view.callback_id === 'access_request' && !v.closed);
    const body = formBody(viewSubmission(h.slack, dave.slackId, view.view, requestState({ app: 'okta-console', role: 'read-only', duration: '4h', reason: 'x'.repeat(2001) })));
    const res = await h.driver.raw(body, { ...FORM, ...h.driver.sign(body) });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { response_action: 'errors', errors: { reason: 'Keep the reason under 2000 characters (it has 2001).' } });
    const huge = formBody(viewSubmission(h.slack, dave.slackId, view.view, requestState({ app: 'okta-console', role: 'read-only', duration: '4h', reason: 'y'.repeat(200_000) })));
    const res2 = await h.driver.raw(huge, { ...FORM, ...h.driver.sign(huge) });
    assert.equal(res2.status, 200);
    assert.match(JSON.stringify(res2.body), /Keep the reason under 2000 characters/);
    assert.equal(h.bot.db.prepare('SELECT COUNT(*) FROM requests').pluck().get(), before);
  });

  test(
    'a deny reason over 2,000 characters is refused with a clear message',
    async () => {
      const id = await h.request(dave, { duration: '4h', reason: 'Deny me at length' });
      await h.click(bob, id, 'deny');
      const modal = await h.slack.waitForView((v) => v.userId === bob.slackId && v.view.callback_id === 'deny_reason' && v.view.private_metadata === id);
      const body = formBody(viewSubmission(h.slack, bob.slackId, modal.view, { reason: { reason: { type: 'plain_text_input', value: 'n'.repeat(50_000) } } }));
      const res = await h.driver.raw(body, { ...FORM, ...h.driver.sign(body) });
      assert.equal(res.status, 200);
      assert.match(JSON.stringify(res.body), /"response_action":"errors".*2000/);
      await h.idle();
      assert.equal(h.bot.store.getRequest(id)!.state, 'pending');
    },
  );
});

// -------------------------------------------------------------------------------------------------

function allSecrets(): string[] {
  const basic = Buffer.from(`access-bot@example.com:${JIRA_TOKEN}`).toString('base64');
  return [...SECRETS, basic];
}

function leaks(haystacks: { where: string; text: string }[]): string[] {
  const out: string[] = [];
  for (const { where, text } of haystacks) for (const s of allSecrets()) if (text.includes(s)) out.push(`${where} contains ${s.slice(0, 8)}…`);
  return out;
}

describe('secrets never appear in logs, error messages, Slack or Jira', () => {
  test('in-process: Jira 401, Okta 401 and Slack invalid_auth on the way; nothing in the logs, outbox errors, alerts or comments', async () => {
    const h = await new Harness().start();
    try {
      assert.deepEqual(h.secrets().slice(0, 4), [BOT_TOKEN, SIGNING_SECRET, OKTA_TOKEN, JIRA_TOKEN]);
      // A normal flow first, so every code path logs at debug level.
      const ok = await h.request(alice, { duration: '2s' });
      await h.click(bob, ok, 'approve');
      await waitUntil(() => h.bot.store.getRequest(ok)!.state === 'revoked', 6000, 'revoked');
      // Then the services reject the credentials.
      h.okta.inject({ status: 401, body: { errorCode: 'E0000011', errorSummary: 'Invalid token provided', errorLink: 'E0000011', errorId: 'x', errorCauses: [] } });
      h.slack.failMethod('chat.update', 'invalid_auth', { times: 3 });
      const id = await h.request(dave, { duration: '4h' });
      await h.click(bob, id, 'approve');
      await waitUntil(() => h.bot.store.getRequest(id)!.state === 'failed', 10_000, 'failed on Okta 401');
      h.jira.setCredentials('access-bot@example.com', 'rotated-token');
      const id2 = await h.request(carol, { duration: '4h' });
      await waitUntil(() => h.bot.outbox.dead().some((e) => e.kind === 'jira.create' && e.requestId === id2), 10_000, 'Jira 401');
      await h.idle();
      const errors = h.bot.db.prepare('SELECT last_error FROM outbox WHERE last_error IS NOT NULL').pluck().all() as string[];
      assert.ok(errors.some((e) => /401|token/i.test(e)), 'the credential errors are recorded');
      const found = leaks([
        { where: 'logs', text: h.logs.join('') },
        { where: 'outbox errors', text: errors.join('\n') },
        { where: 'audit', text: JSON.stringify(h.bot.db.prepare('SELECT data FROM audit_events').pluck().all()) },
        { where: 'requests', text: JSON.stringify(h.bot.db.prepare('SELECT * FROM requests').all()) },
        { where: 'Slack messages', text: JSON.stringify(h.slack.messages) },
        { where: 'Jira comments', text: [...h.jira.issues.values()].map((i) => JSON.stringify(i.comments.map((c) => c.body))).join('') },
      ]);
      assert.deepEqual(found, []);
    } finally {
      await h.stop();
    }
  });

  test('the real process: its whole output, through the same failures, holds no secret', async () => {
    const w = await new ChaosWorld().start(undefined, { LOG_LEVEL: 'debug' });
    try {
      await w.bot.start();
      const submit = async (who: Person) => {
        const before = new Set(w.slack.views.keys());
        await w.driver().command(who.slackId);
        const view = await w.slack.waitForView((v) => v.userId === who.slackId && !before.has(v.id) && v.view.callback_id === 'access_request', 5000);
        await w.driver().submitView(who.slackId, view.id, { application: { application: 'chaos-app' }, role: { role: 'short' }, duration: { duration: '2s' }, reason: { reason: 'Secrets test' } });
        return w.requestBySubmission(view.id)!;
      };
      w.okta.inject({ status: 401, times: 5, body: { errorCode: 'E0000011', errorSummary: 'Invalid token provided', errorLink: 'E0000011', errorId: 'x', errorCauses: [] } });
      w.slack.rateLimit('chat.postMessage', 2, 1);
      const id = await submit(alice);
      const card = await w.slack.waitForDm(bob.slackId, (m) => JSON.stringify(m.blocks).includes(`request:${id}`), 8000);
      await w.driver().clickButton(bob.slackId, card, 'approve');
      await waitUntil(() => w.requestState(id) === 'failed', 12_000, 'failed');
      w.jira.setCredentials('access-bot@example.com', 'rotated-token');
      await submit(dave);
      await waitUntil(() => w.openEffects().dead >= 2, 12_000, 'Jira 401 dead');
      await w.bot.kill('SIGTERM');
      const out = w.bot.output();
      assert.match(out, /401|Invalid token|credentials rejected/, 'the failures were logged');
      assert.deepEqual(leaks([{ where: 'process output', text: out }]), []);
    } finally {
      await w.stop();
    }
  });
});

// -------------------------------------------------------------------------------------------------

const stateOf = (h: Harness, id: string) => h.bot.store.getRequest(id)!.state;

/** Opens a connection that sends a request's headers (and maybe part of its body), then goes silent. */
async function stalledRequest(base: string, opts: { path?: string; headersOnly?: 'partial' | 'complete'; body?: string } = {}): Promise<{ socket: Socket; answer: Promise<string> }> {
  const url = new URL(base);
  const socket = connect(Number(url.port), url.hostname);
  await once(socket, 'connect');
  let got = '';
  socket.on('data', (c: Buffer) => void (got += c.toString()));
  socket.on('error', () => undefined);
  const answer = new Promise<string>((resolve) => socket.once('close', () => resolve(got)));
  const head = `POST ${opts.path ?? '/slack/events'} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n`;
  socket.write(opts.headersOnly === 'partial' ? head : `${head}\r\n${opts.body ?? 'command=%2Faccess&user_id='}`);
  return { socket, answer };
}

/** POSTs `body` to /slack/events on a connection of its own; resolves with the status. */
function postOnNewConnection(base: string, body: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${base}/slack/events`, { method: 'POST', agent: false, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const waitingGauge = async (h: Harness) => Number(/^access_bot_slack_requests_waiting (\d+)$/m.exec(await (await fetch(`${h.bot.url}/metrics`)).text())?.[1]);

describe('unauthenticated clients cannot slow revocations or hold the server', () => {
  test('60 stalled connections do not count as Slack waiting, and a due revocation completes while they are open', async () => {
    const h = await new Harness().start();
    const open: Socket[] = [];
    try {
      const id = await h.request(alice, { duration: '2s' });
      await h.click(bob, id, 'approve');
      await waitUntil(() => stateOf(h, id) === 'active', 5000, 'active');
      for (let i = 0; i < 60; i++) open.push((await stalledRequest(h.bot.url)).socket);
      await sleep(100);
      assert.equal(await waitingGauge(h), 0, 'no signed request is being handled');
      const due = h.bot.store.getRequest(id)!.expiresAt!;
      await waitUntil(() => stateOf(h, id) === 'revoked', 6000, 'revoked while 60 connections stall');
      await h.idle();
      assert.ok(open.every((s) => !s.destroyed), 'the stalled connections were still open');
      const revokedAt = h.bot.store.auditOf(id).find((a) => a.step.type === 'revoked')?.at ?? Date.now();
      assert.ok(revokedAt - due < 3000, `revoked ${revokedAt - due} ms after it was due`);
      // A signed request counts while it is handled, and not after.
      assert.equal((await h.driver.command(carol.slackId)).status, 200);
      assert.equal(await waitingGauge(h), 0);
    } finally {
      for (const s of open) s.destroy();
      await h.stop();
    }
  });

  test('only signed requests make a burst on new connections; a burst holds new effects back, unsigned requests never do', async () => {
    // Windows wide enough that the requests below always fall within one (the defaults are 50 / 500 ms).
    const h = await new Harness({ compose: { slackBurst: { windowMs: 60_000, maxHoldMs: 60_000 } } }).start();
    try {
      const body = new URLSearchParams({ ssl_check: '1', token: 'x' }).toString();
      const attempts = (id: string) => h.bot.db.prepare("SELECT attempts FROM outbox WHERE request_id = ? AND kind = 'request.route'").pluck().get(id) as number;
      for (let i = 0; i < 10; i++) assert.equal(await postOnNewConnection(h.bot.url, body, FORM), 401);
      const first = await h.request(alice);
      await waitUntil(() => attempts(first) > 0, 5000, 'routed while only unsigned requests came on new connections');
      await h.idle();
      // Opened before the burst: a modal opens only once a burst's hold ends (the next test).
      const carolsModal = await h.openRequestModal(carol);
      for (let i = 0; i < 2; i++) assert.equal(await postOnNewConnection(h.bot.url, body, { ...FORM, ...h.driver.sign(body) }), 200);
      const second = await h.submitRequest(carol, carolsModal);
      // A few turns of the event loop: the dispatcher, woken by the enqueue, has looked by then.
      for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
      assert.equal(attempts(second), 0, 'recorded before the ack, routed only once the burst lets effects start');
    } finally {
      await h.stop();
    }
  });

  test('a burst is acked first: /access opens its modal only once the hold ends, still inside the trigger\'s 3 s', async () => {
    const hold = 1500;
    const h = await new Harness({ compose: { slackBurst: { windowMs: 60_000, maxHoldMs: hold } } }).start();
    try {
      const body = new URLSearchParams({ ssl_check: '1', token: 'x' }).toString();
      for (let i = 0; i < 2; i++) assert.equal(await postOnNewConnection(h.bot.url, body, { ...FORM, ...h.driver.sign(body) }), 200);
      const heldFrom = Date.now();
      const before = new Set(h.slack.views.keys());
      const res = await h.driver.command(alice.slackId);
      assert.equal(res.status, 200, 'acked during the hold');
      const sent = Date.now();
      const view = await h.slack.waitForView((v) => v.userId === alice.slackId && !before.has(v.id), 5000);
      const opened = Date.now();
      assert.ok(opened - heldFrom >= hold - 100, `the modal opened ${opened - heldFrom} ms into a ${hold} ms hold`);
      assert.ok(opened - sent < 3000, `opened ${opened - sent} ms after the command`);
      await h.submitRequest(alice, view.id);
    } finally {
      await h.stop();
    }
  });

  test('headers or a body that stall past their bound are answered 408 and closed; bodies in flight beyond the cap get 503', async () => {
    const h = await new Harness({ compose: { limits: { headersTimeoutMs: 300, requestTimeoutMs: 600, maxBodiesInFlight: 5 } } }).start();
    const open: Socket[] = [];
    try {
      const t0 = Date.now();
      const partialHeaders = await stalledRequest(h.bot.url, { headersOnly: 'partial' });
      const partialBody = await stalledRequest(h.bot.url);
      assert.match(await partialHeaders.answer, /^HTTP\/1\.1 408 /);
      assert.match(await partialBody.answer, /^HTTP\/1\.1 408 /);
      assert.ok(Date.now() - t0 < 3000, `closed after ${Date.now() - t0} ms`);

      const held = await Promise.all(Array.from({ length: 5 }, () => stalledRequest(h.bot.url)));
      open.push(...held.map((s) => s.socket));
      await sleep(50);
      const refused = await stalledRequest(h.bot.url);
      assert.match(await refused.answer, /^HTTP\/1\.1 503 /);
      for (const s of open) s.destroy();
      await sleep(50);
      // Once they are gone, a signed request is served as usual.
      const id = await h.request(alice);
      assert.equal(stateOf(h, id), 'pending');
    } finally {
      for (const s of open) s.destroy();
      await h.stop();
    }
  });
});
