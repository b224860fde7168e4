/**
 * Bitbucket project and repository permissions as grants: the catalog's own keys (project:,
 * repository:, permission:) become one membership key, granted and revoked through the outbox,
 * and the ownership rule holds: a permission held before the grant is never revoked.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Harness, PEOPLE, bitbucketName, waitUntil } from '../support/harness.js';

const { alice, bob, carol } = PEOPLE;

const CATALOG = `
jira:
  project: ACC
  issueType: Task
  transitions: { approved: Approve, denied: Reject, active: Provisioned, revoked: Done, failed: Fail }
applications:
  - id: payments-code
    name: Payments code
    owners: [bob@example.com]
    roles:
      - id: project-write
        name: Project write
        grant: { connector: bitbucket-dc, project: PAY, permission: PROJECT_WRITE }
        durations: [2s, 4h]
        approvers: [owners]
      - id: repo-write
        name: Repository write
        grant: { connector: bitbucket-dc, project: PAY, repository: payments, permission: REPO_WRITE }
        durations: [2s]
        approvers: [owners]
`;

describe('bitbucket-dc project and repository permissions', () => {
  let h: Harness;
  before(async () => {
    h = await new Harness({ connectors: ['bitbucket-dc'], catalog: CATALOG }).start();
    h.bitbucket!.addProject('PAY');
    h.bitbucket!.addRepo('PAY', 'payments');
  });
  after(async () => {
    await h?.stop();
  });

  const stateOf = (id: string): string => h.bot.store.getRequest(id)!.state;

  test('a project permission is granted, named on Jira, and revoked at expiry', async () => {
    const id = await h.request(alice, { app: 'payments-code', role: 'project-write', duration: '2s' });
    await h.click(bob, id, 'approve');
    await waitUntil(() => stateOf(id) === 'active', 8000, 'active');
    assert.equal(h.bitbucket!.projectPermission('PAY', bitbucketName(alice)), 'PROJECT_WRITE');
    await h.idle();
    assert.match(h.jiraComments(id).find((c) => c.startsWith('Access granted')) ?? '', /^Access granted: bitbucket-dc group project:PAY:PROJECT_WRITE for alice, expires/);
    await waitUntil(() => stateOf(id) === 'revoked', 5000, 'revoked');
    assert.equal(h.bitbucket!.projectPermission('PAY', bitbucketName(alice)), undefined);
  });

  test('a higher permission held before the grant is kept at expiry', async () => {
    h.bitbucket!.setProjectPermission('PAY', bitbucketName(carol), 'PROJECT_ADMIN');
    const id = await h.request(carol, { app: 'payments-code', role: 'project-write', duration: '2s' });
    await h.click(bob, id, 'approve');
    await waitUntil(() => stateOf(id) === 'revoked', 8000, 'revoked');
    await h.idle();
    assert.match(h.jiraComments(id).find((c) => c.startsWith('Access granted'))!, /already a member before this grant/);
    assert.equal(h.bitbucket!.projectPermission('PAY', bitbucketName(carol)), 'PROJECT_ADMIN');
    assert.equal(h.bitbucket!.callsTo('DELETE', '/rest/api/1.0/projects/PAY/permissions/users').filter((c) => c.query.get('name') === 'carol').length, 0);
  });

  test('a repository permission is granted and revoked', async () => {
    const id = await h.request(alice, { app: 'payments-code', role: 'repo-write', duration: '2s', reason: 'Fix the payments build' });
    await h.click(bob, id, 'approve');
    await waitUntil(() => stateOf(id) === 'active', 8000, 'active');
    assert.equal(h.bitbucket!.repoPermission('PAY', 'payments', bitbucketName(alice)), 'REPO_WRITE');
    await waitUntil(() => stateOf(id) === 'revoked', 5000, 'revoked');
    assert.equal(h.bitbucket!.repoPermission('PAY', 'payments', bitbucketName(alice)), undefined);
  });
});
