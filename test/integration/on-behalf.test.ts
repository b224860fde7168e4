/**
 * Requesting access for someone else (issue 17), through signed Slack requests: the request
 * modal's optional "For someone else" users_select. A manager (per MANAGER_SOURCE, here Okta's
 * profile.managerId) or a catalog `delegates:` person may; anyone else is refused inline. The
 * person chosen is the requester from then on: the grant goes to their IdP account, they are told
 * at each step, and neither they nor whoever asked may approve it. Jira names both.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { adfToText } from '../../src/adapters/jira/adf.js';
import type { AdfDoc } from '../../src/adapters/jira/types.js';
import type { StoredMessage } from '../emulators/slack.js';
import { addPerson, catalogYaml, person } from '../support/fixtures.js';
import { GROUPS, Harness, PEOPLE, waitUntil, type Person } from '../support/harness.js';
import { ACTIVE, mrkdwnOf } from '../support/mrkdwn.js';

const { alice, bob, carol, dave } = PEOPLE;
/** Erin reports to Carol in Okta; Dave is a delegate for her (okta-console only). */
const erin = person('erin', 'Erin Green');
/** A manager and a report whose Slack names try to ping and to link. */
const mallory = person('mallory', '<!channel> Mallory *boss* <@U0BOB>');
const trent = person('trent', '<https://evil.example/login|Re-authenticate> & Trent');

const CATALOG =
  catalogYaml({
    applications: [
      {
        id: 'okta-console',
        name: 'Okta admin console',
        owners: ['bob@example.com'],
        roles: [
          // Erin is listed to prove she is never asked about a request made for her.
          { id: 'read-only', name: 'Read-only', group: GROUPS.readOnly, durations: ['4h'], approvers: ['owners', 'erin@example.com'] },
          { id: 'super-admin', name: 'Super admin', group: GROUPS.superAdmin, durations: ['1h'], approvers: ['manager'] },
          { id: 'emergency', name: 'Emergency admin', group: GROUPS.superAdmin, durations: ['1h'], breakGlass: { notify: '#security-alerts' } },
        ],
      },
    ],
  }) +
  `delegates:
  - { email: dave@example.com, for: [erin@example.com], applications: [okta-console] }
`;

/** `who` opens /access and submits the modal for `subject` (a person, or a raw Slack id). */
async function requestFor(h: Harness, who: Person, subject: Person | string, input: { role?: string; duration?: string } = {}) {
  const viewId = await h.openRequestModal(who);
  const res = await h.driver.submitView(who.slackId, viewId, {
    application: { application: 'okta-console' },
    role: { role: input.role ?? 'read-only' },
    duration: { duration: input.duration ?? '4h' },
    reason: { reason: 'Starts on the payments rota on Monday' },
    on_behalf: { on_behalf: typeof subject === 'string' ? subject : subject.slackId },
  });
  assert.equal(res.status, 200);
  return { viewId, res, request: h.bot.store.findBySubmissionKey(viewId) };
}

async function routed(h: Harness, id: string): Promise<string> {
  await waitUntil(() => h.bot.store.getRequest(id)?.jiraKey != null && h.bot.store.approversOf(id).length > 0, 5000, 'routed with a Jira key');
  return h.bot.store.getRequest(id)!.jiraKey!;
}

/** The private answer to this person's command (by its response_url). */
const answerTo = (h: Harness, who: Person, text: RegExp) => h.slack.waitForResponseUrlPost((p) => p.context.user === who.slackId && text.test(String(p.body.text)));

/** The inline errors Slack shows on the modal after the bot's answer. */
const errorsOf = (h: Harness, viewId: string) => h.slack.views.get(viewId)?.errors ?? {};

