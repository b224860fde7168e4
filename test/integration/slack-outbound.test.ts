/**
 * What the bot sends to Slack (issue 14, items 5, 11, 12): text from outside is escaped wherever
 * it reaches mrkdwn; replies go only to Slack; after a 429 a method waits for Retry-After.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { StoredMessage } from '../emulators/slack.js';
import { buttonClick, formBody } from '../support/chaos/index.js';
import { ACTIVE, mrkdwnOf } from '../support/mrkdwn.js';
import { DEFAULT_CATALOG, GROUPS, Harness, PEOPLE, waitUntil, type Person } from '../support/harness.js';

const { alice, bob } = PEOPLE;
const FORM = { 'Content-Type': 'application/x-www-form-urlencoded' };
const WEBHOOK_SECRET = 'jira-webhook-secret-slack-out';

/** A ping of the whole channel and a phishing link, as any Jira or Slack user can name themselves. */
const HOSTILE = '<!channel> <https://evil.example/login|Re-authenticate>';

/** A message's top-level text (what notifications show) and every mrkdwn text in its blocks. */
function texts(m: { text?: string; blocks?: unknown }): string[] {
  return [...(typeof m.text === 'string' ? [m.text] : []), ...mrkdwnOf(m)];
}

/** Every version of every message the bot wrote, every ephemeral and response_url reply: text that is live. */
function liveText(h: Harness): string[] {
  const posted = h.slack.messages.filter((m) => m.user === h.slack.botUserId).flatMap((m: StoredMessage) => [...m.history, m]);
  const replies = [...h.slack.ephemerals, ...h.slack.responseUrlPosts.map((p) => ({ channel: 'response_url', text: String(p.body.text ?? ''), blocks: p.body.blocks }))];
  return [...posted, ...replies].flatMap((m) => texts(m).filter((t) => ACTIVE.test(t)).map((t) => `${m.channel}: ${t.slice(0, 200)}`));
}

describe('outside text never becomes a mention or a link in Slack', () => {
  let h: Harness;
  const mallory: Person = { slackId: 'U0MALLORY', email: 'mallory@example.com', name: HOSTILE, oktaId: '00u1mallory' };
  let id: string;

  before(async () => {
    h = await new Harness({ env: { JIRA_WEBHOOK_SECRET: WEBHOOK_SECRET } }).start();
    h.slack.addUser({ id: mallory.slackId, email: mallory.email, realName: mallory.name });
    h.okta.addUser({ id: mallory.oktaId, login: mallory.email, email: mallory.email, firstName: '<!here>', lastName: 'Mallory' });
    // The approver renamed themselves too: their name reaches cards, notices and refusals.
    h.slack.addUser({ id: bob.slackId, email: bob.email, realName: `Bob ${HOSTILE}` });
    id = await h.request(mallory, { duration: '4h', reason: 'Quarterly audit of the admin console' });
  });
  after(async () => {
    await h.stop();
  });

  test("a hostile Slack real_name, approver name and IdP error stay text in the approver's card, the requester's DMs, refusals and the admin alert", async () => {
    // As first posted, with its buttons (the stored message takes later versions).
    const card = structuredClone(await h.approverMessage(bob, id));
    assert.ok(texts(card).some((t) => t.includes('&lt;!channel&gt; &lt;https://evil.example/login|Re-authenticate&gt;')), 'the name is shown, escaped');
    // The IdP refuses the grant with an error summary of its own choosing.
    h.okta.inject({
      method: 'PUT',
      path: /^\/api\/v1\/groups\/[^/]+\/users\//,
      times: 1,
      status: 400,
      body: { errorCode: 'E0000001', errorSummary: `Api validation failed: ${HOSTILE}`, errorLink: 'E0000001', errorId: 'oae-hostile', errorCauses: [] },
    });
    await h.driver.clickButton(bob.slackId, card, 'approve');
    await waitUntil(() => h.bot.store.getRequest(id)!.state === 'failed', 10_000, 'the grant failed');
    // A second click is refused with a reply naming who decided.
    await h.driver.clickButton(bob.slackId, card, 'approve');
    await h.idle();

    const alert = h.slack.messages.find((m) => m.channel === 'C0ADMIN' && m.text.includes('failed'));
    assert.ok(alert, 'the admin alert went out');
    assert.match(alert.text, /Api validation failed: &lt;!channel&gt; &lt;https:\/\/evil\.example\/login\|Re-authenticate&gt;/, 'the IdP text is shown, escaped');
    const refusal = h.slack.responseUrlPosts.find((p) => /already approved by/.test(String(p.body.text)));
    assert.ok(refusal, 'the refusal was sent');
    assert.match(String(refusal.body.text), /by Bob &lt;!channel&gt;/);
    assert.deepEqual(liveText(h), []);
  });

  test('a Jira display name in an admin alert (a signed webhook) is text, not a ping or a link', async () => {
    await waitUntil(() => Boolean(h.bot.store.getRequest(id)!.jiraKey), 10_000, 'the Jira issue');
    const key = h.bot.store.getRequest(id)!.jiraKey!;
    const body = JSON.stringify({ timestamp: Date.now(), webhookEvent: 'jira:issue_deleted', issue: { key }, user: { displayName: HOSTILE } });
    const res = await fetch(`${h.bot.url}/webhooks/jira`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-hub-signature': `sha256=${createHmac('sha256', WEBHOOK_SECRET).update(body).digest('hex')}`,
        'x-atlassian-webhook-identifier': 'hostile-name-1',
      },
      body,
    });
    assert.deepEqual(await res.json(), { result: 'recorded' });
    const alert = await h.slack.waitForMessage((m) => m.channel === 'C0ADMIN' && m.text.includes(`${key} of access request`));
    assert.match(alert.text, /was deleted by &lt;!channel&gt; &lt;https:\/\/evil\.example\/login\|Re-authenticate&gt;\./);
    assert.doesNotMatch(alert.text, ACTIVE);
    await h.idle();
    assert.deepEqual(liveText(h), []);
  });
});

