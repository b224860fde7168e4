import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { SEEN_RETENTION_MS } from '../../src/app/jiraChange.js';
import { Harness, PEOPLE, waitUntil } from '../support/harness.js';

const SECRET = 'jira-webhook-secret-5e6f';
const { alice, bob } = PEOPLE;

describe('Jira webhook: tamper evidence', () => {
  let h: Harness;
  let requestId: string;
  let key: string;
  before(async () => {
    h = await new Harness({ env: { JIRA_WEBHOOK_SECRET: SECRET } }).start();
    requestId = await h.request(alice, { duration: '4h' });
    await h.click(bob, requestId, 'approve');
    await waitUntil(() => h.bot.store.getRequest(requestId)!.state === 'active', 5000, 'active');
    await h.idle();
    key = h.bot.store.getRequest(requestId)!.jiraKey!;
  });
  after(async () => {
    await h.stop();
  });

  // As Jira Cloud delivers an admin webhook registered with a secret: every event carries its
  // `timestamp` (ms), so two events never have the same body.
  let stamp = Date.now();
  const deliver = (payload: Record<string, unknown>, opts: { id?: string; secret?: string; signature?: string } = {}) => {
    const body = JSON.stringify({ timestamp: ++stamp, ...payload });
    const sig = opts.signature ?? `sha256=${createHmac('sha256', opts.secret ?? SECRET).update(body).digest('hex')}`;
    return fetch(`${h.bot.url}/webhooks/jira`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hub-signature': sig, 'x-atlassian-webhook-identifier': opts.id ?? String(Math.random()), 'x-atlassian-webhook-flow': 'Primary' },
      body,
    });
  };

  test('unsigned, mis-signed or malformed deliveries are refused and change nothing', async () => {
    const before = h.bot.store.auditOf(requestId).length;
    assert.equal((await deliver({ webhookEvent: 'jira:issue_deleted', issue: { key } }, { secret: 'wrong' })).status, 401);
    assert.equal((await deliver({ webhookEvent: 'jira:issue_deleted', issue: { key } }, { signature: '' })).status, 401);
    const body = '[1,2';
    const res = await fetch(`${h.bot.url}/webhooks/jira`, { method: 'POST', headers: { 'x-hub-signature': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}` }, body });
    assert.equal(res.status, 400);
    assert.equal(h.bot.store.auditOf(requestId).length, before);
  });

  test("deleting a comment access-bot wrote is recorded on the issue and alerted; a redelivery is dropped", async () => {
    const issue = h.jira.issue(key)!;
    const ours = issue.comments[1]!;
    const event = { webhookEvent: 'comment_deleted', issue: { key }, comment: { id: ours.id, author: { displayName: 'Access Bot' } }, user: { displayName: 'Mallory Admin' } };
    const first = await deliver({ ...event, timestamp: ++stamp }, { id: 'delivery-1' });
    assert.deepEqual(await first.json(), { result: 'recorded' });
    const again = await deliver({ ...event, timestamp: stamp }, { id: 'delivery-1' });
    assert.deepEqual(await again.json(), { result: 'duplicate' });
    await h.idle();
    const notes = h.jiraComments(requestId).filter((c) => c.includes('was deleted by Mallory Admin'));
    assert.equal(notes.length, 1);
    assert.match(notes[0]!, new RegExp(`^A comment written by access-bot \\(id ${ours.id}\\) was deleted by Mallory Admin on `));
    assert.ok(h.slack.messages.some((m) => m.channel === 'C0ADMIN' && m.text.includes('deleted by Mallory Admin')));
  });

  test("someone else's comment, or an unknown issue, is ignored", async () => {
    const other = await deliver({ webhookEvent: 'comment_deleted', issue: { key }, comment: { id: '99999' }, user: { displayName: 'Dave' } });
    assert.deepEqual(await other.json(), { result: 'ignored' });
    const unknown = await deliver({ webhookEvent: 'jira:issue_deleted', issue: { key: 'ZZZ-1' }, user: { displayName: 'Dave' } });
    assert.deepEqual(await unknown.json(), { result: 'ignored' });
  });

  test('deleting the issue is audited and alerted (the issue can no longer say so)', async () => {
    const res = await deliver({ webhookEvent: 'jira:issue_deleted', issue: { key }, user: { displayName: 'Mallory Admin' } });
    assert.deepEqual(await res.json(), { result: 'recorded' });
    await h.idle();
    assert.ok(h.bot.store.auditOf(requestId).some((a) => a.step.type === 'record_changed' && a.step.change === 'issue_deleted'));
    assert.ok(h.slack.messages.some((m) => m.channel === 'C0ADMIN' && m.text.includes(`${key} of access request`)));
    assert.equal(h.bot.store.verifyAuditChain(), undefined);
  });

  test('webhook replay: a captured signed body replayed under a new delivery id is a duplicate', async () => {
    const before = h.bot.store.auditOf(requestId).length;
    const event = { webhookEvent: 'comment_updated', issue: { key }, comment: { id: h.jira.issue(key)!.comments[1]!.id }, user: { displayName: 'Mallory Admin' }, timestamp: ++stamp };
    assert.deepEqual(await (await deliver(event, { id: 'original' })).json(), { result: 'recorded' });
    for (const id of ['replay-1', 'replay-2']) assert.deepEqual(await (await deliver(event, { id })).json(), { result: 'duplicate' }, id);
    await h.idle();
    assert.equal(h.bot.store.auditOf(requestId).length, before + 1, 'one audit row for one change');
    assert.equal(h.jiraComments(requestId).filter((c) => c.includes('was edited by Mallory Admin')).length, 1);
  });

  test('webhook replay: a signed body older than deliveries are remembered is refused', async () => {
    const before = h.bot.store.auditOf(requestId).length;
    const old = Date.now() - SEEN_RETENTION_MS - 60_000;
    const res = await deliver({ webhookEvent: 'comment_deleted', issue: { key }, comment: { id: h.jira.issue(key)!.comments[1]!.id }, user: { displayName: 'Mallory Admin' }, timestamp: old });
    assert.equal(res.status, 400);
    assert.deepEqual(await res.json(), { error: 'delivery too old' });
    assert.equal(h.bot.store.auditOf(requestId).length, before);
  });

  test('webhook replay: deliveries seen are forgotten after their retention, at start-up and hourly', async () => {
    const seen = () => (h.bot.db.prepare("SELECT key FROM inbound_seen WHERE key LIKE 'jira%:test-%' ORDER BY key").all() as { key: string }[]).map((r) => r.key);
    h.bot.db.prepare('INSERT INTO inbound_seen (key, at) VALUES (?, ?), (?, ?)').run('jira:test-old', Date.now() - SEEN_RETENTION_MS - 1000, 'jira:test-fresh', Date.now() - 1000);
    assert.deepEqual(seen(), ['jira:test-fresh', 'jira:test-old']);
    await h.restart();
    assert.deepEqual(seen(), ['jira:test-fresh']);
  });

  test('an aborted body (Content-Length 1000, 100 bytes, then closed) rejects nothing and the bot keeps serving', async () => {
    // In the bot's own process an unhandled rejection is fatal (main.ts); the test runner only
    // reports it, so the test watches for one.
    const rejected: unknown[] = [];
    const watch = (err: unknown) => void rejected.push(err);
    process.on('unhandledRejection', watch);
    try {
      for (const path of ['/webhooks/jira', '/slack/events']) {
        await abortedBody(h.bot.url, path);
        const health = await fetch(`${h.bot.url}/healthz`);
        assert.equal(health.status, 200, `still serving after an aborted ${path}`);
      }
    } finally {
      process.off('unhandledRejection', watch);
    }
    assert.deepEqual(rejected.map((e) => (e as Error).message), []);
    assert.equal((await deliver({ webhookEvent: 'jira:issue_updated', issue: { key: 'ZZZ-2' } })).status, 200);
  });
});

/** Sends headers announcing 1,000 bytes, 100 of them, and closes the socket. */
async function abortedBody(base: string, path: string): Promise<void> {
  const url = new URL(base);
  const socket = connect(Number(url.port), url.hostname);
  await once(socket, 'connect');
  socket.write(`POST ${path} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\nX-Hub-Signature: sha256=${'0'.repeat(64)}\r\n\r\n${'{'.repeat(100)}`);
  await new Promise((r) => setTimeout(r, 50));
  socket.destroy();
  await new Promise((r) => setTimeout(r, 100));
}
