/**
 * The scheduled jobs on two replicas of one Postgres database (issue 20): a tick of the
 * account-status check fired on both replicas is run by one of them (jobs/runClaims.ts), so the
 * IdP is asked once per holder and the run's admin alert is posted once. A run by hand always
 * runs. Two bots of the real composition share the database (Harness.replica).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { AccessBot } from '../../../src/compose.js';
import { ADMIN_CHANNEL } from '../../support/fixtures.js';
import { Harness, PEOPLE, waitUntil } from '../../support/harness.js';

const { alice, bob, carol } = PEOPLE;
const QUARTER = 15 * 60_000;
const FORBIDDEN = { errorCode: 'E0000006', errorSummary: 'You do not have permission to perform the requested action', errorLink: 'E0000006', errorId: 'oae403runs', errorCauses: [] };

describe('scheduled runs on two replicas (Postgres)', () => {
  let h: Harness;
  let a: AccessBot;
  let b: AccessBot;
  before(async () => {
    h = await new Harness({ store: 'postgres' }).start();
    await h.approvedGrant(alice, bob);
    await h.approvedGrant(carol, bob);
    a = h.bot;
    b = (await h.replica()).bot;
  });
  after(async () => {
    await h.stop();
  });

  const statusReads = (p: typeof alice) => h.okta.callsTo('GET', `/api/v1/users/${p.oktaId}`).length;
  const told = () => h.slack.messages.filter((m) => m.channel === ADMIN_CHANNEL.id && /^The account-status check could not read some accounts/.test(m.text ?? ''));
  const idle = () => Promise.all([a.dispatcher.idle(10_000), b.dispatcher.idle(10_000)]);

  test('a tick fired on both replicas is run by one: the IdP is asked once per holder, admins are told once', async () => {
    // Carol's account cannot be read: the run that reads it tells admins.
    const stop = h.okta.inject({ method: 'GET', path: `/api/v1/users/${carol.oktaId}`, status: 403, body: FORBIDDEN });
    const [aliceBefore, carolBefore] = [statusReads(alice), statusReads(carol)];
    const slot = Math.floor(Date.now() / QUARTER) * QUARTER;
    const runs = await Promise.all([a.holderChecks.scheduledCheck(slot), b.holderChecks.scheduledCheck(slot)]);
    stop();
    const ran = runs.filter((r) => r !== undefined);
    assert.equal(ran.length, 1, 'one replica ran the tick, the other skipped it');
    assert.equal(ran[0]!.checked, 1);
    assert.deepEqual(
      ran[0]!.failed.map((f) => [f.connector, f.count]),
      [['okta', 1]],
    );
    assert.equal(statusReads(alice) - aliceBefore, 1, "alice's account read once");
    assert.equal(statusReads(carol) - carolBefore, 1, "carol's account read once");
    await waitUntil(() => told().length > 0, 5000, 'admins told');
    await idle();
    assert.equal(told().length, 1, 'one admin alert, not one per replica');

    // The same tick fired again (late, or on a replica that just started) is not run again.
    assert.equal(await a.holderChecks.scheduledCheck(slot), undefined);
    assert.equal(await b.holderChecks.scheduledCheck(slot), undefined);
    assert.equal(statusReads(alice) - aliceBefore, 1);
  });

  test('the next tick is run once too, by whichever replica claims it first; an older tick is refused', async () => {
    const before = statusReads(alice);
    const next = Math.floor(Date.now() / QUARTER) * QUARTER + QUARTER;
    const byB = await b.holderChecks.scheduledCheck(next);
    assert.equal(byB?.checked, 2);
    assert.deepEqual(byB?.failed, []);
    assert.equal(await a.holderChecks.scheduledCheck(next), undefined);
    assert.equal(await a.holderChecks.scheduledCheck(next - QUARTER), undefined, 'a tick older than the last one run is not run');
    assert.equal(statusReads(alice) - before, 1);
    const holder = a.sql.value("SELECT holder FROM scheduled_runs WHERE job = 'account-status'");
    assert.match(String(holder), /^.+:\d+$/, 'the claim names the replica (hostname:pid)');
  });

  test('a run by hand always runs, on each replica asked', async () => {
    const before = statusReads(alice);
    const [byA, byB] = await Promise.all([a.holderChecks.checkAccounts(), b.holderChecks.checkAccounts()]);
    assert.equal(byA.checked, 2);
    assert.equal(byB.checked, 2);
    assert.equal(statusReads(alice) - before, 2);
    await idle();
    assert.equal(told().length, 1, 'nothing more to tell');
  });
});
