/**
 * `/access` subcommands and cancelling (issue 17), through signed slash commands: answers go
 * privately by the command's response_url; a cancelled request's cards lose their buttons, its
 * issue says "Cancelled by …", and a late click changes nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DEFAULT_CATALOG, GROUPS, Harness, PEOPLE, waitUntil, type Person } from '../support/harness.js';

const { alice, bob, carol } = PEOPLE;

/** The private answer to this person's command (by its response_url). */
const answerTo = (h: Harness, who: Person, text: RegExp) => h.slack.waitForResponseUrlPost((p) => p.context.user === who.slackId && text.test(String(p.body.text)));

/** The request's card in an approver's DM, with its buttons while it waits. */
const card = (h: Harness, approver: Person, id: string) => h.slack.waitForDm(approver.slackId, (m) => JSON.stringify(m.blocks ?? []).includes(`request:${id}`));

describe('/access subcommands', () => {
  let h: Harness;
  before(async () => {
    h = await new Harness({ catalog: DEFAULT_CATALOG }).start();
  });
  after(async () => {
    await h.stop();
  });

  async function pendingRequest(who: Person = alice): Promise<{ id: string; key: string }> {
    const id = await h.request(who, { role: 'super-admin', duration: '1h' });
    await waitUntil(() => h.bot.store.getRequest(id)?.jiraKey != null && h.bot.store.approversOf(id).length > 0, 5000, 'routed with a Jira key');
    await h.idle();
    return { id, key: h.bot.store.getRequest(id)!.jiraKey! };
  }

  test('unknown text gets the help, never an error', async () => {
    for (const text of ['frobnicate', 'cancel', 'extend ACC-1 forever', 'list everything', 'status not-a-key']) {
      const res = await h.driver.command(alice.slackId, '/access', text);
      assert.equal(res.status, 200, text);
      const body = res.body as { response_type?: string; text?: string };
      assert.equal(body.response_type, 'ephemeral', text);
      assert.match(body.text ?? '', /did not understand/, text);
      assert.match(body.text ?? '', /\/access cancel ACC-12/, text);
    }
    const help = (await h.driver.command(alice.slackId, '/access', 'help')).body as { text?: string };
    assert.match(help.text ?? '', /\/access list/);
    assert.doesNotMatch(help.text ?? '', /did not understand/);
  });

  test('the help escapes what was typed', async () => {
    const body = (await h.driver.command(alice.slackId, '/access', '<!channel> hi')).body as { text?: string };
    assert.match(body.text ?? '', /&lt;!channel&gt;/);
  });

  test('/access with no text still opens the modal', async () => {
    const before = new Set(h.slack.views.keys());
    const res = await h.driver.command(carol.slackId, '/access', '');
    assert.equal(res.status, 200);
    await h.slack.waitForView((v) => v.userId === carol.slackId && !before.has(v.id) && v.view.callback_id === 'access_request');
  });

  test('list shows my pending requests, with who is asked', async () => {
    const { key } = await pendingRequest();
    const res = await h.driver.command(alice.slackId, '/access', 'list');
    assert.equal(res.status, 200);
    assert.equal(res.body, '', 'acked empty; the answer goes by the response_url');
    const answer = await answerTo(h, alice, new RegExp(`${key}: Okta admin console / Super admin, 1 hour: waiting for Bob Jones, Carol White since`));
    assert.equal(answer.body.response_type ?? 'ephemeral', 'ephemeral');
  });

  test("list of someone with nothing says so; status of another's request leaks nothing", async () => {
    const { key } = await pendingRequest();
    await h.driver.command(PEOPLE.dave.slackId, '/access', 'list');
    await answerTo(h, PEOPLE.dave, /You have no pending requests and no active access/);
    await h.driver.command(PEOPLE.dave.slackId, '/access', `status ${key}`);
    await answerTo(h, PEOPLE.dave, new RegExp(`knows no request ${key} that you can see`));
    // An approver of the request may look.
    await h.driver.command(bob.slackId, '/access', `status ${key.toLowerCase()}`);
    await answerTo(h, bob, new RegExp(`${key} is waiting for approval`));
  });

  test('only the requester can cancel', async () => {
    const { id, key } = await pendingRequest();
    await h.driver.command(bob.slackId, '/access', `cancel ${key}`);
    await answerTo(h, bob, new RegExp(`Only the person who requested ${key} can cancel it`));
    await h.idle();
    assert.equal(h.bot.store.getRequest(id)!.state, 'pending');
    assert.ok(!h.jiraComments(id).some((c) => c.startsWith('Cancelled')));
    assert.deepEqual(
      h.bot.store
        .auditOf(id)
        .filter((a) => a.step.type === 'decision_refused')
        .map((a) => [a.actor, (a.step as { code: string }).code]),
      [[bob.slackId, 'not_requester']],
    );
    // Bob can still approve: the refused cancel changed nothing.
    assert.match(JSON.stringify((await card(h, bob, id)).blocks), /"action_id":"approve"/);
  });

  test("a cancelled request's late click changes nothing", async () => {
    const { id, key } = await pendingRequest();
    const shown = await card(h, carol, id);
    const res = await h.driver.command(alice.slackId, '/access', `cancel ${key}`);
    assert.equal(res.status, 200);
    // Recorded before the ack.
    assert.equal(h.bot.store.getRequest(id)!.state, 'cancelled');
    await answerTo(h, alice, new RegExp(`You cancelled ${key}`));
    await h.idle();
    assert.ok(h.jiraComments(id).some((c) => c.startsWith('Cancelled by Alice Smith (alice@example.com) on ')));
    assert.equal(h.bot.store.getRequest(id)!.nextTimerAt, null, 'timers stop');
    for (const approver of [bob, carol]) {
      const now = await card(h, approver, id);
      assert.doesNotMatch(JSON.stringify(now.blocks), /"action_id":"(approve|deny)"/, `${approver.name}'s card lost its buttons`);
      assert.match(JSON.stringify(now.blocks), /The requester cancelled this request/);
    }
    // Carol clicks Approve on the card as she still had it on screen.
    const before = { request: JSON.stringify(h.bot.store.getRequest(id)), comments: h.jiraComments(id).length };
    await h.driver.clickButton(carol.slackId, shown.history[0] ?? shown, 'approve');
    await answerTo(h, carol, /This request is already cancelled/);
    await h.idle();
    assert.equal(JSON.stringify(h.bot.store.getRequest(id)), before.request);
    assert.equal(h.jiraComments(id).length, before.comments);
    assert.equal(h.okta.isMember(GROUPS.superAdmin, alice.oktaId), false);
    // Cancelling twice says it is over.
    await h.driver.command(alice.slackId, '/access', `cancel ${key}`);
    await answerTo(h, alice, new RegExp(`${key} is cancelled, so it can no longer be cancelled`));
  });
});