// -------------------------------------------------------------------------------------------------

describe("replies go only to Slack's response URLs", () => {
  let h: Harness;
  let trap: Server;
  const contacted: IncomingMessage[] = [];
  before(async () => {
    h = await new Harness().start();
    trap = createServer((req, res) => {
      contacted.push(req);
      res.end('ok');
    });
    await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', resolve));
  });
  after(async () => {
    await new Promise<void>((resolve) => trap.close(() => resolve()));
    await h.stop();
  });

  test("a response_url that is not Slack's is never contacted: the user still gets their reply by chat.postEphemeral", async () => {
    const id = await h.request(alice, { duration: '4h' });
    const card = structuredClone(await h.approverMessage(bob, id));
    await h.driver.clickButton(bob.slackId, card, 'approve');
    await waitUntil(() => h.bot.store.getRequest(id)!.state !== 'pending', 10_000, 'decided');
    const elsewhere = `http://127.0.0.1:${(trap.address() as AddressInfo).port}/actions/T0/1/stolen`;
    const body = formBody(buttonClick(h.slack, { userId: bob.slackId, actionId: 'approve', message: card, responseUrl: elsewhere }));
    const res = await h.driver.raw(body, { ...FORM, ...h.driver.sign(body) });
    assert.equal(res.status, 200);
    const reply = await h.slack.waitForEphemeral((e) => e.user === bob.slackId && /already approved/.test(e.text));
    assert.equal(reply.via, 'chat.postEphemeral');
    assert.equal(reply.channel, card.channel);
    await h.idle();
    assert.equal(contacted.length, 0, 'the listener that is not Slack received nothing');
    assert.ok(
      h.logs.some((l) => l.includes("a response_url that is not Slack's was not contacted") && l.includes(`"origin":"${new URL(elsewhere).origin}"`)),
      'a warning names the origin refused',
    );
  });
});

// -------------------------------------------------------------------------------------------------

