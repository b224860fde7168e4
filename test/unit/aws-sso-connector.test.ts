import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AwsSsoConnector } from '../../src/adapters/idp/aws-sso/connector.js';
import { assignmentGroup } from '../../src/adapters/idp/aws-sso/target.js';
import { NETWORK_RE } from '../../src/check/connection.js';
import { PermanentError, RetryableError } from '../../src/outbox/errors.js';
import { ACCESS_KEY_ID, AwsSsoEmulator, IDENTITY_STORE_ID, INSTANCE_ARN, SECRET_ACCESS_KEY, permissionSetArn } from '../emulators/aws-sso.js';
import { allMembers } from '../support/members.js';
import { rejectsWith } from '../support/rejects.js';

const ACCOUNT = '123456789012';
let aws: AwsSsoEmulator;
let connector: AwsSsoConnector;
let sleeps: number[];

before(async () => {
  aws = new AwsSsoEmulator();
  await aws.start();
});

after(async () => {
  await aws.stop();
});

function make(opts: { attempts?: number; accessKeyId?: string; timeoutMs?: number } = {}): AwsSsoConnector {
  return AwsSsoConnector.fromConfig(
    {
      instanceArn: INSTANCE_ARN,
      identityStoreId: IDENTITY_STORE_ID,
      region: 'eu-west-1',
      endpoint: aws.url,
      credentials: { accessKeyId: opts.accessKeyId ?? ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY },
      poll: { intervalMs: 5, attempts: opts.attempts ?? 5 },
      timeoutMs: opts.timeoutMs ?? 2000,
    },
    {
      sleep: (ms) => {
        sleeps.push(ms);
        return Promise.resolve();
      },
    },
  );
}

beforeEach(() => {
  sleeps = [];
  aws.settleAfter = 1;
  connector = make();
});

afterEach(() => {
  aws.clearFaults();
});

let seq = 0;
function newUser(): { id: string; email: string } {
  seq += 1;
  const email = `user${seq}@example.com`;
  return { id: aws.addUser({ email, displayName: `User N${seq}` }), email };
}
function newGroup(): { group: string; ps: string } {
  seq += 1;
  const ps = permissionSetArn(`unit${seq}`);
  aws.addPermissionSet(ps);
  return { group: `${ACCOUNT}/${ps}`, ps };
}


