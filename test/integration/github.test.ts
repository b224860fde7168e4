/**
 * GitHub's pending memberships through the whole bot: someone outside the organization is
 * invited, and the grant counts (Jira "Access granted", the expiry clock) only once they accept;
 * an invitation never accepted fails the grant after the outbox's retry age, and the pending
 * membership is cancelled.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { GITHUB_ORG, Harness, waitUntil, type Person } from '../support/harness.js';

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
        grant: { connector: github, group: ${GITHUB_ORG}/developers }
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

describe('github: a pending membership', () => {
  let h: Harness;
  before(async () => {
    h = await new Harness({
      connectors: ['github'],
      catalog: CATALOG,
      // Retries of a pending grant come back within 3 s here (the hint is capped), and give up after 4 s.
      compose: { dispatcher: { backoff: { baseMs: 20, capMs: 200, maxHintMs: 300 }, idlePollMs: 50, maxRetryAgeMs: 4000 } },
    }).start();
    h.github!.addTeam(GITHUB_ORG, 'developers', 'Developers');
  });
  after(async () => {
    await h?.stop();
  });

  test('counts only once the invitation is accepted: active and "Access granted" on Jira after that, not before', async () => {
    const frank = outsider(h, 'frank');
    const id = await h.request(frank, { app: 'code', role: 'dev', duration: '4h' });
    await h.click(bob, id, 'approve');
    await waitUntil(() => h.github!.membership(GITHUB_ORG, 'developers', 'frank-gh') === 'pending', 5000, 'invited');
    // Retried while pending: still not granted.
    const puts = h.github!.addCalls;
    const invitedAt = Date.now();
    await h.github!.waitFor((c) => c.method === 'GET' && c.path.endsWith('/memberships/frank-gh') && c.at > invitedAt, 5000);
    assert.equal(h.bot.store.getRequest(id)!.state, 'approved');
    assert.ok(!h.jiraComments(id).some((c) => c.startsWith('Access granted')), 'nothing granted on Jira while pending');
    h.github!.acceptInvitation(GITHUB_ORG, 'frank-gh');
    await waitUntil(() => h.bot.store.getRequest(id)!.state === 'active', 5000, 'active once accepted');
    await h.idle();
    assert.equal(h.github!.addCalls, puts, 'the invitation was not sent again');
    assert.match(h.jiraComments(id).find((c) => c.startsWith('Access granted')) ?? '', new RegExp(`^Access granted: github group ${GITHUB_ORG}/developers for frank-gh, expires`));
  });

  test('never accepted: the grant fails after the retry age, saying why, and the pending membership is cancelled', async () => {
    const gina = outsider(h, 'gina');
    const id = await h.request(gina, { app: 'code', role: 'dev', duration: '4h', reason: 'Needs the repositories' });
    await h.click(bob, id, 'approve');
    await waitUntil(() => h.bot.store.getRequest(id)!.state === 'failed', 10_000, 'failed after the retry age');
    await h.idle();
    const last = h.jiraComments(id).at(-1)!;
    assert.match(last, /^Failed: granting access failed: gave up after \d+ attempts: gina-gh is not a member of GitHub organization acme yet: .*pending until they accept it/);
    assert.match(last, /the membership access-bot may have added was removed/);
    assert.equal(h.github!.membership(GITHUB_ORG, 'developers', 'gina-gh'), undefined, 'the invitation to the team is cancelled');
  });
});