describe('Slack rate limits are per method', () => {
  const CROWD = Array.from({ length: 16 }, (_, i) => ({ id: `U0CROWD${String(i).padStart(2, '0')}`, email: `crowd${i}@example.com` }));
  const LIMIT = 4;
  /** Effects run at once: what can be on its way to Slack together when a 429 comes back. */
  const CONCURRENCY = 4;
  let h: Harness;
  before(async () => {
    h = await new Harness({
      compose: { dispatcher: { backoff: { baseMs: 20, capMs: 200, maxHintMs: 3000 }, idlePollMs: 50, concurrency: CONCURRENCY } },
      catalog: DEFAULT_CATALOG.replace(
        '      - id: super-admin',
        `      - id: crowd
        name: Crowd-approved
        grant: { connector: okta, group: ${GROUPS.readOnly} }
        durations: [1h]
        approvers: ["slack-group:crowd"]
      - id: super-admin`,
      ),
    }).start();
    for (const c of CROWD) h.slack.addUser({ id: c.id, email: c.email, realName: `Crowd ${c.id}` });
    h.slack.addUserGroup({ id: 'S0CROWD', handle: 'crowd', users: CROWD.map((c) => c.id) });
  });
  after(async () => {
    await h.stop();
  });

  test('after a 429, every call of that method waits for Retry-After', async () => {
    const from = h.slack.calls.length;
    // Slack's answer to a burst: LIMIT posts a second, then 429 with Retry-After: 1 to every post.
    const lift = h.slack.limitRate('chat.postMessage', LIMIT, 1000);
    try {
      const id = await h.request(alice, { role: 'crowd', duration: '1h' });
      for (const c of CROWD) await h.slack.waitForDm(c.id, (m) => JSON.stringify(m.blocks).includes(`request:${id}`), 20_000);
    } finally {
      lift();
    }
    const posts = h.slack.calls.slice(from).filter((c) => c.path === '/api/chat.postMessage');
    const limited = posts.filter((c) => c.status === 429);
    // The rule: once the bot has read a 429 (a few ms after Slack sent it), no post is sent for
    // the second it names. Calls already on their way when it was sent may still arrive.
    const t0 = posts[0]!.arrivedAt;
    const timeline = posts.map((p) => `${Math.round(p.arrivedAt - t0)}ms:${p.status}`).join(' ');
    const early = posts.filter((p) => limited.some((l) => p.arrivedAt > l.answeredAt + 100 && p.arrivedAt < l.answeredAt + 900));
    assert.equal(early.length, 0, `posts sent while a 429's Retry-After ran: ${timeline}`);
    // So each window of Retry-After meets at most the 429s of the posts in flight when it opens
    // (on an idle machine about one a second; on a loaded one the posts held back leave
    // together, so up to CONCURRENCY a window); each effect retrying on its own met one per DM
    // per second (28 here).
    const seconds = Math.ceil((CROWD.length + 1) / LIMIT);
    assert.ok(limited.length <= CONCURRENCY * (seconds + 1), `${limited.length} 429s for ${CROWD.length + 1} DMs over ${seconds} s: ${timeline}`);
    // Each DM landed once.
    for (const c of CROWD) assert.equal(h.slack.dmsTo(c.id).length, 1, c.id);
  });

  test("views.open held past its trigger's 3 s fails at once, unsent, with a clear log", async () => {
    const lift = h.slack.rateLimit('views.open', 1, 30);
    try {
      const before = h.slack.callsTo('POST', '/api/views.open').length;
      await h.driver.command(alice.slackId);
      await h.slack.waitFor((c) => c.path === '/api/views.open' && c.status === 429);
      const t0 = Date.now();
      const res = await h.driver.command(alice.slackId);
      assert.equal(res.status, 200);
      await waitUntil(() => h.logs.filter((l) => l.includes('Slack rate-limits views.open past its trigger')).length === 1, 2000, 'the log line');
      assert.ok(Date.now() - t0 < 1500, 'no waiting for the hold');
      assert.equal(h.slack.callsTo('POST', '/api/views.open').length, before + 1, 'the second views.open was not sent');
    } finally {
      lift();
    }
  });
});
