/**
 * What the bot sends to Slack (issue 14, item 12): after a 429 a method waits for Retry-After.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DEFAULT_CATALOG, GROUPS, Harness, PEOPLE, waitUntil } from '../support/harness.js';

const { alice } = PEOPLE;

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
    // So the burst meets the 429s of the posts in flight with the first, then about one a
    // second; each effect retrying on its own met one per DM per second (28 here).
    const seconds = Math.ceil((CROWD.length + 1) / LIMIT);
    assert.ok(limited.length <= CONCURRENCY + seconds, `${limited.length} 429s for ${CROWD.length + 1} DMs over ${seconds} s: ${timeline}`);
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
