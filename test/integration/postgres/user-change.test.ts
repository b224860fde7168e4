/**
 * A `user_change` event reaches one replica (Slack delivers each event once, to the request URL
 * behind the load balancer); every replica must stop trusting its in-memory users.info answer.
 * Two bots on one Postgres database (test/support/postgres.ts), driven through the emulators.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PgDb } from '../../../src/adapters/postgres/db.js';
import { FORGOTTEN_CHANNEL } from '../../../src/adapters/postgres/slackUserCache.js';
import { Harness, SIGNING_SECRET, waitUntil, type Person } from '../../support/harness.js';

const fay: Person = { slackId: 'U0FAY', email: 'fay@example.com', name: 'Fay Fields', oktaId: '00u1fay' };

const reason = (text: string) => ({
  application: { application: 'okta-console' },
  role: { role: 'read-only' },
  duration: { duration: '4h' },
  reason: { reason: text },
});

describe('a user changed in Slack, on two replicas', () => {
  let h: Harness;
  before(async () => {
    h = await new Harness({ store: 'postgres' }).start();
  });
  after(async () => {
    await h.stop();
  });

  test('a member made a guest, told to replica A only, is refused by replica B within the minute', async () => {
    const b = await h.replica();
    h.slack.subscribeEvents({ requestUrl: h.driver.eventsUrl, signingSecret: SIGNING_SECRET, botEvents: ['user_change'] });
    h.slack.addUser({ id: fay.slackId, email: fay.email, realName: fay.name });
    h.okta.addUser({ id: fay.oktaId, login: fay.email, email: fay.email, firstName: 'Fay', lastName: 'Fields' });
    const usersInfo = () => h.slack.callsTo('POST', '/api/users.info').filter((c) => c.rawBody.includes(fay.slackId)).length;

    // Both replicas look Fay up, as a member, and hold the answer in memory (B from A's kept row).
    await h.driver.command(fay.slackId);
    const onA = await h.slack.waitForView((v) => v.userId === fay.slackId && v.view.callback_id === 'access_request');
    await b.driver.command(fay.slackId);
    const onB = await h.slack.waitForView((v) => v.userId === fay.slackId && v.view.callback_id === 'access_request' && v.id !== onA.id);
    const asked = usersInfo();

    // Made a guest; Slack tells A. No clock moves: within the minute, only the event can show it.
    const delivery = await h.slack.changeUser({ id: fay.slackId, email: fay.email, realName: fay.name, guest: 'multi-channel' });
    assert.equal(delivery?.status, 200, 'A accepted the signed user_change');
    // B hears it from Postgres (asynchronously, as a replica would a moment later).
    await waitUntil(() => b.logs.some((l) => l.includes('a replica forgot a Slack user') && l.includes(fay.slackId)), 5000, 'B heard that Fay changed');

    const res = await b.driver.submitView(fay.slackId, onB.id, reason('Submitted to B right after becoming a guest'));
    assert.deepEqual(res.body, { response_action: 'errors', errors: { application: 'Slack guests cannot request access.' } });
    assert.equal(usersInfo(), asked + 1, 'B asked Slack again');
    assert.equal(b.bot.sql.value<number>('SELECT count(*) AS n FROM requests'), 0);
  });

  test('a notification on the channel that names no Slack user is ignored, with a warning', async () => {
    const db = PgDb.open(h.config.databaseUrl!);
    try {
      db.run(`SELECT pg_notify('${FORGOTTEN_CHANNEL}', $1)`, ['not a user; DROP TABLE x']);
    } finally {
      db.close();
    }
    await waitUntil(() => h.logs.some((l) => l.includes('ignored a notification that names no Slack user') && l.includes('not a user')), 5000, 'warned');
    assert.equal((await fetch(`${h.bot.url}/healthz`)).status, 200, 'the bot runs on');
  });
});
