/**
 * Bundles (issue 19): several roles requested in one modal, approved once by the strictest policy
 * of their parts, granted and revoked together on one Jira issue. A part that fails is retried
 * alone and the issue says which part is missing; ownership holds per part as for single grants.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { runEffects } from '../../src/effects-cli.js';
import { Harness, PEOPLE, bitbucketName, waitUntil } from '../support/harness.js';

const { alice, bob, carol, dave } = PEOPLE;

const OPS = '00g1payops';
const PAGER = '00g1pagerduty';

const CATALOG = `
jira:
  project: ACC
  issueType: Task
  transitions: { approved: Approve, denied: Reject, active: Provisioned, revoked: Done }
applications:
  - id: payments-console
    name: Payments console
    owners: [bob@example.com]
    roles:
      - { id: operator, name: Operator, grant: { connector: okta, group: ${OPS} }, durations: [3s, 4h, 8h], approvers: [owners] }
  - id: pagerduty
    name: PagerDuty
    owners: [carol@example.com]
    roles:
      - { id: responder, name: Responder, grant: { connector: okta, group: ${PAGER} }, durations: [3s, 4h, 8h], approvers: [owners] }
  - id: payments-code
    name: Payments code
    owners: [bob@example.com]
    roles:
      - { id: project-write, name: Project write, grant: { connector: bitbucket-dc, project: PAY, permission: PROJECT_WRITE }, durations: [3s, 4h, 8h, 1d], approvers: [owners] }
bundles:
  - id: payments-oncall
    name: Payments on-call
    parts: [payments-console/operator, pagerduty/responder, payments-code/project-write]
  - id: quick-look
    name: Quick look
    parts: [payments-console/operator, pagerduty/responder]
    approval: auto
`;

type Opt = { text: { text: string }; value: string };

/** The first words of each comment: the step. */
function steps(comments: string[]): string[] {
  return comments.map((c) => /^(Requested by|Approval requested|Approved by|Stage \d+ of \d+ passed|Access granted|Access revoked|Bundle complete|Bundle incomplete|Bundle revoked|Retried by|Failed)/.exec(c)?.[1] ?? c.slice(0, 24));
}

/** `access-bot effects retry <id>`, the admin entry point, on the bot's database. */
function adminRetry(h: Harness, effectId: number): { code: number; out: string } {
  const lines: string[] = [];
  const code = runEffects(['retry', String(effectId)], { ...h.databaseEnv, USER: 'ops' }, (l) => lines.push(l), (l) => lines.push(l));
  return { code, out: lines.join('\n') };
}

