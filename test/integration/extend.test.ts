/**
 * Extending an active grant (issue 17): `/access extend ACC-12 4h` asks the role's approvers under
 * the same rules as a request; the grant stays active meanwhile; approval moves the expiry (and
 * the precise timer), denial leaves it; both are on the grant's Jira issue.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parseCatalog } from '../../src/config/catalog.js';
import { DEFAULT_CATALOG, GROUPS, Harness, PEOPLE, waitUntil, type Person } from '../support/harness.js';

const { alice, bob, carol } = PEOPLE;

const answerTo = (h: Harness, who: Person, text: RegExp) => h.slack.waitForResponseUrlPost((p) => p.context.user === who.slackId && text.test(String(p.body.text)));

/** Bob owns the console and approves; Alice is listed too, so her own extension must skip her. */
const CATALOG = `${DEFAULT_CATALOG}
      - id: quick
        name: Quick
        grant: { connector: okta, group: ${GROUPS.superAdmin} }
        durations: [2s, 3s]
        approvers: [owners]
        extend: { approval: auto }
`;

describe('extending a grant', () => {
  let h: Harness;
  before(async () => {
    h = await new Harness({ catalog: CATALOG }).start();
  });
  after(async () => {
    await h.stop();
  });

  async function activeGrant(role = 'read-only', duration = '4h'): Promise<{ id: string; key: string; expiresAt: number }> {
    const id = await h.request(alice, { role, duration });
    await waitUntil(() => h.bot.store.approversOf(id).some((a) => a.slackId === bob.slackId), 5000, 'bob asked');
    await h.click(bob, id, 'approve');
    await waitUntil(() => h.bot.store.getRequest(id)!.state === 'active', 5000, 'active');
    await h.idle();
    const r = h.bot.store.getRequest(id)!;
    return { id, key: r.jiraKey!, expiresAt: r.expiresAt! };
  }

  const extensionOf = (id: string) => h.bot.store.extensionsOf(id).at(-1)!;

  test('the requester cannot approve their own extension', async () => {
    const grant = await activeGrant();
    const res = await h.driver.command(alice.slackId, '/access', `extend ${grant.key} 1h`);
    assert.equal(res.status, 200);
    await answerTo(h, alice, new RegExp(`You asked to extend ${grant.key} by 1 hour`));
    const x = extensionOf(grant.id);
    await waitUntil(() => h.bot.store.approversOf(x.id).length > 0, 5000, 'extension routed');
    await h.idle();
    assert.deepEqual(h.bot.store.approversOf(x.id).map((a) => a.email), ['bob@example.com'], 'alice, a listed approver, is not asked about her own extension');
    // Alice clicks Approve on the card Bob got (as a forwarded screenshot would tempt her to).
    const card = await h.approverMessage(bob, x.id);
    assert.match(card.text, /^Extension request: Alice Smith/);
    assert.match(JSON.stringify(card.blocks), /asks to extend/);
    await h.driver.clickButton(alice.slackId, card, 'approve');
    await answerTo(h, alice, /cannot approve or deny your own request/);
    await h.idle();
    assert.equal(h.bot.store.getRequest(x.id)!.state, 'pending');
    assert.equal(h.bot.store.getRequest(grant.id)!.expiresAt, grant.expiresAt, 'the expiry did not move');
    assert.equal(h.bot.store.getRequest(grant.id)!.state, 'active', 'the grant stays active while the extension is decided');

    await h.click(bob, x.id, 'approve');
    await waitUntil(() => h.bot.store.getRequest(x.id)!.state === 'approved', 5000, 'extension approved');
    await h.idle();
    const until = grant.expiresAt + 3_600_000;
    assert.equal(h.bot.store.getRequest(grant.id)!.expiresAt, until);
    const comments = h.jiraComments(grant.id);
    assert.ok(comments.some((c) => /^Extension requested by Alice Smith \(alice@example\.com\) on .*: 1 hour more, until /.test(c)), comments.join('\n'));
    assert.ok(comments.some((c) => c.startsWith(`Extended by Bob Jones (bob@example.com) until ${new Date(until).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, ' UTC')}`)), comments.join('\n'));
    assert.match(h.slack.dmsTo(alice.slackId).at(-1)!.text, /was extended by 1 hour \(approved by Bob Jones/);
  });

  test('a denied extension leaves the expiry where it was', async () => {
    const grant = await activeGrant();
    await h.driver.command(alice.slackId, '/access', `extend ${grant.key} 2h`);
    const x = extensionOf(grant.id);
    await waitUntil(() => h.bot.store.approversOf(x.id).length > 0, 5000, 'extension routed');
    await h.click(bob, x.id, 'deny');
    const modal = await h.slack.waitForView((v) => v.userId === bob.slackId && v.view.callback_id === 'deny_reason' && v.view.private_metadata === x.id);
    await h.driver.submitView(bob.slackId, modal.id, { reason: { reason: 'Finish tomorrow' } });
    await waitUntil(() => h.bot.store.getRequest(x.id)!.state === 'denied', 5000, 'extension denied');
    await h.idle();
    assert.equal(h.bot.store.getRequest(grant.id)!.expiresAt, grant.expiresAt);
    assert.equal(h.bot.store.getRequest(grant.id)!.state, 'active');
    assert.ok(h.jiraComments(grant.id).some((c) => /^Extension denied by Bob Jones \(bob@example\.com\) on .* — Finish tomorrow\. The access still expires /.test(c)));
    assert.match(h.slack.dmsTo(alice.slackId).at(-1)!.text, /extension of .* was denied by Bob Jones .*Finish tomorrow/);
  });

  test('only the holder may extend, by at most the role allows, and only active access', async () => {
    const grant = await activeGrant();
    await h.driver.command(carol.slackId, '/access', `extend ${grant.key} 1h`);
    await answerTo(h, carol, new RegExp(`Only the person who holds ${grant.key} can ask to extend it`));
    await h.driver.command(alice.slackId, '/access', `extend ${grant.key} 5h`);
    await answerTo(h, alice, /can be extended by at most 4 hours at a time/);
    await h.driver.command(alice.slackId, '/access', `extend ${grant.key} 1h`);
    await answerTo(h, alice, /You asked to extend/);
    await h.driver.command(alice.slackId, '/access', `extend ${grant.key} 1h`);
    await answerTo(h, alice, /already waiting for approval/);
    assert.equal(h.bot.store.extensionsOf(grant.id).length, 1);
  });

  test('an approved extension re-arms the precise expiry timer', async () => {
    const grant = await activeGrant('quick', '2s');
    await h.driver.command(alice.slackId, '/access', `extend ${grant.key} 3s`);
    await answerTo(h, alice, new RegExp(`${grant.key} was extended by 3 seconds`));
    assert.equal(h.bot.store.getRequest(grant.id)!.expiresAt, grant.expiresAt + 3000);
    assert.ok(h.jiraComments(grant.id).length > 0);
    // Past the old expiry the grant is still active; it ends at the new one, on the second.
    await waitUntil(() => Date.now() > grant.expiresAt + 1000, 5000, 'past the old expiry');
    assert.equal(h.bot.store.getRequest(grant.id)!.state, 'active');
    assert.equal(h.okta.isMember(GROUPS.superAdmin, alice.oktaId), true);
    await waitUntil(() => h.bot.store.getRequest(grant.id)!.state === 'revoked', 8000, 'revoked at the new expiry');
    const r = h.bot.store.getRequest(grant.id)!;
    assert.ok(r.revokeRequestedAt! >= grant.expiresAt + 3000 && r.revokeRequestedAt! < grant.expiresAt + 3000 + 1500, `revoked ${r.revokeRequestedAt! - grant.expiresAt} ms after the old expiry`);
    await h.idle();
    assert.ok(h.jiraComments(grant.id).some((c) => c.startsWith('Extended by policy (auto-approve) until ')));
  });
});

describe('catalog extend:', () => {
  const role = (extra: string, durations = '[1h, 8h]') => `
jira: { project: ACC }
applications:
  - id: app
    name: App
    owners: [bob@example.com]
    roles:
      - id: r
        name: R
        grant: { connector: okta, group: g1 }
        durations: ${durations}
        approvers: [owners]
${extra}`;
  const parse = (text: string) => parseCatalog(text, { configuredConnectors: ['okta'] });

  test('defaults to the role policy, at most its longest duration', () => {
    const c = parse(role(''));
    assert.ok(c.ok);
    assert.equal(c.catalog.applications[0]!.roles[0]!.extend?.maxMs, 8 * 3_600_000);
    assert.equal(c.catalog.applications[0]!.roles[0]!.extend?.policy.kind, 'stages');
  });

  test('bad extend values are clear errors naming the path', () => {
    const errors = (extra: string, durations?: string) => {
      const c = parse(role(extra, durations));
      return c.ok ? [] : c.errors;
    };
    assert.deepEqual(errors('        extend: { max: 9h }'), ["applications[0].roles[0].extend.max: 9h is longer than the role's longest duration (8 hours)"]);
    assert.deepEqual(errors('        extend: { max: permanent }'), ['applications[0].roles[0].extend.max: "permanent" is not a duration like 4h (permanent is not an extension)']);
    assert.deepEqual(errors('        extend: { approval: sometimes }'), ['applications[0].roles[0].extend.approval: "sometimes" is not one of: same, auto']);
    assert.deepEqual(errors('        extend: { max: 1h }', '[permanent]'), ['applications[0].roles[0].extend: the role offers only permanent, so there is nothing to extend']);
    assert.equal(errors('        extend: { maxx: 1h }').length, 1);
  });
});
