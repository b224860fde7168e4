/**
 * GitHub's pending memberships through the whole bot: someone outside the organization is
 * invited (PUT answers `pending`), the Jira issue says so once, and the grant counts (Jira
 * "Access granted", the expiry clock) only once they accept; the membership is read with GET
 * meanwhile, across a restart too, never PUT again. A revocation afterwards removes it; an
 * invitation declined or never accepted fails the grant and the pending membership is removed;
 * an admin's retry then invites again and says so again.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { runEffects } from '../../src/effects-cli.js';
import { GITHUB_ORG, Harness, waitUntil, type Person } from '../support/harness.js';

const TEAM = `${GITHUB_ORG}/developers`;

const CATALOG = `
jira:
  project: ACC
  issueType: Task
  transitions: { approved: Approve, denied: Reject, active: Provisioned, revoked: Done, failed: Fail }
applications:
  - id: code
    name: Source code
    owners: [bob@example.com]
    roles:
      - id: dev
        name: Developer
        grant: { connector: github, group: ${TEAM} }
        durations: [4h]
        approvers: [owners]
`;

const bob: Person = { slackId: 'U0BOB', email: 'bob@example.com', name: 'Bob Jones', oktaId: '00u1bob' };

/** A Slack user with a GitHub account linked to the org's SAML, but not (yet) in the organization. */
function outsider(h: Harness, name: string): Person {
  const p: Person = { slackId: `U0${name.toUpperCase()}`, email: `${name}@example.com`, name: `${name} Outside`, oktaId: `00u1${name}` };
  h.slack.addUser({ id: p.slackId, email: p.email, realName: p.name });
  h.github!.addUser(`${name}-gh`, p.name);
  h.github!.addSamlIdentity(GITHUB_ORG, { nameId: p.email, login: `${name}-gh` });
  return p;
}

const invited = (login: string): string => `Access pending: GitHub invitation sent to ${login} to join organization ${GITHUB_ORG} (team ${TEAM}); access starts when it is accepted (on `;

