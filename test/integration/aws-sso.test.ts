/**
 * The aws-sso connector beyond the shared journey (connectors.test.ts): an add whose answer is
 * lost after AWS accepted it, the user sync's listing with emails, and `access-bot check` on an
 * Identity Center instance.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { runCheck, type CheckItem } from '../../src/check.js';
import { ACCESS_KEY_ID, INSTANCE_ARN, IDENTITY_STORE_ID, permissionSetArn, userIdFor } from '../emulators/aws-sso.js';
import { BOT_TOKEN, Harness, JIRA_TOKEN, PEOPLE, SIGNING_SECRET, waitUntil } from '../support/harness.js';

const { alice, bob, carol } = PEOPLE;
const ACCOUNT = '210987654321';
const PS = permissionSetArn('awsjourney');
const GHOST = permissionSetArn('awsghost');

const CATALOG = `
jira:
  project: ACC
  issueType: Task
  transitions: { approved: Approve, denied: Reject, active: Provisioned, revoked: Done, failed: Fail }
applications:
  - id: aws
    name: AWS
    owners: [bob@example.com]
    roles:
      - id: admin
        name: Admin
        grant: { connector: aws-sso, account: '${ACCOUNT}', permissionSet: '${PS}' }
        durations: [4h]
        approvers: [owners]
      - id: ghost
        name: Ghost
        grant: { connector: aws-sso, account: '${ACCOUNT}', permissionSet: '${GHOST}' }
        durations: [4h]
        approvers: [owners]
`;

describe('aws-sso', () => {
  let h: Harness;
  before(async () => {
    h = await new Harness({ connectors: ['okta', 'aws-sso'], catalog: CATALOG }).start();
    h.awsSso!.addPermissionSet(PS);
  });
  after(async () => {
    await h?.stop();
  });

  test('ambiguous add: a CreateAccountAssignment AWS carried out but whose answer was lost is granted once, and owned by the bot', async () => {
    const aws = h.awsSso!;
    const id = await h.request(alice, { app: 'aws', role: 'admin', duration: '4h' });
    await h.approverMessage(bob, id);
    await h.idle();
    aws.inject({ times: 1, drop: true, afterHandling: true, when: ({ headers }) => headers['x-amz-target'] === 'SWBExternalService.CreateAccountAssignment' });
    await h.click(bob, id, 'approve');
    await waitUntil(() => h.bot.store.getRequest(id)!.state === 'active', 10_000, 'active');
    await h.idle();
    assert.deepEqual(aws.assigned(ACCOUNT, PS), [userIdFor(alice.email)]);
    const granted = h.jiraComments(id).find((c) => c.startsWith('Access granted'))!;
    assert.match(granted, new RegExp(`^Access granted: aws-sso group ${ACCOUNT}/`));
    assert.doesNotMatch(granted, /already a member/, 'the lost answer does not make the bot think the assignment was there before');
    // Every later create, if any, met the one in progress (ConflictException) or found it done.
    const creates = aws.callsOf('CreateAccountAssignment');
    assert.ok(creates.slice(1).every((c) => c.status === 400), `creates: ${creates.map((c) => c.status).join(', ')}`);
  });

  test("the user sync stores each assigned user with the identity store's primary email, as for the other connectors", async () => {
    const aws = h.awsSso!;
    // Carol's primary email is not her first one; the first test left Alice assigned.
    aws.addUser({ email: carol.email, displayName: carol.name, emails: [{ value: 'carol.white@personal.example', type: 'home' }, { value: carol.email, primary: true }] });
    aws.assign(ACCOUNT, PS, userIdFor(carol.email));
    const results = await h.bot.memberSync.runOnce();
    assert.deepEqual(results.find((r) => r.group === `${ACCOUNT}/${PS}`), { connector: 'aws-sso', group: `${ACCOUNT}/${PS}`, outcome: 'ok', members: 2 });
    const stored = h.bot.groupMembers.currentMembers('aws-sso', `${ACCOUNT}/${PS}`);
    assert.deepEqual(stored.map((m) => [m.idpUserId, m.email]).sort(), [[userIdFor(alice.email), alice.email], [userIdFor(carol.email), carol.email]].sort());
  });

  test('access-bot check: the instance, the identity store and each permission set, with a fix naming the catalog keys', async () => {
    const env = {
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: `${h.slack.url}/api/`,
      JIRA_HOST: h.jira.url,
      JIRA_EMAIL: 'access-bot@example.com',
      JIRA_API_TOKEN: JIRA_TOKEN,
      ACCESS_CATALOG: h.config.catalogPath,
      AWS_SSO_INSTANCE_ARN: INSTANCE_ARN,
      AWS_SSO_IDENTITY_STORE_ID: IDENTITY_STORE_ID,
      AWS_SSO_REGION: 'eu-west-1',
      AWS_SSO_ENDPOINT: h.awsSso!.url,
    };
    const run = async (e: Record<string, string>): Promise<CheckItem[]> => {
      const lines: string[] = [];
      const r = await runCheck(e, { out: (l) => lines.push(l), fetchTimeoutMs: 2000 });
      return r.items.filter((i) => i.name.startsWith('aws-sso'));
    };
    const items = await run(env);
    const byName = new Map(items.map((i) => [i.name, i]));
    assert.equal(byName.get('aws-sso credentials valid')?.status, 'pass');
    assert.equal(byName.get(`aws-sso group ${ACCOUNT}/${PS} exists`)?.status, 'pass');
    const ghost = byName.get(`aws-sso group ${ACCOUNT}/${GHOST} exists`)!;
    assert.equal(ghost.status, 'fail');
    assert.match(ghost.fix ?? '', /^set grant\.account and grant\.permissionSet of aws\/ghost in .* to a 12-digit account id and a permission set ARN/);

    const wrongStore = await run({ ...env, AWS_SSO_IDENTITY_STORE_ID: 'd-0000000000' });
    const creds = wrongStore.find((i) => i.name === 'aws-sso credentials valid')!;
    assert.equal(creds.status, 'fail');
    assert.match(creds.detail ?? '', /uses identity store d-9067000001, not d-0000000000/);
    assert.match(creds.fix ?? '', /AWS_SSO_IDENTITY_STORE_ID/);
    assert.ok(wrongStore.filter((i) => i.name.includes(' group ')).every((i) => i.status === 'skip'));
    assert.equal(process.env.AWS_ACCESS_KEY_ID, ACCESS_KEY_ID);
  });
});
