/**
 * Inactivity reclaim (issue 19) through the emulators: a role's `reclaim: { after: 60d, warn: 7d }`,
 * last sign-ins from Okta's `lastLogin`, the warning DM with Keep it (which asks for a reason and
 * records it on the Jira issue), a sign-in during the grace calling it off, and the revocation
 * after the grace on the grant's issue, or on a new issue for standing access. The clock is
 * injected (an offset moved by the test) and the reclaim run by hand: no waiting.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { GROUPS, Harness, PEOPLE, waitUntil } from '../support/harness.js';
import { catalogYaml } from '../support/fixtures.js';
import { SlackClientRefusal } from '../support/slackDriver.js';

const { alice, bob, carol, dave } = PEOPLE;
const DAY = 86_400_000;

const CATALOG = catalogYaml({
  applications: [
    {
      id: 'console',
      name: 'Console',
      owners: [bob.email],
      reclaim: { after: '60d', warn: '7d' },
      roles: [
        { id: 'operator', name: 'Operator', group: GROUPS.readOnly, durations: ['permanent', '90d'], approvers: ['owners'] },
        { id: 'admin', name: 'Admin', group: GROUPS.superAdmin, durations: ['permanent'], approvers: ['owners'], reclaim: 'off' },
      ],
    },
  ],
});

describe('inactivity reclaim', () => {
  let h: Harness;
  before(async () => {
    h = await new Harness({ catalog: CATALOG, movableClock: true }).start();
  });
  after(async () => {
    await h.stop();
  });

  const at = (t: number) => h.moveClockTo(t);

  /** Runs reclaim now and lets its effects land. */
  async function reclaim() {
    const run = await h.bot.holderChecks.reclaim();
    await h.idle();
    return run;
  }

  async function activeGrant(who: typeof alice, role = 'operator'): Promise<{ id: string; grantedAt: number }> {
    const id = await h.approvedGrant(who, bob, { app: 'console', role, duration: 'permanent' });
    return { id, grantedAt: h.bot.store.getRequest(id)!.grantedAt! };
  }

  const warningsTo = (p: typeof alice) => h.slack.dmsTo(p.slackId).filter((m) => /looks unused/.test(m.text));
  const keepButton = (m: { blocks: unknown[] }) => JSON.stringify(m.blocks).includes('"reclaim_keep"');

  test('a grant unused long enough is warned; Keep it asks for a reason, records it on the issue, and the access stays', async () => {
    const g = await activeGrant(alice);
    await activeGrant(alice, 'admin');
    h.okta.setLastLogin(alice.oktaId, g.grantedAt - 100 * DAY);

    at(g.grantedAt + 52 * DAY);
    assert.equal((await reclaim()).outcomes.none, 1, 'not warned before after - warn (53 days)');
    assert.equal(warningsTo(alice).length, 0);

    at(g.grantedAt + 54 * DAY);
    const run = await reclaim();
    assert.equal(run.outcomes.warn, 1);
    const [warning] = warningsTo(alice);
    assert.ok(warning, 'alice is warned by DM');
    const r0 = h.bot.store.getRequest(g.id)!;
    assert.equal(r0.reclaimAt! - r0.reclaimWarnedAt!, 7 * DAY, 'a full grace of 7 days from the warning, since it came a day late');
    assert.match(warning.text, /Console \/ Operator \(ACC-\d+\) looks unused: no sign-in in okta for a long time\. It will be removed on .* unless you use it or keep it/);
    assert.ok(keepButton(warning));
    const warnedComment = h.jiraComments(g.id).find((c) => c.startsWith('Inactivity warning sent'));
    assert.ok(warnedComment, 'the warning is on the grant\'s Jira issue');
    assert.match(warnedComment, /unused since .* \(last sign-in to okta .*\); access unused for 60 days is reclaimed\. It will be removed on .* unless its holder keeps it\./);
    assert.equal(h.bot.store.getRequest(g.id)!.state, 'active', 'the admin role opted out (reclaim: off): only the operator grant is looked at');

    // Someone else's click on Keep it keeps nothing.
    await h.driver.clickButton(bob.slackId, warning, 'reclaim_keep');
    await h.slack.waitForResponseUrlPost((p) => p.context.user === bob.slackId && /Only the person who holds this access can keep it/.test(String(p.body.text)));
    assert.equal(h.bot.store.getRequest(g.id)!.reclaimWarnedAt !== null, true);

    // Alice keeps it, with a reason.
    const before = new Set(h.slack.views.keys());
    await h.driver.clickButton(alice.slackId, warning, 'reclaim_keep');
    const modal = await h.slack.waitForView((v) => v.userId === alice.slackId && !before.has(v.id) && v.view.callback_id === 'reclaim_keep_reason');
    await assert.rejects(h.driver.submitView(alice.slackId, modal.id, { reason: { reason: 'ok' } }), SlackClientRefusal, 'the modal asks for at least 3 characters');
    const res = await h.driver.submitView(alice.slackId, modal.id, { reason: { reason: 'Month-end close needs it' } });
    assert.equal(res.status, 200);
    await h.idle();
    const r = h.bot.store.getRequest(g.id)!;
    assert.equal(r.reclaimWarnedAt, null);
    assert.ok(r.reclaimKeptAt! >= g.grantedAt + 54 * DAY && r.reclaimKeptAt! < g.grantedAt + 55 * DAY);
    const kept = h.jiraComments(g.id).find((c) => c.startsWith('Kept by'));
    assert.match(kept ?? '', /^Kept by Alice Smith \(alice@example\.com\) on .* — Month-end close needs it\. Inactivity is counted again from now\.$/);
    await waitUntil(() => !keepButton(warningsTo(alice)[0]!), 5000, 'the warning loses its button');
    assert.match(warningsTo(alice)[0]!.text, /You kept it on/);
    await h.slack.waitForDm(alice.slackId, (m) => /^You kept Console \/ Operator \(ACC-\d+\); your reason is on its Jira issue\./.test(m.text));

    // A second Keep it, on the message as it was, has nothing left to keep.
    await h.driver.clickButton(alice.slackId, warning.history[0]!, 'reclaim_keep');
    await h.slack.waitForResponseUrlPost((p) => p.context.user === alice.slackId && /nothing to keep/.test(String(p.body.text)));

    // Past the old removal date: kept access is counted from the keep, so nothing happens.
    at(g.grantedAt + 62 * DAY);
    assert.deepEqual((await reclaim()).outcomes, { none: 1 });
    assert.equal(h.bot.store.getRequest(g.id)!.state, 'active');
    assert.ok(h.okta.isMember(GROUPS.readOnly, alice.oktaId));
    assert.equal(h.bot.store.auditOf(g.id).filter((a) => a.step.type === 'reclaim_warned').length, 1);
  });

  test('unused after the grace: revoked on the grant\'s issue; standing access is warned on an issue of its own and removed; a sign-in during the grace calls it off', async () => {
    const t1 = h.bot.ctx.now();
    const g = await activeGrant(carol);
    // Alice (kept in the test above) keeps using hers.
    h.okta.setLastLogin(alice.oktaId, g.grantedAt + 50 * DAY);
    // Standing access: dave and bob are in the group without a request (the user sync lists them).
    for (const p of [dave, bob]) {
      h.okta.addMember(GROUPS.readOnly, p.oktaId);
      h.okta.setLastLogin(p.oktaId, t1 - 200 * DAY);
    }
    await h.bot.memberSync.runOnce();

    at(g.grantedAt + 54 * DAY);
    const run = await reclaim();
    assert.equal(run.outcomes.warn, 3, 'carol (her grant), dave and bob (standing)');
    const standing = (p: typeof dave) => h.bot.store.requestsOf(h.bot.store.personByEmail(p.email)!.id, 10).find((r) => r.origin === 'standing')!;
    const daveRecord = standing(dave);
    assert.equal(daveRecord.state, 'active');
    assert.equal(daveRecord.idpUserId, dave.oktaId);
    await waitUntil(() => h.bot.store.getRequest(daveRecord.id)!.jiraKey !== null, 5000, 'the standing access issue');
    const daveIssue = h.jira.issue(h.bot.store.getRequest(daveRecord.id)!.jiraKey!)!;
    assert.equal(daveIssue.summary, 'Standing access: Dave Brown → Console / Operator (inactivity reclaim)');
    const daveComments = h.jiraComments(daveRecord.id);
    assert.match(daveComments[0]!, /^Standing access found on .*: 00u1dave \(dave@example\.com\) is a member of okta group 00g1readonly, not granted by access-bot \(first listed by the user sync on .*\)\. Recorded here for inactivity reclaim\.$/);
    assert.match(daveComments[1]!, /^Inactivity warning sent on .*: unused since .* \(last sign-in to okta .*\)/);
    // Dave never used access-bot: he is found in Slack by email and warned there.
    const [daveWarning] = warningsTo(dave);
    assert.ok(daveWarning);
    assert.match(daveWarning.text, /you are in its group without a request through access-bot/);
    assert.ok(warningsTo(carol)[0], 'carol is warned');
    assert.match(h.jiraComments(g.id).find((c) => c.startsWith('Inactivity warning'))!, /\(okta has no sign-in on record\)/);

    // Bob signs in during the grace: his warning is withdrawn.
    at(g.grantedAt + 56 * DAY);
    h.okta.setLastLogin(bob.oktaId, g.grantedAt + 55 * DAY);
    assert.equal((await reclaim()).outcomes.clear, 1);
    const bobRecord = standing(bob);
    assert.match(h.jiraComments(bobRecord.id).at(-1)!, /^Inactivity reclaim called off on .*: a sign-in to okta on .* was seen\.$/);
    await waitUntil(() => /A sign-in since the warning was seen/.test(warningsTo(bob)[0]?.text ?? ''), 5000, "bob's warning updated");

    // Past the grace: carol's grant and dave's standing access are removed; bob's stays.
    at(g.grantedAt + 61 * DAY + 1000);
    // Okta fails carol's removal for a while: her grant stays `revoking`.
    const outage = h.okta.inject({ method: 'DELETE', path: `/api/v1/groups/${GROUPS.readOnly}/users/${carol.oktaId}`, status: 503, body: { errorCode: 'E0000009', errorSummary: 'Internal Server Error' } });
    const last = await h.bot.holderChecks.reclaim();
    assert.equal(last.outcomes.revoke, 2);
    await waitUntil(() => h.okta.calls.some((c) => c.method === 'DELETE' && c.path.endsWith(carol.oktaId)), 5000, 'the removal tried');
    // Meanwhile carol is still in the listing, but her access is being given back: not standing access.
    const during = await h.bot.holderChecks.reclaim();
    assert.equal(during.outcomes.warn ?? 0, 0);
    assert.ok(!h.bot.store.requestsOf(h.bot.store.personByEmail(carol.email)!.id, 10).some((r) => r.origin === 'standing'));
    outage();
    await waitUntil(() => h.bot.store.getRequest(g.id)!.state === 'revoked' && h.bot.store.getRequest(daveRecord.id)!.state === 'revoked', 5000, 'revoked');
    await h.idle();
    assert.equal(h.okta.isMember(GROUPS.readOnly, carol.oktaId), false);
    assert.equal(h.okta.isMember(GROUPS.readOnly, dave.oktaId), false, 'standing access is removed whoever added it');
    assert.equal(h.okta.isMember(GROUPS.readOnly, bob.oktaId), true);
    assert.match(
      h.jiraComments(g.id).at(-1)!,
      /^Access revoked \(reclaimed: unused since .* \(okta has no sign-in on record\); warned .*\) on .*: removed 00u1carol from okta group 00g1readonly\.$/,
    );
    assert.match(h.jiraComments(daveRecord.id).at(-1)!, /^Access revoked \(reclaimed: unused since .*; warned .*\) on .*: removed 00u1dave from okta group 00g1readonly \(standing access, not granted by access-bot\)\.$/);
    await h.slack.waitForDm(carol.slackId, (m) => /was removed: it went unused after the inactivity warning/.test(m.text));
    assert.ok(!keepButton(warningsTo(carol)[0]!), "carol's warning loses its button");

    // A later run finds nothing more to do: what ended stays ended, nothing is warned twice.
    at(g.grantedAt + 62 * DAY);
    const again = await reclaim();
    assert.equal(again.outcomes.revoke ?? 0, 0);
    assert.equal(again.outcomes.warn ?? 0, 0);
  });
});