describe('github: a pending membership', () => {
  let h: Harness;
  before(async () => {
    h = await new Harness({
      connectors: ['github'],
      catalog: CATALOG,
      // Checks of a pending membership come back within 0.3 s here (the hint is capped), and give up after 4 s.
      compose: { dispatcher: { backoff: { baseMs: 20, capMs: 200, maxHintMs: 300 }, idlePollMs: 50, maxRetryAgeMs: 4000 } },
    }).start();
    h.github!.addTeam(GITHUB_ORG, 'developers', 'Developers');
  });
  after(async () => {
    await h?.stop();
  });

  /** Requested and approved; resolves once GitHub holds the pending membership and the bot has looked at it `checks` times since. */
  async function invite(p: Person, login: string, checks = 2): Promise<string> {
    const id = await h.request(p, { app: 'code', role: 'dev', duration: '4h' });
    await h.click(bob, id, 'approve');
    await waitUntil(() => h.github!.membership(GITHUB_ORG, 'developers', login) === 'pending', 5000, 'invited');
    const since = Date.now();
    await waitUntil(() => h.github!.calls.filter((c) => c.method === 'GET' && c.path.endsWith(`/memberships/${login}`) && c.at >= since).length >= checks, 5000, `${checks} checks of the pending membership`);
    return id;
  }

  const pendingComments = (id: string): string[] => h.jiraComments(id).filter((c) => c.startsWith('Access pending'));

  test('said once on Jira and to the requester; granted only once accepted, never invited twice; a revocation then removes it', async () => {
    const frank = outsider(h, 'frank');
    const puts = h.github!.addCalls;
    const id = await invite(frank, 'frank-gh', 3);
    assert.equal(h.github!.addCalls - puts, 1, 'one PUT: the invitation');
    assert.equal(h.bot.store.getRequest(id)!.state, 'approved');
    await waitUntil(() => pendingComments(id).length > 0, 5000, 'the pending step on Jira');
    assert.deepEqual(pendingComments(id).map((c) => c.slice(0, invited('frank-gh').length)), [invited('frank-gh')], 'one "Access pending" comment, however often the membership is checked');
    assert.ok(!h.jiraComments(id).some((c) => c.startsWith('Access granted')), 'nothing granted on Jira while pending');
    const dm = await h.slack.waitForDm(frank.slackId, (m) => m.text.includes('waits for you'));
    assert.match(dm.text, /^Your request for Source code \/ Developer \(ACC-\d+\) was approved and waits for you: GitHub invitation sent to frank-gh to join organization acme \(team acme\/developers\); access starts when it is accepted\.$/);

    h.github!.acceptInvitation(GITHUB_ORG, 'frank-gh');
    await waitUntil(() => h.bot.store.getRequest(id)!.state === 'active', 5000, 'active once accepted');
    await h.idle();
    assert.equal(h.github!.addCalls - puts, 1, 'the invitation was not sent again');
    const comments = h.jiraComments(id);
    assert.equal(pendingComments(id).length, 1);
    const granted = comments.findIndex((c) => c.startsWith('Access granted'));
    assert.match(comments[granted] ?? '', new RegExp(`^Access granted: github group ${TEAM} for frank-gh, expires`));
    assert.ok(granted > comments.findIndex((c) => c.startsWith('Access pending')), 'pending, then granted');
    assert.doesNotMatch(comments[granted]!, /already a member/, 'the membership the bot added is the bot’s: a revocation removes it');

    const notice = await h.slack.waitForDm(frank.slackId, (m) => /^Access granted/.test(m.text));
    await h.driver.clickButton(frank.slackId, notice, 'revoke_access');
    await waitUntil(() => h.bot.store.getRequest(id)!.state === 'revoked', 5000, 'revoked');
    await h.idle();
    assert.equal(h.github!.membership(GITHUB_ORG, 'developers', 'frank-gh'), undefined, 'the membership is removed');
    assert.match(h.jiraComments(id).at(-1)!, /^Access revoked \(by frank Outside \(frank@example\.com\)\) on .*: removed frank-gh from github group acme\/developers\.$/);
  });

  test('a restart while pending goes on reading the membership: no second invitation, one "Access pending"', async () => {
    const hank = outsider(h, 'hank');
    const puts = h.github!.addCalls;
    const id = await invite(hank, 'hank-gh');
    await h.restart();
    const since = Date.now();
    await waitUntil(() => h.github!.calls.some((c) => c.method === 'GET' && c.path.endsWith('/memberships/hank-gh') && c.at >= since), 5000, 'checked after the restart');
    h.github!.acceptInvitation(GITHUB_ORG, 'hank-gh');
    await waitUntil(() => h.bot.store.getRequest(id)!.state === 'active', 5000, 'active once accepted');
    await h.idle();
    assert.equal(h.github!.addCalls - puts, 1, 'one PUT, before the restart');
    assert.equal(pendingComments(id).length, 1);
  });

  test('declined: the grant fails saying so, and the membership, gone with the invitation, is not in place', async () => {
    const ivy = outsider(h, 'ivy');
    const id = await invite(ivy, 'ivy-gh');
    h.github!.declineInvitation(GITHUB_ORG, 'ivy-gh');
    await waitUntil(() => h.bot.store.getRequest(id)!.state === 'failed', 5000, 'failed');
    await h.idle();
    assert.equal(pendingComments(id).length, 1);
    assert.match(h.jiraComments(id).at(-1)!, /^Failed: granting access failed: ivy-gh did not join GitHub organization acme: the invitation was declined, cancelled or has expired, so the membership of team acme\/developers is gone; the membership access-bot may have added was not in place/);
  });

  test('never accepted: the grant fails after the retry age and the pending membership is removed; an admin retry invites again and says so again', async () => {
    const gina = outsider(h, 'gina');
    const id = await invite(gina, 'gina-gh');
    await waitUntil(() => h.bot.store.getRequest(id)!.state === 'failed', 10_000, 'failed after the retry age');
    await h.idle();
    const last = h.jiraComments(id).at(-1)!;
    assert.match(last, /^Failed: granting access failed: gave up after \d+ attempts: gina-gh is not a member of GitHub organization acme yet: .*pending until they accept/);
    assert.match(last, /the membership access-bot may have added was removed/);
    assert.equal(h.github!.membership(GITHUB_ORG, 'developers', 'gina-gh'), undefined, 'the pending membership is removed');
    assert.equal(pendingComments(id).length, 1);

    const dead = h.bot.outbox.dead().find((e) => e.requestId === id && e.kind === 'idp.grant');
    assert.ok(dead, 'the grant died');
    const out: string[] = [];
    assert.equal(runEffects(['retry', String(dead.id)], { DATABASE_PATH: h.config.databasePath, USER: 'ops' }, (l) => out.push(l), (l) => out.push(l)), 0, out.join('\n'));
    await waitUntil(() => h.github!.membership(GITHUB_ORG, 'developers', 'gina-gh') === 'pending', 5000, 'invited again');
    await waitUntil(() => pendingComments(id).length === 2, 5000, 'the new invitation on Jira');
    h.github!.acceptInvitation(GITHUB_ORG, 'gina-gh');
    await waitUntil(() => h.bot.store.getRequest(id)!.state === 'active', 5000, 'active once accepted');
    await h.idle();
    const comments = h.jiraComments(id);
    const since = comments.slice(comments.findIndex((c) => c.startsWith('Failed')) + 1);
    ['Retried by admin ops', 'Access pending', 'Access granted'].forEach((s, i) => assert.ok(since[i]?.startsWith(s), `after the failure, comment ${i + 1} should start "${s}": ${since.join(' | ')}`));
  });
});