describe('bundles', () => {
  let h: Harness;
  before(async () => {
    h = await new Harness({ connectors: ['okta', 'bitbucket-dc'], catalog: CATALOG }).start();
    h.okta.addGroup({ id: OPS, name: 'Payments operators' });
    h.okta.addGroup({ id: PAGER, name: 'PagerDuty responders' });
  });
  after(async () => {
    await h?.stop();
  });

  const state = (id: string) => h.bot.store.getRequest(id)?.state;
  const parts = (id: string) => h.bot.store.partsOf(id);

  /** Bob approves stage 1 (the console's and the code's owner), Carol stage 2 (PagerDuty's owner). */
  async function approveBoth(id: string): Promise<void> {
    await h.click(bob, id, 'approve');
    await waitUntil(() => h.bot.store.approversOf(id, 1).length > 0, 5000, 'stage 2 asked');
    await h.click(carol, id, 'approve');
  }

  test('the /access modal offers bundles beside applications, clearly marked; roles and durations follow the bundle', async () => {
    const viewId = await h.openRequestModal(alice);
    const view = h.slack.views.get(viewId)!.view;
    const app = (view.blocks as { block_id: string; element: { type: string; option_groups?: { label: { text: string }; options: Opt[] }[] } }[]).find((b) => b.block_id === 'application')!;
    assert.equal(app.element.type, 'static_select');
    assert.deepEqual(
      app.element.option_groups!.map((g) => [g.label.text, g.options.map((o) => [o.value, o.text.text])]),
      [
        [
          'Applications',
          [
            ['payments-console', 'Payments console'],
            ['pagerduty', 'PagerDuty'],
            ['payments-code', 'Payments code'],
          ],
        ],
        [
          'Bundles: several roles, one request',
          [
            ['bundle:payments-oncall', '📦 Payments on-call (bundle of 3)'],
            ['bundle:quick-look', '📦 Quick look (bundle of 2)'],
          ],
        ],
      ],
    );
    await h.driver.selectInView(alice.slackId, viewId, 'application', 'application', 'bundle:payments-oncall');
    const roles = await h.driver.suggest(alice.slackId, viewId, 'role', 'role', '');
    assert.deepEqual((roles.body as { options: Opt[] }).options.map((o) => [o.value, o.text.text]), [['bundle', 'All 3 parts']]);
    await h.driver.selectInView(alice.slackId, viewId, 'role', 'role', { value: 'bundle', text: 'All 3 parts' });
    const durations = await h.driver.suggest(alice.slackId, viewId, 'duration', 'duration', '');
    assert.deepEqual((durations.body as { options: Opt[] }).options.map((o) => o.value), ['3s', '4h', '8h'], 'the durations every part offers');

    const refused = await h.driver.submitView(alice.slackId, viewId, {
      application: { application: 'bundle:payments-oncall' },
      role: { role: { value: 'operator', text: 'Operator' } },
      duration: { duration: { value: '1d', text: '1 day' } },
      reason: { reason: 'Taking the payments on-call shift' },
    });
    const errors = (refused.body as { errors: Record<string, string> }).errors;
    assert.match(errors.role!, /requested whole/);
    assert.match(errors.duration!, /not allowed for Payments on-call/);
    assert.equal(h.bot.store.findBySubmissionKey(viewId), undefined);
  });

  test('approved once by the strictest policy of its parts, one Jira issue; a failing part is retried alone, the issue says which part is missing, then the bundle completes; revoked together', async () => {
    // The Bitbucket project does not exist yet: that part cannot be granted.
    // Its first two calls are throttled (429): that part alone is retried by the outbox.
    h.bitbucket!.throttle(2, { retryAfterSec: 0, method: 'GET', path: /projects\/PAY\/permissions/ });
    const id = await h.request(alice, { app: 'bundle:payments-oncall', role: 'bundle', duration: '8h', reason: 'Taking the payments on-call shift' });
    const r0 = h.bot.store.getRequest(id)!;
    assert.deepEqual(
      r0.bundleParts!.map((p) => [p.appId, p.roleId, p.connector, p.group]),
      [
        ['payments-console', 'operator', 'okta', OPS],
        ['pagerduty', 'responder', 'okta', PAGER],
        ['payments-code', 'project-write', 'bitbucket-dc', 'project:PAY:PROJECT_WRITE'],
      ],
    );
    // The strictest policy: each part's owners, each set of approvers asked once (Bob owns two parts).
    assert.deepEqual(r0.policy.kind === 'stages' && r0.policy.stages.map((s) => [s.approvers, s.required]), [
      [[{ kind: 'email', email: 'bob@example.com' }], 1],
      [[{ kind: 'email', email: 'carol@example.com' }], 1],
    ]);
    const card = await h.approverMessage(bob, id);
    assert.match(card.text, /Payments on-call/);
    assert.match(JSON.stringify(card.blocks), /requests the bundle \*Payments on-call\* for \*8 hours\*: Payments console \/ Operator; PagerDuty \/ Responder; Payments code \/ Project write/);
    await approveBoth(id);

    await waitUntil(() => parts(id).length === 3 && parts(id).filter((p) => p.state === 'active').length === 2 && parts(id)[2]!.state === 'failed', 15_000, 'two parts in place, one failed');
    await h.idle();
    assert.equal(state(id), 'active', 'the bundle is active: its first part is in place');
    assert.ok(h.okta.isMember(OPS, alice.oktaId) && h.okta.isMember(PAGER, alice.oktaId));
    assert.equal(h.bitbucket!.projectPermission('PAY', bitbucketName(alice)), undefined);
    assert.ok(h.bitbucket!.tooManyRequests >= 2, 'the Bitbucket part was throttled and retried');
    assert.equal(h.okta.addCalls, 2, 'the Okta parts were granted once each, not retried with it');

    const issues = h.jira.issuesWithLabel(`access-bot-${id}`);
    assert.equal(issues.length, 1, 'one Jira issue for the bundle');
    const key = issues[0]!.key;
    assert.equal(h.jira.issuesWithLabel(`access-bot-${id}.1`).length, 0, 'parts open no issue of their own');
    let comments = h.jira.commentsText(key);
    assert.deepEqual(steps(comments), ['Requested by', 'Approval requested', 'Approved by', 'Stage 1 of 2 passed', 'Approval requested', 'Approved by', 'Access granted', 'Access granted', 'Bundle incomplete']);
    assert.match(comments[0]!, /^Requested by Alice Smith \(alice@example\.com\) on .*: Payments on-call \/ Bundle of 3 parts, 8 hours\. Parts: Payments console \/ Operator; PagerDuty \/ Responder; Payments code \/ Project write\.\nReason: Taking the payments on-call shift$/);
    assert.ok(comments.some((c) => new RegExp(`^Access granted: okta group ${OPS} for ${alice.oktaId}, expires .*\\. Bundle part 1 of 3: Payments console / Operator\\.$`).test(c)));
    const missing = comments.at(-1)!;
    assert.match(
      missing,
      /^Bundle incomplete: part 3 of 3, Payments code \/ Project write \(bitbucket-dc group project:PAY:PROJECT_WRITE\), could not be granted on .* UTC: granting access failed: .*PAY.*\. Parts in place: 1 \(Payments console \/ Operator\); 2 \(PagerDuty \/ Responder\)\. The other parts stay; the missing part is retried alone once its cause is fixed/,
    );
    assert.ok(h.slack.messages.some((m) => m.channel === 'C0ADMIN' && m.text.includes(`Bundle ${key} (Payments on-call) is missing part 3 of 3, Payments code / Project write`)), 'admins told');
    assert.ok(h.slack.dmsTo(alice.slackId).some((m) => /Part of your bundle .* could not be granted: .*Payments code \/ Project write/.test(m.text)), 'the requester told');

    // Fixed: the project exists. Only the missing part is retried.
    h.bitbucket!.addProject('PAY');
    const dead = h.bot.outbox.dead().filter((e) => e.requestId === `${id}.3`);
    assert.deepEqual(dead.map((e) => e.kind), ['idp.grant']);
    const retry = adminRetry(h, dead[0]!.id);
    assert.equal(retry.code, 0, retry.out);
    await waitUntil(() => parts(id).every((p) => p.state === 'active'), 10_000, 'every part in place');
    await h.idle();
    assert.equal(h.bitbucket!.projectPermission('PAY', bitbucketName(alice)), 'PROJECT_WRITE');
    assert.equal(h.okta.addCalls, 2, 'the parts in place were not granted again');
    comments = h.jira.commentsText(key);
    assert.deepEqual(steps(comments).slice(-3), ['Retried by', 'Access granted', 'Bundle complete']);
    assert.match(comments.at(-3)!, /^Retried by admin ops on .*: granting access\. Bundle part 3 of 3: Payments code \/ Project write\.$/);
    assert.match(comments.at(-1)!, /^Bundle complete: all 3 parts granted \(Payments console \/ Operator; PagerDuty \/ Responder; Payments code \/ Project write\) on .*; every part expires .* UTC\.$/);
    const active = h.bot.store.getRequest(id)!;
    assert.equal(active.expiresAt! - active.grantedAt!, 8 * 3_600_000, "the bundle's clock started with its first part");

    // Revoke now, on the requester's "Access granted" DM: every part ends.
    const granted = await h.slack.waitForDm(alice.slackId, (m) => /^Access granted/.test(m.text) && JSON.stringify(m.blocks).includes(`"value":"${id}"`));
    await h.driver.clickButton(alice.slackId, granted, 'revoke_access');
    await waitUntil(() => state(id) === 'revoked', 10_000, 'bundle revoked');
    await h.idle();
    assert.deepEqual(parts(id).map((p) => p.state), ['revoked', 'revoked', 'revoked']);
    assert.equal(h.okta.isMember(OPS, alice.oktaId), false);
    assert.equal(h.okta.isMember(PAGER, alice.oktaId), false);
    assert.equal(h.bitbucket!.projectPermission('PAY', bitbucketName(alice)), undefined);
    comments = h.jira.commentsText(key);
    assert.deepEqual(steps(comments).slice(-4), ['Access revoked', 'Access revoked', 'Access revoked', 'Bundle revoked']);
    assert.match(comments.at(-1)!, /^Bundle revoked \(by Alice Smith \(alice@example\.com\)\) on .*: every part ended \(3 revoked\)\.$/);
    assert.equal(h.jira.issue(key)!.status, 'Done');
    assert.equal(h.bot.store.verifyAuditChain(), undefined);
  });

  test('expiry ends every part together; ownership per part: a membership held before the bundle is kept', async () => {
    // Dave was a PagerDuty responder before: that part must not remove him.
    h.okta.addMember(PAGER, dave.oktaId);
    h.bitbucket!.addProject('PAY');
    const id = await h.request(dave, { app: 'bundle:payments-oncall', role: 'bundle', duration: '3s', reason: 'Covering the on-call shift' });
    await approveBoth(id);
    await waitUntil(() => state(id) === 'active' && parts(id).every((p) => p.state === 'active'), 10_000, 'granted');
    await waitUntil(() => state(id) === 'revoked', 10_000, 'expired and revoked');
    await h.idle();
    const b = h.bot.store.getRequest(id)!;
    for (const p of parts(id)) assert.ok(p.revokeRequestedAt! >= b.expiresAt! && p.revokeRequestedAt! - b.expiresAt! < 1500, 'every part ends at the bundle expiry');
    assert.equal(h.okta.isMember(OPS, dave.oktaId), false);
    assert.equal(h.okta.isMember(PAGER, dave.oktaId), true, 'his own membership is kept');
    assert.equal(h.bitbucket!.projectPermission('PAY', bitbucketName(dave)), undefined);
    const comments = h.jira.commentsText(b.jiraKey!);
    assert.match(comments.find((c) => c.includes('Bundle part 2 of 3') && c.startsWith('Access revoked'))!, new RegExp(`kept: ${dave.oktaId} was a member before this grant`));
    assert.match(comments.at(-1)!, /^Bundle revoked \(expired\) on .*: every part ended \(3 revoked\)\.$/);
  });

  test('no part could be granted: the bundle fails; an admin retrying one part brings it back, that part alone', async () => {
    // Erin is in Slack, not yet in Okta: neither part finds her.
    const erin = { slackId: 'U0ERIN', email: 'erin@example.com', name: 'Erin Green', oktaId: '00u1erin' };
    h.slack.addUser({ id: erin.slackId, email: erin.email, realName: erin.name });
    const id = await h.request(erin, { app: 'bundle:quick-look', role: 'bundle', duration: '4h', reason: 'A quick look at the console' });
    await waitUntil(() => state(id) === 'failed', 10_000, 'bundle failed');
    await h.idle();
    assert.deepEqual(parts(id).map((p) => p.state), ['failed', 'failed']);
    let comments = h.jiraComments(id);
    assert.deepEqual(steps(comments), ['Requested by', 'Approved by', 'Bundle incomplete', 'Bundle incomplete', 'Failed']);
    assert.match(comments[2]!, /^Bundle incomplete: part 1 of 2, Payments console \/ Operator \(okta group 00g1payops\), could not be granted on .*: granting access failed: no okta user has the email erin@example\.com\. Parts in place: none yet\./);
    assert.match(comments.at(-1)!, /^Failed: none of its 2 parts could be granted/);

    h.okta.addUser({ id: erin.oktaId, login: erin.email, email: erin.email, firstName: 'Erin', lastName: 'Green' });
    const dead = h.bot.outbox.dead().filter((e) => e.requestId === `${id}.1`);
    assert.deepEqual(dead.map((e) => e.kind), ['idp.resolveUser']);
    const retry = adminRetry(h, dead[0]!.id);
    assert.equal(retry.code, 0, retry.out);
    await waitUntil(() => state(id) === 'active' && parts(id)[0]!.state === 'active', 10_000, 'the bundle lives again with its first part');
    await h.idle();
    assert.equal(parts(id)[1]!.state, 'failed', 'the other part waits for its own retry');
    assert.ok(h.okta.isMember(OPS, erin.oktaId));
    assert.equal(h.okta.isMember(PAGER, erin.oktaId), false);
    comments = h.jiraComments(id);
    assert.deepEqual(steps(comments).slice(-2), ['Retried by', 'Access granted']);
  });

  test("a bundle's own approval: auto is granted at once", async () => {
    const id = await h.request(carol, { app: 'bundle:quick-look', role: 'bundle', duration: '4h', reason: 'A quick look at the console' });
    await waitUntil(() => state(id) === 'active' && parts(id).every((p) => p.state === 'active'), 10_000, 'granted');
    await h.idle();
    const comments = h.jiraComments(id);
    assert.deepEqual(steps(comments), ['Requested by', 'Approved by', 'Access granted', 'Access granted', 'Bundle complete']);
    assert.ok(h.okta.isMember(OPS, carol.oktaId) && h.okta.isMember(PAGER, carol.oktaId));
  });

  // Last: the throttle it sets stays for the rest of the suite.
  test('revoked while a part is still on its way: that part is stopped, never granted, and the bundle ends', async () => {
    h.bitbucket!.addProject('PAY');
    // Every call to the PAY permissions is throttled from now on: that part cannot land.
    h.bitbucket!.throttle(100_000, { retryAfterSec: 1, path: /projects\/PAY\/permissions/ });
    const id = await h.request(alice, { app: 'bundle:payments-oncall', role: 'bundle', duration: '8h', reason: 'Payments on-call this week' });
    await approveBoth(id);
    await waitUntil(() => state(id) === 'active' && parts(id).filter((p) => p.state === 'active').length === 2, 10_000, 'the Okta parts in place');
    assert.equal(parts(id)[2]!.state, 'approved', 'the Bitbucket part is still on its way');
    // Bob's card, updated once the bundle is active, offers Revoke.
    const card = await h.slack.waitForDm(bob.slackId, (m) => JSON.stringify(m.blocks ?? []).includes(id) && JSON.stringify(m.blocks ?? []).includes('revoke_access'));
    await h.driver.clickButton(bob.slackId, card, 'revoke_access');
    await waitUntil(() => state(id) === 'revoked', 10_000, 'the bundle ended');
    await h.idle();
    assert.deepEqual(parts(id).map((p) => p.state), ['revoked', 'revoked', 'failed']);
    assert.equal(parts(id)[2]!.failure, 'the bundle ended before this part was granted');
    assert.equal(h.bitbucket!.projectPermission('PAY', bitbucketName(alice)), undefined);
    const comments = h.jiraComments(id);
    assert.match(comments.find((c) => c.startsWith('Failed'))!, /^Failed: the bundle ended before this part was granted \(on .*\)\. Bundle part 3 of 3: Payments code \/ Project write\.$/);
    assert.match(comments.at(-1)!, /^Bundle revoked \(by Bob Jones \(bob@example\.com\)\) on .*: every part ended \(2 revoked; 1 had not been granted\)\.$/);
    assert.equal(h.slack.messages.filter((m) => m.channel === 'C0ADMIN' && m.text.includes(h.bot.store.getRequest(id)!.jiraKey!)).length, 0, 'a part stopped on purpose alerts nobody');
  });
});