describe('on behalf of', () => {
  let h: Harness;
  before(async () => {
    h = await new Harness({ catalog: CATALOG }).start();
    addPerson(h, { ...erin, managerId: carol.oktaId });
    addPerson(h, mallory);
    addPerson(h, { ...trent, managerId: mallory.oktaId });
    h.slack.addUser({ id: 'U0GUEST', email: 'gus@example.com', realName: 'Gus Guest', guest: 'multi-channel' });
    h.okta.addUser({ login: 'gus@example.com', email: 'gus@example.com', firstName: 'Gus', lastName: 'Guest', managerId: carol.oktaId });
  });
  after(async () => {
    await h.stop();
  });

  test('the modal offers "For someone else" as an optional users_select', async () => {
    const viewId = await h.openRequestModal(alice);
    const block = (h.slack.views.get(viewId)!.view.blocks as { block_id?: string; optional?: boolean; element?: { type?: string } }[]).find((b) => b.block_id === 'on_behalf');
    assert.equal(block?.optional, true);
    assert.equal(block?.element?.type, 'users_select');
  });

  test('a manager requests for a report: it is granted to the report, who is told who asked; Jira names both', async () => {
    const { request, res } = await requestFor(h, carol, erin);
    assert.equal(res.body, '', 'the modal closes');
    assert.ok(request, 'a request was recorded');
    assert.deepEqual([request.requesterSlackId, request.submitterSlackId, request.submittedAs], [erin.slackId, carol.slackId, 'manager']);
    const key = await routed(h, request.id);
    // Erin is the requester: she is never asked, though the role lists her; Carol is not asked either.
    assert.deepEqual(
      h.bot.store.approversOf(request.id).map((a) => a.email),
      ['bob@example.com'],
    );
    await h.slack.waitForDm(erin.slackId, (m) => m.text.includes('Carol White asked for Okta admin console / Read-only for 4 hours on your behalf (as your manager)'));
    await h.slack.waitForDm(carol.slackId, (m) => m.text.includes(`You asked for Okta admin console / Read-only for 4 hours on behalf of Erin Green; it was submitted as ${key}.`));
    const card = await h.approverMessage(bob, request.id);
    assert.match(JSON.stringify(card.blocks), /\*Carol White\* requests \*Okta admin console \/ Read-only\* for \*4 hours\* on behalf of \*Erin Green\* \(as their manager\)/);
    assert.match(card.text, /Access request: Erin Green \(asked by Carol White\)/);

    await h.click(bob, request.id, 'approve');
    await waitUntil(() => h.bot.store.getRequest(request.id)?.state === 'active', 5000, 'granted');
    assert.equal(h.okta.isMember(GROUPS.readOnly, erin.oktaId), true, 'the grant went to Erin');
    assert.equal(h.okta.isMember(GROUPS.readOnly, carol.oktaId), false, 'not to Carol');
    await h.slack.waitForDm(erin.slackId, (m) => m.text.startsWith('Access granted: Okta admin console / Read-only'));
    await h.idle();

    const comments = h.jiraComments(request.id);
    assert.match(comments[0]!, /^Requested by Carol White \(carol@example\.com\) on behalf of Erin Green \(erin@example\.com\), as their manager, on .+: Okta admin console \/ Read-only, 4 hours\./);
    assert.ok(comments.some((c) => c.startsWith('Access granted: okta group 00g1readonly for 00u1erin')));
    const description = adfToText(h.jira.issues.get(key)!.description as AdfDoc);
    assert.match(description, /Requester: Erin Green \(erin@example\.com\)/);
    assert.match(description, /Requested by: Carol White \(carol@example\.com\) on the requester's behalf, as their manager/);

    // /access status shows both, to the submitter and to the subject.
    await h.driver.command(carol.slackId, '/access', `status ${key}`);
    await answerTo(h, carol, new RegExp(`${key}: Okta admin console / Read-only, 4 hours \\(for Erin Green\\): active until[^\\n]*\\nRequested by Carol White on behalf of Erin Green, as their manager\\.`));
    await h.driver.command(erin.slackId, '/access', `status ${key}`);
    await answerTo(h, erin, new RegExp(`${key}: Okta admin console / Read-only, 4 hours \\(asked for you by Carol White\\): active until`));
  });

  test("the App Home shows who asked: the subject's, the submitter's and the approver's", async () => {
    for (const p of [erin, carol, bob]) await h.driver.appHomeOpened(p.slackId);
    const { request } = await requestFor(h, carol, erin);
    const key = await routed(h, request!.id);
    const home = (p: Person) => JSON.stringify(h.slack.homeFor(p.slackId)?.view.blocks ?? []);
    await waitUntil(() => home(erin).includes(`${key}: Okta admin console / Read-only, 4 hours (asked for you by Carol White): waiting for Bob Jones`), 10_000, "Erin's Home");
    await waitUntil(() => home(carol).includes('Requests you made for others') && home(carol).includes(`${key}: Okta admin console / Read-only, 4 hours (for Erin Green): waiting for Bob Jones`), 10_000, "Carol's Home");
    await waitUntil(() => home(bob).includes(`${key}: Carol White requests Okta admin console / Read-only, 4 hours on behalf of Erin Green, asked`), 10_000, "Bob's Home");
  });

  test('a delegate listed for the subject requests for them', async () => {
    const { request } = await requestFor(h, dave, erin);
    assert.deepEqual([request?.requesterSlackId, request?.submitterSlackId, request?.submittedAs], [erin.slackId, dave.slackId, 'delegate']);
    await routed(h, request!.id);
    await h.idle();
    assert.match(h.jiraComments(request!.id)[0]!, /^Requested by Dave Brown \(dave@example\.com\) on behalf of Erin Green \(erin@example\.com\), as a delegate listed in the access catalog, on /);
    await h.slack.waitForDm(erin.slackId, (m) => m.text.includes('Dave Brown asked for Okta admin console / Read-only for 4 hours on your behalf (as a delegate listed in the access catalog)'));
  });

  test('someone who is neither the manager nor a delegate for that person is refused inline; nothing is recorded', async () => {
    // Bob is nobody's manager here; Dave is a delegate for Erin only.
    for (const [who, subject] of [
      [bob, erin],
      [dave, alice],
    ] as const) {
      const { viewId, res, request } = await requestFor(h, who, subject);
      assert.equal(request, undefined, `${who.name} for ${subject.name}: no request`);
      assert.deepEqual(res.body, {
        response_action: 'errors',
        errors: { on_behalf: `You may not request access for ${subject.name}: only their manager (as okta records it) or a delegate listed in the access catalog may. Leave this empty to request for yourself.` },
      });
      assert.equal(h.slack.views.get(viewId)?.closed, false, 'the modal stays open with the error');
      assert.match(errorsOf(h, viewId).on_behalf ?? '', /You may not request access/);
    }
  });

  test('the subject cannot approve the request made for them, and neither can whoever asked', async () => {
    const { request } = await requestFor(h, carol, erin);
    const id = request!.id;
    await routed(h, id);
    // Bob's card, clicked by Erin and by Carol: refused, audited, nothing changes.
    await h.click(erin, id, 'approve', bob);
    await h.click(carol, id, 'approve', bob);
    await h.idle();
    assert.equal(h.bot.store.getRequest(id)?.state, 'pending');
    assert.deepEqual(
      h.bot.store
        .auditOf(id)
        .filter((a) => a.step.type === 'decision_refused')
        .map((a) => (a.step as { code: string }).code),
      ['self_approval', 'submitter_approval'],
    );
    await h.slack.waitForResponseUrlPost((p) => p.context.user === erin.slackId && /cannot approve or deny your own request/.test(String(p.body.text)));
    await h.slack.waitForResponseUrlPost((p) => p.context.user === carol.slackId && /You asked for this access on the requester's behalf, so you cannot approve or deny it/.test(String(p.body.text)));
    // Whoever asked may withdraw it; the subject is told.
    const key = h.bot.store.getRequest(id)!.jiraKey!;
    await h.driver.command(carol.slackId, '/access', `cancel ${key}`);
    await waitUntil(() => h.bot.store.getRequest(id)?.state === 'cancelled', 5000, 'cancelled');
    await h.slack.waitForDm(erin.slackId, (m) => m.text.includes(`(${key}) was cancelled by Carol White (carol@example.com), who had asked for it on your behalf`));
    await h.idle();
    assert.ok(h.jiraComments(id).some((c) => c.startsWith('Cancelled by Carol White (carol@example.com)')));
  });

  test('whoever asked is never asked to approve: a stage naming only them resolves to nobody, and says why', async () => {
    // super-admin is approved by the manager, who is Carol, who asked.
    const { request } = await requestFor(h, carol, erin, { role: 'super-admin', duration: '1h' });
    await waitUntil(() => h.bot.store.getRequest(request!.id)?.state === 'failed', 5000, 'failed');
    assert.equal(h.bot.store.getRequest(request!.id)?.failure, "no approver could be resolved for stage 1 (Carol White (asked for this access on the requester's behalf, so may not approve it))");
    assert.equal(h.bot.store.approversOf(request!.id).length, 0);
  });

  test('the guest rules hold for the person chosen; emergency access is asked by whoever needs it', async () => {
    // Carol is Gus's manager in Okta, but Gus is a Slack guest.
    const guest = await requestFor(h, carol, 'U0GUEST');
    assert.equal(guest.request, undefined);
    assert.equal(errorsOf(h, guest.viewId).on_behalf, 'Access cannot be requested for Gus Guest: a Slack guest.');
    const glass = await requestFor(h, carol, erin, { role: 'emergency', duration: '1h' });
    assert.equal(glass.request, undefined);
    assert.equal(errorsOf(h, glass.viewId).on_behalf, 'Emergency (break-glass) access can only be requested by the person who needs it.');
    const stranger = await requestFor(h, carol, 'U0NOBODY');
    assert.equal(stranger.request, undefined);
    assert.equal(errorsOf(h, stranger.viewId).on_behalf, 'Slack does not know the person you chose.');
  });

  test('choosing yourself is an ordinary request', async () => {
    const { request } = await requestFor(h, alice, alice);
    assert.deepEqual([request?.requesterSlackId, request?.submitterId, request?.submittedAs], [alice.slackId, null, null]);
  });

  test('hostile display names stay escaped wherever they reach Slack', async () => {
    await h.driver.appHomeOpened(bob.slackId);
    const { request } = await requestFor(h, mallory, trent);
    assert.ok(request, 'Mallory manages Trent');
    const key = await routed(h, request.id);
    const card = await h.approverMessage(bob, request.id);
    const toTrent = await h.slack.waitForDm(trent.slackId, (m) => m.text.includes('on your behalf'));
    const toMallory = await h.slack.waitForDm(mallory.slackId, (m) => m.text.includes(key));
    await waitUntil(() => JSON.stringify(h.slack.homeFor(bob.slackId)?.view.blocks ?? []).includes(key), 10_000, "Bob's Home");
    const home = { blocks: h.slack.homeFor(bob.slackId)!.view.blocks } as Pick<StoredMessage, 'blocks'>;
    for (const [what, m] of [
      ['approver card', card],
      ['subject DM', toTrent],
      ['submitter DM', toMallory],
    ] as const) {
      assert.doesNotMatch(m.text, ACTIVE, `${what} text`);
      for (const t of mrkdwnOf(m)) assert.doesNotMatch(t, ACTIVE, what);
    }
    for (const t of mrkdwnOf(home)) assert.doesNotMatch(t, ACTIVE, "Bob's Home");
    assert.match(JSON.stringify(card.blocks), /&lt;!channel&gt; Mallory/);
    assert.match(JSON.stringify(card.blocks), /&lt;https:\/\/evil\.example\/login\|Re-authenticate&gt; &amp; Trent/);
    // Jira holds the names as text.
    await h.idle();
    assert.ok(h.jiraComments(request.id)[0]!.startsWith('Requested by <!channel> Mallory *boss* <@U0BOB> (mallory@example.com) on behalf of <https://evil.example/login|Re-authenticate> & Trent (trent@example.com), as their manager'));
  });
});
