/**
 * Expiry warnings (issue 17): the holder is told by DM before a grant ends, with Extend, once
 * per warning point, across restarts; an extension re-arms the points ahead of the new end. The
 * clock is injected (an offset moved by the test) and the timers ticked by hand: no waiting.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { GROUPS, Harness, PEOPLE, waitUntil } from '../support/harness.js';

const { alice, bob } = PEOPLE;
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

const CATALOG = `
jira: { project: ACC }
applications:
  - id: console
    name: Console
    owners: [bob@example.com]
    roles:
      - { id: long, name: Long, grant: { connector: okta, group: ${GROUPS.readOnly} }, durations: [2d], approvers: [owners] }
      - { id: shift, name: Shift, grant: { connector: okta, group: ${GROUPS.superAdmin} }, durations: [4h], approvers: [owners], extend: { approval: auto } }
      - { id: short, name: Short, grant: { connector: okta, group: ${GROUPS.readOnly} }, durations: [30m], approvers: [owners] }
`;

describe('expiry warnings', () => {
  let h: Harness;
  before(async () => {
    h = await new Harness({ catalog: CATALOG, movableClock: true }).start();
  });
  after(async () => {
    await h.stop();
  });

  /** Moves the bot's clock to `at` (bot time) and runs what is due. */
  async function at(t: number): Promise<void> {
    h.moveClockTo(t);
    h.bot.timers.tick();
    await h.idle();
  }

  async function activeGrant(role: string, duration: string): Promise<{ id: string; expiresAt: number }> {
    const id = await h.approvedGrant(alice, bob, { app: 'console', role, duration });
    return { id, expiresAt: h.bot.store.getRequest(id)!.expiresAt! };
  }

  const warningsAbout = (id: string) => h.slack.dmsTo(alice.slackId).filter((m) => /ends in/.test(m.text) && JSON.stringify(m.blocks).includes(`request:${id}`));

  test('a grant over a day is warned a day and an hour before it ends, once each', async () => {
    const g = await activeGrant('long', '2d');
    await at(g.expiresAt - DAY - 5000);
    assert.equal(warningsAbout(g.id).length, 0, 'not before the day mark');
    await at(g.expiresAt - DAY + 1000);
    const first = warningsAbout(g.id);
    assert.equal(first.length, 1);
    assert.match(first[0]!.text, /^:hourglass: Your access to Console \/ Long \(ACC-\d+\) ends in 23 hours 59 minutes, at .* Extend asks for 2 days more/);
    h.bot.timers.tick();
    await h.idle();
    // A restart keeps what was warned.
    await h.restart();
    await at(g.expiresAt - 2 * HOUR);
    assert.equal(warningsAbout(g.id).length, 1, 'the day warning is sent once');
    await at(g.expiresAt - HOUR + 1000);
    await at(g.expiresAt - 30 * MIN);
    const both = warningsAbout(g.id);
    assert.equal(both.length, 2, 'then the hour warning, once');
    assert.match(both[1]!.text, /ends in 59 minutes/);
    assert.equal(h.jiraComments(g.id).filter((c) => /warning/i.test(c)).length, 0, 'a warning is not a step on the Jira issue');
    assert.deepEqual(
      h.bot.store.auditOf(g.id).filter((a) => a.step.type === 'expiry_warned').map((a) => (a.step as { before: number }).before),
      [DAY, HOUR],
    );

    // Extend on the warning asks the approvers, under the rules of /access extend (2 days, the role's max).
    await h.driver.clickButton(alice.slackId, both[1]!, 'extend_access');
    const x = h.bot.store.extensionsOf(g.id).at(-1);
    assert.ok(x, 'an extension was asked for');
    assert.equal(x.durationMs, 2 * DAY);
    await waitUntil(() => h.bot.store.approversOf(x.id).some((a) => a.slackId === bob.slackId), 5000, 'extension routed to bob');
    // Someone else clicking it changes nothing.
    await h.driver.clickButton(bob.slackId, both[1]!, 'extend_access');
    await h.slack.waitForResponseUrlPost((p) => p.context.user === bob.slackId && /Only the person who holds/.test(String(p.body.text)));
    assert.equal(h.bot.store.extensionsOf(g.id).length, 1);
  });

  test('an extended grant is warned again before its new end', async () => {
    const g = await activeGrant('shift', '4h');
    await at(g.expiresAt - 10 * MIN + 1000);
    const [warning] = warningsAbout(g.id);
    assert.ok(warning, 'warned 10 minutes before the end');
    await h.driver.clickButton(alice.slackId, warning, 'extend_access');
    await waitUntil(() => h.bot.store.getRequest(g.id)!.expiresAt === g.expiresAt + 4 * HOUR, 5000, 'extended by 4 hours (auto)');
    await h.idle();
    await at(g.expiresAt + 3 * HOUR);
    assert.equal(warningsAbout(g.id).length, 1, 'nothing new before the new warning point');
    await at(g.expiresAt + 4 * HOUR - 10 * MIN + 1000);
    const again = warningsAbout(g.id);
    assert.equal(again.length, 2, 'warned again before the new end');
    assert.match(again[1]!.text, new RegExp(`at ${new Date(g.expiresAt + 4 * HOUR).toISOString().slice(0, 16).replace('T', ' ')}`));
    await at(g.expiresAt + 4 * HOUR - MIN);
    assert.equal(warningsAbout(g.id).length, 2, 'once');
  });

  test('a grant shorter than an hour is not warned', async () => {
    const g = await activeGrant('short', '30m');
    assert.equal(h.bot.store.getRequest(g.id)!.nextWarningAt, null);
    await at(g.expiresAt - 5 * MIN);
    await at(g.expiresAt - 1000);
    assert.equal(warningsAbout(g.id).length, 0);
  });
});