describe('grant keys', () => {
  test('an account and a permission set ARN make one group string', () => {
    const ps = permissionSetArn('abc');
    assert.deepEqual(assignmentGroup({ account: ACCOUNT, permissionSet: ps }), { group: `${ACCOUNT}/${ps}` });
  });

  test('an account that is not 12 digits, or a permission set that is not its ARN, is an error naming it', () => {
    const bad = assignmentGroup({ account: '12345', permissionSet: permissionSetArn('abc') });
    assert.match('error' in bad ? bad.error : '', /account "12345" is not an AWS account id \(12 digits/);
    const worse = assignmentGroup({ account: ACCOUNT, permissionSet: 'ReadOnly' });
    assert.match('error' in worse ? worse.error : '', /permissionSet "ReadOnly" is not a permission set ARN/);
  });
});

describe('findUserByEmail', () => {
  test('finds the user by emails.value through GetUserId, then reads them', async () => {
    const u = newUser();
    assert.deepEqual(await connector.findUserByEmail(u.email), { id: u.id, email: u.email, displayName: `User N${seq}` });
    const lookup = aws.callsOf('GetUserId').at(-1)!;
    assert.deepEqual((lookup.body as { AlternateIdentifier: unknown }).AlternateIdentifier, { UniqueAttribute: { AttributePath: 'emails.value', AttributeValue: u.email } });
  });

  test('falls back to userName when no email matches', async () => {
    seq += 1;
    const id = aws.addUser({ email: `other${seq}@example.net`, userName: `login${seq}@example.com`, displayName: 'Login Only' });
    assert.equal((await connector.findUserByEmail(`login${seq}@example.com`))?.id, id);
  });

  test('an unknown email resolves undefined', async () => {
    assert.equal(await connector.findUserByEmail('nobody@example.com'), undefined);
  });

  test("a throttled lookup is retryable with the identity store's Retry-After", async () => {
    aws.throttle(1, 'GetUserId', { retryAfterSec: 3 });
    const err = await rejectsWith(connector.findUserByEmail('x@example.com'), RetryableError);
    assert.equal(err.code, 'aws_sso_throttled');
    assert.equal(err.retryAfterMs, 3000);
  });
});

describe('account assignments', () => {
  test('add: creates the assignment and polls its status to SUCCEEDED', async () => {
    const { group, ps } = newGroup();
    const u = newUser();
    aws.settleAfter = 2;
    await connector.addMember(group, u.id);
    assert.equal(aws.isAssigned(ACCOUNT, ps, u.id), true);
    assert.equal(await connector.isMember(group, u.id), true);
    assert.deepEqual(sleeps, [5, 5, 5], 'waited between status reads');
  });

  test('already assigned: add succeeds without a second CreateAccountAssignment', async () => {
    const { group, ps } = newGroup();
    const u = newUser();
    aws.assign(ACCOUNT, ps, u.id);
    const before = aws.callsOf('CreateAccountAssignment').length;
    await connector.addMember(group, u.id);
    assert.equal(aws.callsOf('CreateAccountAssignment').length, before);
  });

  test('not assigned: remove succeeds without a DeleteAccountAssignment', async () => {
    const { group } = newGroup();
    const u = newUser();
    const before = aws.callsOf('DeleteAccountAssignment').length;
    await connector.removeMember(group, u.id);
    assert.equal(aws.callsOf('DeleteAccountAssignment').length, before);
  });

  test('remove: deletes the assignment and polls to SUCCEEDED', async () => {
    const { group, ps } = newGroup();
    const u = newUser();
    aws.assign(ACCOUNT, ps, u.id);
    await connector.removeMember(group, u.id);
    assert.equal(aws.isAssigned(ACCOUNT, ps, u.id), false);
  });

  test('isMember pages through ListAccountAssignments and only counts the user', async () => {
    const { group, ps } = newGroup();
    const users = Array.from({ length: 130 }, () => newUser());
    for (const u of users) aws.assign(ACCOUNT, ps, u.id);
    const last = users.map((u) => u.id).sort().at(-1)!;
    const before = aws.callsOf('ListAccountAssignments').length;
    assert.equal(await connector.isMember(group, last), true);
    assert.equal(aws.callsOf('ListAccountAssignments').length - before, 2, 'two pages of 100');
    assert.equal(await connector.isMember(group, newUser().id), false);
  });

  test('a request still IN_PROGRESS at the bound is retryable, and the retry polls the same request instead of creating another', async () => {
    const { group, ps } = newGroup();
    const u = newUser();
    const bounded = make({ attempts: 2 });
    aws.settleAfter = 3;
    const creates = aws.callsOf('CreateAccountAssignment').length;
    const err = await rejectsWith(bounded.addMember(group, u.id), RetryableError);
    assert.equal(err.code, 'aws_sso_in_progress');
    assert.ok((err.retryAfterMs ?? 0) > 0);
    assert.equal(aws.isAssigned(ACCOUNT, ps, u.id), false);
    await bounded.addMember(group, u.id);
    assert.equal(aws.isAssigned(ACCOUNT, ps, u.id), true);
    assert.equal(aws.callsOf('CreateAccountAssignment').length - creates, 1, 'one CreateAccountAssignment for both attempts');
  });

  test('a throttled status read keeps the request: the retry resumes it', async () => {
    const { group, ps } = newGroup();
    const u = newUser();
    aws.throttle(1, 'DescribeAccountAssignmentCreationStatus');
    const creates = aws.callsOf('CreateAccountAssignment').length;
    await rejectsWith(connector.addMember(group, u.id), RetryableError);
    await connector.addMember(group, u.id);
    assert.equal(aws.isAssigned(ACCOUNT, ps, u.id), true);
    assert.equal(aws.callsOf('CreateAccountAssignment').length - creates, 1);
  });

  test('a FAILED request is a PermanentError with the reason AWS gave', async () => {
    const { group } = newGroup();
    const u = newUser();
    aws.failNext('Received a 404 status error: Not supported policy arn:aws:iam::aws:policy/Nope.');
    const err = await rejectsWith(connector.addMember(group, u.id), PermanentError);
    assert.match(err.message, /Not supported policy/);
    assert.match(err.message, /request [0-9a-f-]{36}/);
  });

  test('ConflictException (another operation on the assignment runs) is retryable', async () => {
    const { group } = newGroup();
    const u = newUser();
    const bounded = make({ attempts: 0 });
    aws.settleAfter = 5;
    await rejectsWith(bounded.addMember(group, u.id), RetryableError);
    // A second connector (another process) does not know the pending request.
    const err = await rejectsWith(make().addMember(group, u.id), RetryableError);
    assert.equal(err.code, 'aws_sso_conflict');
  });

  test("a missing permission set is a PermanentError naming it; one of another instance is refused before any call", async () => {
    const ps = permissionSetArn('missing');
    const u = newUser();
    const err = await rejectsWith(connector.addMember(`${ACCOUNT}/${ps}`, u.id), PermanentError);
    assert.match(err.message, new RegExp(`AWS permission set ${ps.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} or account ${ACCOUNT} not found`));
    const before = aws.calls.length;
    const other = await rejectsWith(connector.isMember(`${ACCOUNT}/arn:aws:sso:::permissionSet/ssoins-0000000000000000/ps-0000000000000000`, u.id), PermanentError);
    assert.match(other.message, /belongs to instance ssoins-0000000000000000/);
    assert.equal(aws.calls.length, before);
  });

  test('ThrottlingException on the create is retryable and nothing is assigned', async () => {
    const { group, ps } = newGroup();
    const u = newUser();
    aws.throttle(1, 'CreateAccountAssignment');
    const err = await rejectsWith(connector.addMember(group, u.id), RetryableError);
    assert.equal(err.code, 'aws_sso_throttled');
    assert.equal(aws.isAssigned(ACCOUNT, ps, u.id), false);
  });

  test('500 InternalServerException and a dropped connection are retryable; a hang times out retryably', async () => {
    const { group } = newGroup();
    const u = newUser();
    const isList = ({ headers }: { headers: Record<string, unknown> }) => headers['x-amz-target'] === 'SWBExternalService.ListAccountAssignments';
    aws.inject({ when: isList, times: 1, status: 500, headers: { 'content-type': 'application/x-amz-json-1.1' }, body: { __type: 'InternalServerException', Message: 'boom' } });
    assert.equal((await rejectsWith(connector.isMember(group, u.id), RetryableError)).code, 'aws_sso_unavailable');
    aws.inject({ when: isList, times: 1, drop: true });
    await rejectsWith(connector.isMember(group, u.id), RetryableError);
    aws.inject({ when: isList, times: 1, hang: true });
    assert.equal((await rejectsWith(make({ timeoutMs: 200 }).isMember(group, u.id), RetryableError)).code, 'aws_sso_timeout');
  });

  test('an unknown access key is a PermanentError about the credentials', async () => {
    const { group } = newGroup();
    const err = await rejectsWith(make({ accessKeyId: 'AKIANOTKNOWN00000000' }).isMember(group, newUser().id), PermanentError);
    assert.match(err.message, /AWS credentials rejected/);
    assert.match(err.message, /UnrecognizedClientException/);
  });

  test('AccessDeniedException is permanent', async () => {
    const { group } = newGroup();
    aws.inject({ times: 1, status: 400, headers: { 'content-type': 'application/x-amz-json-1.1' }, body: { __type: 'AccessDeniedException', Message: 'User is not authorized' } });
    const err = await rejectsWith(connector.isMember(group, newUser().id), PermanentError);
    assert.equal(err.code, 'aws_sso_forbidden');
  });

  test('every call is sent once: the SDK does not retry on its own', async () => {
    const { group } = newGroup();
    const before = aws.callsOf('ListAccountAssignments').length;
    aws.throttle(1, 'ListAccountAssignments');
    await rejectsWith(connector.isMember(group, newUser().id), RetryableError);
    assert.equal(aws.callsOf('ListAccountAssignments').length - before, 1);
  });
});

describe('listMembers', () => {
  test('pages through the users assigned the permission set', async () => {
    const { group, ps } = newGroup();
    const users = Array.from({ length: 7 }, () => newUser());
    for (const u of users) aws.assign(ACCOUNT, ps, u.id);
    const { members, pages } = await allMembers(connector, group, 3);
    assert.deepEqual(members.map((m) => m.id).sort(), users.map((u) => u.id).sort());
    assert.equal(pages, 3);
    const byId = new Map(members.map((m) => [m.id, m]));
    for (const u of users) assert.equal(byId.get(u.id)!.email, u.email, 'each member with its email, as the other connectors list them');
    assert.match(byId.get(users[0]!.id)!.displayName ?? '', /^User N\d+$/);
  });

  test("each member's email is the identity store's primary one, else its first; a user with none or no longer in the store keeps only its id", async () => {
    const { group, ps } = newGroup();
    seq += 1;
    const n = seq;
    const primaryLast = aws.addUser({
      email: `second${n}@example.com`,
      displayName: 'Two Mails',
      emails: [
        { value: `personal${n}@example.net`, type: 'home' },
        { value: `second${n}@example.com`, primary: true },
      ],
    });
    const noPrimary = aws.addUser({ email: `first${n}@example.com`, displayName: 'No Primary', emails: [{ value: `first${n}@example.com` }, { value: `other${n}@example.com` }] });
    const noEmail = aws.addUser({ email: `none${n}@example.com`, displayName: 'No Mail', emails: [] });
    const deleted = newUser();
    for (const id of [primaryLast, noPrimary, noEmail, deleted.id]) aws.assign(ACCOUNT, ps, id);
    aws.removeUser(deleted.id);
    const { members } = await allMembers(connector, group, 100);
    const byId = new Map(members.map((m) => [m.id, m]));
    assert.deepEqual(byId.get(primaryLast), { id: primaryLast, email: `second${n}@example.com`, displayName: 'Two Mails' });
    assert.deepEqual(byId.get(noPrimary), { id: noPrimary, email: `first${n}@example.com`, displayName: 'No Primary' });
    assert.deepEqual(byId.get(noEmail), { id: noEmail, displayName: 'No Mail' });
    assert.deepEqual(byId.get(deleted.id), { id: deleted.id });
  });

  test('a throttled DescribeUser fails the page as retryable, with the identity store\'s Retry-After: no member is listed without the email it has', async () => {
    const { group, ps } = newGroup();
    const users = Array.from({ length: 6 }, () => newUser());
    for (const u of users) aws.assign(ACCOUNT, ps, u.id);
    aws.throttle(1, 'DescribeUser', { retryAfterSec: 2 });
    const err = await rejectsWith(connector.listMembers(group, { size: 100 }), RetryableError);
    assert.equal(err.retryAfterMs, 2000);
    const { members } = await allMembers(connector, group, 100);
    assert.equal(members.filter((m) => m.email).length, 6);
  });
});

describe('checkHealth', () => {
  test('the instance and identity store are found; a missing permission set fails its check', async () => {
    const { group } = newGroup();
    const missing = `${ACCOUNT}/${permissionSetArn('nothere')}`;
    const report = await connector.checkHealth([group, missing]);
    assert.equal(report.ok, false);
    assert.deepEqual(report.checks.map((c) => [c.name, c.ok]), [
      ['credentials valid', true],
      [`group ${group} exists`, true],
      [`group ${missing} exists`, false],
    ]);
  });

  test('a wrong identity store id fails the first check', async () => {
    const c = AwsSsoConnector.fromConfig({ instanceArn: INSTANCE_ARN, identityStoreId: 'd-0000000000', region: 'eu-west-1', endpoint: aws.url, credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY } });
    const report = await c.checkHealth([]);
    assert.equal(report.ok, false);
    assert.match(report.checks[0]!.detail ?? '', /uses identity store d-9067000001, not d-0000000000/);
  });
});

test('check: an error code is a network failure only as a whole word (ResourceNotFoundException is an answer, not ENOTFOUND)', () => {
  assert.equal(NETWORK_RE.test('AWS permission set … not found (ResourceNotFoundException: Could not find PermissionSet)'), false);
  assert.equal(NETWORK_RE.test('could not reach AWS while listing (ENOTFOUND)'), true);
  assert.equal(NETWORK_RE.test('getaddrinfo ENOTFOUND sso.eu-west-1.amazonaws.com'), true);
});
