import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Harness, PEOPLE } from '../support/harness.js';

const { alice } = PEOPLE;

type Opt = { text: { text: string }; value: string };

async function openModal(h: Harness) {
  const before = new Set(h.slack.views.keys());
  const res = await h.driver.command(alice.slackId);
  assert.equal(res.status, 200);
  return h.slack.waitForView((v) => v.userId === alice.slackId && !before.has(v.id));
}

describe('the /access modal', () => {
  let h: Harness;
  before(async () => {
    h = await new Harness().start();
  });
  after(async () => {
    await h.stop();
  });

  test('opens with selects for application, role, duration and a reason input', async () => {
    const v = await openModal(h);
    const blocks = v.view.blocks as { block_id: string; element: { type: string; options?: Opt[] } }[];
    const byId = Object.fromEntries(blocks.map((b) => [b.block_id, b.element]));
    assert.equal(byId.application!.type, 'static_select');
    assert.deepEqual(byId.application!.options!.map((o) => o.text.text), ['Okta admin console']);
    assert.equal(byId.role!.type, 'external_select');
    assert.equal(byId.duration!.type, 'external_select');
    assert.equal(byId.reason!.type, 'plain_text_input');
  });

  test('role and duration choices follow the chosen application and role', async () => {
    const v = await openModal(h);
    const noApp = await h.driver.suggest(alice.slackId, v.id, 'role', 'role', '');
    assert.deepEqual((noApp.body as { options: Opt[] }).options, []);
    await h.driver.selectInView(alice.slackId, v.id, 'application', 'application', 'okta-console');
    const roles = await h.driver.suggest(alice.slackId, v.id, 'role', 'role', '');
    assert.deepEqual((roles.body as { options: Opt[] }).options.map((o) => [o.value, o.text.text]), [
      ['read-only', 'Read-only'],
      ['super-admin', 'Super admin'],
    ]);
    await h.driver.selectInView(alice.slackId, v.id, 'role', 'role', { value: 'read-only', text: 'Read-only' });
    const durations = await h.driver.suggest(alice.slackId, v.id, 'duration', 'duration', '');
    assert.deepEqual((durations.body as { options: Opt[] }).options.map((o) => o.text.text), ['2 seconds', '3 seconds', '4 hours', 'Permanent']);
  });

  test('invalid submissions get inline errors and record nothing', async () => {
    const v = await openModal(h);
    const res = await h.driver.submitView(alice.slackId, v.id, {
      application: { application: 'okta-console' },
      role: { role: { value: 'super-admin', text: 'Super admin' } },
      duration: { duration: { value: 'permanent', text: 'Permanent' } },
      reason: { reason: 'ok' },
    });
    const body = res.body as { response_action: string; errors: Record<string, string> };
    assert.equal(body.response_action, 'errors');
    assert.match(body.errors.duration!, /not allowed for Super admin/);
    assert.match(body.errors.reason!, /at least 3 characters/);
    assert.equal(h.bot.store.findBySubmissionKey(v.id), undefined);

    const forged = await h.driver.submitView(alice.slackId, v.id, {
      application: { application: 'okta-console' },
      role: { role: { value: 'no-such-role', text: 'x' } },
      duration: { duration: { value: '4h', text: '4 hours' } },
      reason: { reason: 'A valid reason' },
    });
    assert.match((forged.body as { errors: Record<string, string> }).errors.role!, /not offered/);
  });

  test('the same modal submitted twice makes one request', async () => {
    const v = await openModal(h);
    const values = {
      application: { application: 'okta-console' },
      role: { role: { value: 'read-only', text: 'Read-only' } },
      duration: { duration: { value: '4h', text: '4 hours' } },
      reason: { reason: 'Checking the audit log' },
    };
    await h.driver.submitView(alice.slackId, v.id, values);
    h.slack.views.get(v.id)!.closed = false; // Slack resends a submission when our ack is lost.
    await h.driver.submitView(alice.slackId, v.id, values);
    await h.idle();
    const rows = h.bot.db.prepare('SELECT COUNT(*) AS n FROM requests WHERE submission_key = ?').get(v.id) as { n: number };
    assert.equal(rows.n, 1);
  });

  test('requests with a bad, missing or stale signature get 401 and change nothing', async () => {
    const body = new URLSearchParams({ command: '/access', user_id: alice.slackId, trigger_id: h.slack.issueTriggerId(alice.slackId), text: '' }).toString();
    const count = h.slack.views.size;
    const bad = await h.driver.raw(body, { 'x-slack-signature': 'v0=deadbeef', 'x-slack-request-timestamp': String(Math.floor(Date.now() / 1000)) });
    assert.equal(bad.status, 401);
    const missing = await h.driver.raw(body, {});
    assert.equal(missing.status, 401);
    const staleTs = Math.floor(Date.now() / 1000) - 6 * 60;
    const stale = await h.driver.raw(body, h.driver.sign(body, staleTs));
    assert.equal(stale.status, 401);
    assert.equal(h.slack.views.size, count);
  });
});

describe('a catalog with more than 100 applications', () => {
  let h: Harness;
  before(async () => {
    const apps = Array.from({ length: 150 }, (_, i) => `
  - id: app-${i}
    name: Application ${String(i).padStart(3, '0')}
    owners: [bob@example.com]
    roles:
      - id: user
        name: User
        grant: { connector: okta, group: 00g1readonly }
        durations: [1h]
        approvers: [owners]`).join('');
    h = await new Harness({ catalog: `jira:\n  project: ACC\napplications:${apps}\n` }).start();
  });
  after(async () => {
    await h.stop();
  });

  test('the application select becomes an external_select with type-ahead', async () => {
    const v = await openModal(h);
    const app = (v.view.blocks as { block_id: string; element: { type: string } }[]).find((b) => b.block_id === 'application')!;
    assert.equal(app.element.type, 'external_select');
    const all = await h.driver.suggest(alice.slackId, v.id, 'application', 'application', 'app');
    assert.equal((all.body as { options: Opt[] }).options.length, 100, 'at most 100 options per answer');
    const some = await h.driver.suggest(alice.slackId, v.id, 'application', 'application', '14');
    assert.deepEqual((some.body as { options: Opt[] }).options.map((o) => o.value), ['app-14', 'app-114', 'app-140', 'app-141', 'app-142', 'app-143', 'app-144', 'app-145', 'app-146', 'app-147', 'app-148', 'app-149']);
  });
});
