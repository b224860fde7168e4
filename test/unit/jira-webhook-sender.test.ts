/**
 * The Jira emulator's admin webhook, against a plain HTTP receiver: signed as the bot verifies
 * (src/adapters/jira/webhook.ts), one identifier per delivery kept across retries, retries on
 * the statuses Jira retries with `X-Atlassian-Webhook-Retry`, none on a 4xx it does not, and the
 * faults tests rely on (drops, duplicates, a held queue).
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, test } from 'node:test';
import { verifyJiraSignature } from '../../src/adapters/jira/webhook.js';
import { WebhookSender } from '../emulators/jira/webhooks.js';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

describe('Jira emulator webhooks', () => {
  let server: Server;
  let url = '';
  let received: Received[] = [];
  /** Statuses to answer, in order; 200 once they run out. */
  let answers: number[] = [];
  before(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(answers.shift() ?? 200).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/jira`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));
  beforeEach(() => {
    received = [];
    answers = [];
  });

  function sender(): WebhookSender {
    const s = new WebhookSender();
    s.retryDelaysMs = [5, 5, 5];
    s.register({ url, secret: 'hook-secret-123' });
    return s;
  }

  test('a delivery is signed as the bot verifies, and its identifier stays across retries of 503 and 429', async () => {
    const s = sender();
    answers = [503, 429];
    s.send('jira:issue_created', () => ({ webhookEvent: 'jira:issue_created', issue: { id: '1', key: 'ACC-1' } }));
    await s.idle();
    assert.equal(received.length, 3);
    for (const r of received) assert.ok(verifyJiraSignature('hook-secret-123', Buffer.from(r.body), String(r.headers['x-hub-signature'])));
    assert.equal(new Set(received.map((r) => r.headers['x-atlassian-webhook-identifier'])).size, 1);
    assert.deepEqual(received.map((r) => r.headers['x-atlassian-webhook-retry']), [undefined, '1', '2']);
    assert.deepEqual(s.deliveries.map((d) => [d.issueKey, d.outcome, d.attempts]), [['ACC-1', 'delivered', [503, 429, 200]]]);
  });

  test('a 400 is not retried; retries stop when they run out', async () => {
    const s = sender();
    answers = [400];
    s.send('jira:issue_updated', () => ({ issue: { key: 'ACC-2' } }));
    await s.idle();
    assert.deepEqual(s.deliveries[0]?.attempts, [400]);
    answers = [500, 500, 500, 500];
    s.send('jira:issue_updated', () => ({ issue: { key: 'ACC-3' } }));
    await s.idle();
    assert.deepEqual([s.deliveries[1]?.outcome, s.deliveries[1]?.attempts], ['failed', [500, 500, 500, 500]]);
  });

  test('drops, duplicates and a held queue', async () => {
    const s = sender();
    s.dropNext(1);
    s.duplicateNext(1);
    s.send('jira:issue_created', () => ({ issue: { key: 'ACC-4' } }));
    s.send('jira:issue_created', () => ({ issue: { key: 'ACC-5' } }));
    await s.idle();
    assert.deepEqual(s.deliveries.map((d) => [d.issueKey, d.outcome, d.duplicated]), [['ACC-4', 'dropped', false], ['ACC-5', 'delivered', true]]);
    assert.equal(received.length, 2, 'ACC-5 twice, ACC-4 never');
    assert.equal(received[0]?.body, received[1]?.body);
    assert.equal(received[0]?.headers['x-atlassian-webhook-identifier'], received[1]?.headers['x-atlassian-webhook-identifier']);

    s.pause();
    s.send('jira:issue_created', () => ({ issue: { key: 'ACC-6' } }));
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(received.length, 2, 'held');
    s.resume();
    await s.idle();
    assert.equal(received.length, 3);
  });

  test('nothing is sent without a registration, or for an event not registered', async () => {
    const s = new WebhookSender();
    s.send('jira:issue_created', () => ({}));
    s.register({ url, events: ['jira:issue_deleted'] });
    s.send('jira:issue_created', () => ({}));
    await s.idle();
    assert.equal(received.length, 0);
    assert.equal(s.deliveries.length, 0);
  });
});
