import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
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

  // As Jira Cloud delivers an admin webhook registered with a secret.
  const deliver = (payload: unknown, opts: { id?: string; secret?: string; signature?: string } = {}) => {
    const body = JSON.stringify(payload);
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
    const first = await deliver(event, { id: 'delivery-1' });
    assert.deepEqual(await first.json(), { result: 'recorded' });
    const again = await deliver(event, { id: 'delivery-1' });
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
});
