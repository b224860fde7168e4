/**
 * An access review meets inactivity reclaim (issue 19), through the emulators: standing access
 * reclaim has recorded (a request row of origin `standing`, warned, not yet revoked) is standing
 * access in the review, not a grant of access-bot. A Revoke removes the membership once, as
 * standing access, and ends the reclaim record on its own issue; the reclaim that was to take it
 * back later finds nothing left to do, nor standing access the review removed that reclaim had
 * not looked at yet. A removal request of such access sees standing access too. The clock is injected and moved; reclaim is run by hand.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { runReview } from '../../src/review-cli.js';
import type { StoredMessage, StoredView } from '../emulators/slack.js';
import { addPerson, catalogYaml, person } from '../support/fixtures.js';
import { Harness, PEOPLE, waitUntil, type Person } from '../support/harness.js';

const { alice, bob, carol, dave } = PEOPLE;
const erin = person('erin', 'Erin Green');
const DAY = 86_400_000;
const TIME = '\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC';
const OPS = '00g1rrops';

const CATALOG = catalogYaml({
  applications: [
    {
      id: 'console',
      name: 'Console',
      owners: [bob.email],
      reclaim: { after: '60d', warn: '7d' },
      roles: [{ id: 'operator', name: 'Operator', group: OPS, durations: ['permanent'], approvers: ['owners'] }],
    },
  ],
});

describe('standing access inactivity reclaim recorded, in an access review and a removal request', () => {
  let h: Harness;
  before(async () => {
    h = await new Harness({ catalog: CATALOG, movableClock: true }).start();
    h.okta.addGroup({ id: OPS, name: 'Console operators' });
    addPerson(h, erin);
  });
  after(async () => {
    await h.stop();
  });

  const clock = () => h.bot.ctx.now();
  const reviewComments = (id: string) => h.jira.commentsText(h.bot.ctx.reviews.getCampaign(id)!.jiraKey!).map((c) => c.replace(/ Audit log head: .*$/, ''));
  const standingOf = (p: Person) => {
    const known = h.bot.store.personByEmail(p.email);
    return known ? h.bot.store.requestsOf(known.id, 10).filter((r) => r.origin === 'standing') : [];
  };

  async function reclaim() {
    const run = await h.bot.holderChecks.reclaim();
    await h.idle();
    return run;
  }

  /** `/access remove` typed by `who`: the form it opened, and the holdings it offers. */
  async function removalForm(who: Person): Promise<StoredView> {
    const views = new Set(h.slack.views.keys());
    await h.driver.command(who.slackId, '/access', 'remove');
    return h.slack.waitForView((v) => v.userId === who.slackId && !views.has(v.id) && v.view.callback_id === 'access_removal', 5000);
  }

  async function removalOptions(who: Person): Promise<string[][]> {
    const v = await removalForm(who);
    const block = (v.view.blocks as { block_id?: string; element?: { options?: { value: string; text: { text: string } }[] } }[]).find((b) => b.block_id === 'holding');
    return (block?.element?.options ?? []).map((o) => [o.value, o.text.text]);
  }

  function rowText(msg: StoredMessage, seq: number): string {
    return (msg.blocks.find((b) => b.block_id === `review_row:${seq}`) as { text?: { text?: string } } | undefined)?.text?.text ?? '';
  }

  test('the row says standing access; Revoke removes the membership once and ends the reclaim record; reclaim then does nothing more', async () => {
    const t0 = clock();
    // Alice holds Operator by a grant of access-bot and uses it; Dave is in the group without a request and has not signed in for months.
    const grant = await h.approvedGrant(alice, bob, { app: 'console', role: 'operator', duration: 'permanent' });
    const grantKey = h.bot.store.getRequest(grant)!.jiraKey!;
    h.okta.setLastLogin(alice.oktaId, t0);
    h.okta.addMember(OPS, dave.oktaId);
    h.okta.setLastLogin(dave.oktaId, t0 - 200 * DAY);
    // Carol is in the group too, unused for a month: too soon for reclaim to warn her.
    h.okta.addMember(OPS, carol.oktaId);
    h.okta.setLastLogin(carol.oktaId, t0 - 30 * DAY);
    await h.bot.memberSync.runOnce();

    // Reclaim warns Dave: his standing access gets a record of its own, active, not yet revoked.
    assert.equal((await reclaim()).outcomes.warn, 1);
    const [record] = standingOf(dave);
    assert.ok(record, 'a standing access record for Dave');
    assert.equal(record.state, 'active');
    assert.ok(record.reclaimAt !== null && record.reclaimAt > clock(), 'warned, to be revoked after the grace');
    await waitUntil(() => h.bot.store.getRequest(record.id)!.jiraKey !== null, 5000, 'the standing access issue');
    const recordKey = h.bot.store.getRequest(record.id)!.jiraKey!;
    assert.match(h.jiraComments(record.id).at(-1)!, /^Inactivity warning sent on /);

    // Dave's removal form offers it as standing access, not as a grant of access-bot.
    assert.deepEqual(await removalOptions(dave), [['console/operator', 'Console / Operator (standing access)']]);

    // A review of the role: Dave's row says standing access, Alice's names her grant.
    const out: string[] = [];
    const err: string[] = [];
    assert.equal(runReview(['start', '--app', 'console', '--role', 'operator', '--due', '14d'], { ...h.env, USER: 'ops' }, (l) => out.push(l), (l) => err.push(l), { now: clock }), 0, err.join('\n'));
    const id = /^Started access review (rev_[A-Za-z0-9_-]+):/.exec(out[0] ?? '')?.[1];
    assert.ok(id, out.join('\n'));
    await waitUntil(() => h.bot.ctx.reviews.getCampaign(id)?.state === 'open', 10_000, 'the review to open');
    await h.idle();
    const reviewKey = h.bot.ctx.reviews.getCampaign(id)!.jiraKey!;
    const item = (p: Person) => h.bot.ctx.reviews.allItems(id).find((i) => i.email === p.email)!;
    const [sAlice, sCarol, sDave] = [item(alice).seq, item(carol).seq, item(dave).seq];
    assert.equal(item(dave).grantRequestId, null, "reclaim's record is not a grant of access-bot");
    assert.equal(item(alice).grantRequestId, grant);
    const msg = await h.slack.waitForDm(bob.slackId, (m) => m.threadTs === undefined && m.text.includes('Access review: Console / Operator'));
    assert.match(rowText(msg, sDave), /standing access \(not granted by access-bot\)/);
    assert.doesNotMatch(rowText(msg, sDave), /granted by access-bot \(/);
    assert.match(rowText(msg, sAlice), new RegExp(`granted by access-bot \\(${grantKey}, permanent\\)`));
    assert.match(rowText(msg, sCarol), /standing access \(not granted by access-bot\)/);
    assert.match(reviewComments(id)[1]!, new RegExp(`^Listed 3 people holding Operator \\(okta group ${OPS}\\) on ${TIME}: 1 by a grant of access-bot, 2 by standing access not granted by access-bot\\.$`));

    // Bob revokes Dave and Carol, and keeps Alice.
    const removalsBefore = h.okta.removeCalls;
    for (const seq of [sDave, sCarol]) {
      const views = new Set(h.slack.views.keys());
      await h.driver.clickButton(bob.slackId, msg, 'review_revoke', { blockId: `review_item:${seq}` });
      const modal = await h.slack.waitForView((v) => v.userId === bob.slackId && !views.has(v.id) && v.view.callback_id === 'review_revoke_reason', 5000);
      assert.equal((await h.driver.submitView(bob.slackId, modal.id, { reason: { reason: 'no login for weeks' } })).status, 200);
    }
    await h.driver.clickButton(bob.slackId, msg, 'review_keep', { blockId: `review_item:${sAlice}` });
    await waitUntil(() => h.bot.ctx.reviews.getCampaign(id)!.state === 'closed', 10_000, 'the review to close');
    await h.idle();

    // One removal, by the review, as standing access; the reclaim record ended with it, on its issue.
    assert.equal(h.okta.isMember(OPS, dave.oktaId), false);
    assert.equal(h.okta.isMember(OPS, carol.oktaId), false);
    assert.equal(h.okta.removeCalls - removalsBefore, 2, "each membership is removed once (Dave's, Carol's)");
    assert.ok(h.okta.isMember(OPS, alice.oktaId));
    assert.equal(item(dave).revokeState, 'removed');
    const ended = h.bot.store.getRequest(record.id)!;
    assert.equal(ended.state, 'revoked');
    assert.equal(ended.revokedBy, `Bob Jones (bob@example.com) in access review ${reviewKey}`);
    assert.match(
      h.jiraComments(record.id).at(-1)!,
      new RegExp(`^Access revoked \\(by Bob Jones \\(bob@example\\.com\\) in access review ${reviewKey}\\) on ${TIME}: removed ${dave.oktaId} from okta group ${OPS} \\(standing access, not granted by access-bot\\)\\.$`),
    );
    const onReview = reviewComments(id);
    assert.ok(
      onReview.some((c) =>
        new RegExp(
          `^Access revoked: removed ${dave.oktaId} \\(Dave Brown \\(dave@example\\.com\\)\\) from okta group ${OPS} on ${TIME}, as decided by Bob Jones \\(bob@example\\.com\\); standing access, not granted by access-bot; its inactivity reclaim record ${recordKey} ended\\.$`,
        ).test(c),
      ),
      onReview.join('\n'),
    );
    assert.ok(
      onReview.some((c) => new RegExp(`^Access revoked: removed ${carol.oktaId} \\(Carol White \\(carol@example\\.com\\)\\) from okta group ${OPS} on ${TIME}, as decided by Bob Jones \\(bob@example\\.com\\); standing access, not granted by access-bot\\.$`).test(c)),
      onReview.join('\n'),
    );
    assert.match(onReview.at(-1)!, /^Review completed on .*: 3 people reviewed — 1 kept \(0 at the due date\), 2 revoked \(0 at the due date\); 2 memberships removed\.$/);
    assert.equal(h.bot.store.getRequest(grant)!.state, 'active', "Alice's grant is untouched");
    await h.slack.waitForDm(dave.slackId, (m) => new RegExp(`^Your access to Console / Operator \\(${recordKey}\\) was revoked by Bob Jones \\(bob@example\\.com\\) in access review ${reviewKey}\\.$`).test(m.text));

    // Past the reclaim's grace, and past the time Carol's access would have been warned (before the
    // user sync lists the group again): nothing is left to take back, nothing is written twice.
    const comments = h.jiraComments(record.id).length;
    const removals = h.okta.removeCalls;
    for (const t of [record.reclaimAt! + DAY, t0 + 40 * DAY]) {
      h.moveClockTo(t);
      const later = await reclaim();
      assert.equal(later.outcomes.revoke ?? 0, 0);
      assert.equal(later.outcomes.warn ?? 0, 0);
    }
    assert.equal(h.okta.removeCalls, removals, 'no second removal');
    assert.equal(h.jiraComments(record.id).length, comments, 'no second comment on the reclaim record');
    assert.equal(standingOf(dave).length, 1, 'no new standing access record for Dave');
    assert.equal(standingOf(carol).length, 0, 'none for Carol, whose access is gone');
    assert.equal(h.bot.store.getRequest(record.id)!.state, 'revoked');
  });

  test("a removal request of standing access reclaim recorded: removed as standing access, the record ends with it, reclaim does nothing more", async () => {
    h.okta.addMember(OPS, erin.oktaId);
    h.okta.setLastLogin(erin.oktaId, clock() - 200 * DAY);
    await h.bot.memberSync.runOnce();
    assert.equal((await reclaim()).outcomes.warn, 1);
    const [record] = standingOf(erin);
    assert.ok(record, 'a standing access record for Erin');
    await waitUntil(() => h.bot.store.getRequest(record.id)!.jiraKey !== null, 5000, 'the standing access issue');
    const recordKey = h.bot.store.getRequest(record.id)!.jiraKey!;

    // Erin asks to give it up; Bob, the owner, approves.
    const v = await removalForm(erin);
    const res = await h.driver.submitView(erin.slackId, v.id, { holding: { holding: 'console/operator' }, reason: { reason: 'I moved to another team' } });
    assert.deepEqual(res.body, { response_action: 'clear' });
    const id = h.bot.store.findBySubmissionKey(v.id)!.id;
    const removalsBefore = h.okta.removeCalls;
    await h.click(bob, id, 'approve');
    await waitUntil(() => h.bot.store.getRequest(id)!.removedAt !== null && h.bot.store.getRequest(record.id)!.state === 'revoked', 5000, 'carried out');
    await h.idle();
    assert.equal(h.okta.isMember(OPS, erin.oktaId), false);
    assert.equal(h.okta.removeCalls - removalsBefore, 1);
    const removal = h.bot.store.getRequest(id)!;
    assert.equal(removal.removalOutcome, 'standing');
    assert.ok(
      h.jiraComments(id).some((c) =>
        new RegExp(`^Access removed: okta group ${OPS} for ${erin.oktaId} \\(removal request; standing access, not granted by access-bot\\) on ${TIME}\\. Its inactivity reclaim record ${recordKey} ended with it\\.$`).test(c),
      ),
      h.jiraComments(id).join('\n'),
    );
    assert.match(
      h.jiraComments(record.id).at(-1)!,
      new RegExp(`^Access revoked \\(by removal request ${removal.jiraKey}\\) on ${TIME}: removed ${erin.oktaId} from okta group ${OPS} \\(standing access, not granted by access-bot\\)\\.$`),
    );

    // Past the grace the warning gave: nothing more.
    const comments = h.jiraComments(record.id).length;
    h.moveClockTo(record.reclaimAt! + DAY);
    const later = await reclaim();
    assert.equal(later.outcomes.revoke ?? 0, 0);
    assert.equal(later.outcomes.warn ?? 0, 0);
    assert.equal(h.okta.removeCalls - removalsBefore, 1, 'no second removal');
    assert.equal(h.jiraComments(record.id).length, comments);
  });
});
