/**
 * JiraCloudRecord (Jira Cloud REST API v3 over node:http, src/adapters/http.ts) against the Jira
 * Cloud emulator: the requests it sends, idempotency across retries, error classification, and
 * the ADF it writes. The emulator's Atlassian groups are exercised through jira.js 5.4's
 * `Version3Client`, which the Atlassian connector still uses.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { Version3Client } from 'jira.js';
import { JiraEmulator, type JiraEmulatorOptions } from '../emulators/jira.js';
import { COMMENT_PROPERTY, JiraCloudRecord, TRANSITION_PROPERTY, requestLabel } from '../../src/adapters/jira/record.js';
import { ADF_MAX_CHARS, TRUNCATION_MARKER, adfLength, adfToText, bulletList, doc, labelValue, paragraph, strong } from '../../src/adapters/jira/adf.js';
import { PermanentError, RetryableError } from '../../src/outbox/errors.js';
import type { AdfDoc } from '../../src/adapters/jira/types.js';

const EMAIL = 'access-bot@example.com';
const TOKEN = 'ATATT3xFfGF0-secret-jira-token-1234567890';

async function setup(t: TestContext, opts: { timeoutMs?: number; emu?: JiraEmulatorOptions } = {}) {
  const jira = new JiraEmulator({ email: EMAIL, apiToken: TOKEN, ...opts.emu });
  await jira.start();
  t.after(() => jira.stop());
  const record = JiraCloudRecord.fromConfig({ host: jira.url, email: EMAIL, apiToken: TOKEN, timeoutMs: opts.timeoutMs ?? 2000 });
  return { jira, record };
}

const body = (s: string): AdfDoc => doc(paragraph(s));

async function newIssue(record: JiraCloudRecord, requestId = 'req-1') {
  return record.createIssue({ requestId, project: 'ACC', issueType: 'Task', summary: 'Access: Okta admin console (read-only) for ada@example.com', description: body('Requested by ada@example.com') });
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  assert.fail('expected a rejection');
}

// ----- requests ---------------------------------------------------------------------------------

test('requests carry basic auth and Accept: application/json; Content-Type only with a body', async (t) => {
  const { jira, record } = await setup(t);
  const { key } = await newIssue(record);
  await record.transition(key, 'Approve');
  const basic = `Basic ${Buffer.from(`${EMAIL}:${TOKEN}`).toString('base64')}`;
  const calls = jira.server.calls;
  assert.deepEqual(
    calls.map((c) => `${c.method} ${c.path}`),
    ['POST /rest/api/3/search/jql', 'POST /rest/api/3/issue', `GET /rest/api/3/issue/${key}`, `POST /rest/api/3/issue/${key}/transitions`],
  );
  for (const c of calls) {
    assert.equal(c.headers.authorization, basic);
    assert.equal(c.headers.accept, 'application/json');
    assert.ok(c.headers['user-agent']);
    if (c.method === 'GET') assert.equal(c.headers['content-type'], undefined);
    else assert.equal(c.headers['content-type'], 'application/json');
  }
  assert.equal(calls[2]?.query.toString(), `fields=status&expand=transitions&properties=${TRANSITION_PROPERTY}`);
  assert.equal(calls[3]?.status, 204, 'an empty 2xx answer is fine');
});

// ----- createIssue ----------------------------------------------------------------------------

test('createIssue creates one labelled issue with the ADF description, and adopts it on retry', async (t) => {
  const { jira, record } = await setup(t);
  const first = await newIssue(record);
  assert.match(first.key, /^ACC-1$/);
  const again = await newIssue(record);
  assert.deepEqual(again, first);
  assert.equal(jira.issues.size, 1);
  const issue = jira.issue(first.key);
  assert.deepEqual(issue?.labels, [requestLabel('req-1')]);
  assert.equal(issue?.status, 'To Do');
  assert.deepEqual(issue?.description, body('Requested by ada@example.com'));
  // The lookup uses the enhanced search, not the removed /rest/api/3/search.
  assert.equal(jira.server.callsTo('POST', '/rest/api/3/search/jql').length, 2);
  assert.equal(jira.server.callsTo('POST', '/rest/api/3/issue').length, 1);
});

test('createIssue: a create whose answer was lost is adopted by the retry, not duplicated', async (t) => {
  const { jira, record } = await setup(t, { timeoutMs: 300 });
  jira.swallowResponse({ method: 'POST', path: '/rest/api/3/issue' });
  const err = await rejection(newIssue(record, 'req-lost'));
  assert.ok(err instanceof RetryableError, String(err));
  assert.equal(jira.issues.size, 1, 'Jira created it even though the client never heard back');
  const retried = await newIssue(record, 'req-lost');
  assert.equal(retried.key, 'ACC-1');
  assert.equal(jira.issues.size, 1);
});

test('createIssue: a search hit without a key is read by id', async (t) => {
  const { jira, record } = await setup(t);
  const first = await newIssue(record, 'by-id');
  const id = jira.issue(first.key)?.id ?? '';
  jira.inject({ method: 'POST', path: '/rest/api/3/search/jql', times: 1, status: 200, body: { issues: [{ id }] } });
  assert.deepEqual(await newIssue(record, 'by-id'), first);
  const reads = jira.server.callsTo('GET', `/rest/api/3/issue/${id}`);
  assert.equal(reads.length, 1);
  assert.equal(reads[0]?.query.toString(), 'fields=summary');
  assert.equal(jira.issues.size, 1);
});

test('createIssue: a 2xx answer that names no issue is retryable (the retry adopts by label)', async (t) => {
  const { jira, record } = await setup(t);
  jira.inject({ method: 'POST', path: '/rest/api/3/issue', times: 1, status: 200, body: '<html>proxy</html>' });
  const err = await rejection(newIssue(record, 'no-key'));
  assert.ok(err instanceof RetryableError, String(err));
  assert.equal(err.code, 'jira_bad_answer');
  assert.equal((await newIssue(record, 'no-key')).key, 'ACC-1');
});

test('createIssue: keys increment per project; a long multi-line summary is made acceptable', async (t) => {
  const { jira, record } = await setup(t, { emu: { projects: [{ key: 'ACC' }, { key: 'OPS' }] } });
  const a = await newIssue(record, 'r1');
  const b = await record.createIssue({ requestId: 'r2', project: 'OPS', issueType: 'Task', summary: `line one\nline two ${'x'.repeat(400)}`, description: body('d') });
  const c = await newIssue(record, 'r3');
  assert.deepEqual([a.key, b.key, c.key], ['ACC-1', 'OPS-1', 'ACC-2']);
  const summary = jira.issue('OPS-1')?.summary ?? '';
  assert.ok(summary.length <= 255 && !summary.includes('\n'));
});

test('createIssue: unknown project or issue type is a PermanentError naming the problem', async (t) => {
  const { record } = await setup(t);
  const noProject = await rejection(record.createIssue({ requestId: 'r', project: 'NOPE', issueType: 'Task', summary: 's', description: body('d') }));
  assert.ok(noProject instanceof PermanentError);
  assert.match(noProject.message, /NOPE/);
  const noType = await rejection(record.createIssue({ requestId: 'r', project: 'ACC', issueType: 'Epic', summary: 's', description: body('d') }));
  assert.ok(noType instanceof PermanentError);
  assert.match(noType.message, /issuetype: Specify a valid issue type/);
});

test('createIssue: search lag is the documented window; once indexed the retry adopts', async (t) => {
  const { jira, record } = await setup(t, { emu: { searchLagMs: 150 } });
  const first = await newIssue(record, 'lag');
  await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(await newIssue(record, 'lag'), first);
  assert.equal(jira.issues.size, 1);
});

// ----- addComment -----------------------------------------------------------------------------

test('addComment is idempotent by effect id and keeps comments in order', async (t) => {
  const { jira, record } = await setup(t);
  const { key } = await newIssue(record);
  const c1 = await record.addComment(key, body('Requested by ada@example.com'), 'eff-1');
  const again = await record.addComment(key, body('Requested by ada@example.com'), 'eff-1');
  assert.equal(again.id, c1.id);
  await record.addComment(key, body('Approval requested from bob@example.com'), 'eff-2');
  await record.addComment(key, body('Approved by bob@example.com'), 'eff-3');
  await record.addComment(key, body('Approval requested from bob@example.com'), 'eff-2');
  assert.deepEqual(jira.commentsText(key), ['Requested by ada@example.com', 'Approval requested from bob@example.com', 'Approved by bob@example.com']);
  const stored = jira.issue(key)?.comments[0]?.properties.get(COMMENT_PROPERTY);
  assert.deepEqual(stored, { effectId: 'eff-1' });
});

test('addComment on a first attempt (mayExist: false) posts without reading the comments; a retry still finds it', async (t) => {
  const { jira, record } = await setup(t);
  const { key } = await newIssue(record);
  const first = await record.addComment(key, body('Approved by bob'), 'eff-1', { mayExist: false });
  assert.equal(jira.server.callsTo('GET', `/rest/api/3/issue/${key}/comment`).length, 0, 'no read before a first attempt');
  assert.equal(first.existed, undefined);
  const retry = await record.addComment(key, body('Approved by bob'), 'eff-1', { mayExist: true });
  assert.deepEqual(retry, { id: first.id, existed: true }, 'found, not posted again');
  assert.equal(jira.server.callsTo('GET', `/rest/api/3/issue/${key}/comment`).length, 1);
  assert.deepEqual(jira.commentsText(key), ['Approved by bob']);
});

test('addComment finds the effect id beyond the first page of comments', async (t) => {
  const { jira, record } = await setup(t);
  const { key } = await newIssue(record);
  for (let i = 0; i < 105; i++) await record.addComment(key, body(`step ${i}`), `eff-${i}`);
  const before = jira.server.callsTo('GET', `/rest/api/3/issue/${key}/comment`).length;
  const retry = await record.addComment(key, body('step 0'), 'eff-0');
  assert.equal(retry.id, jira.issue(key)?.comments[0]?.id);
  assert.equal(jira.issue(key)?.comments.length, 105);
  assert.equal(jira.server.callsTo('GET', `/rest/api/3/issue/${key}/comment`).length - before, 2, 'two pages of 100');
});

test('addComment: a comment whose answer was lost is not posted twice', async (t) => {
  const { jira, record } = await setup(t, { timeoutMs: 300 });
  const { key } = await newIssue(record);
  jira.swallowResponse({ method: 'POST', path: `/rest/api/3/issue/${key}/comment` });
  assert.ok((await rejection(record.addComment(key, body('Approved by bob'), 'eff-x'))) instanceof RetryableError);
  await record.addComment(key, body('Approved by bob'), 'eff-x');
  assert.deepEqual(jira.commentsText(key), ['Approved by bob']);
});

test('addComment: a 201 without an id is looked up by the effect id, and retried when the comment cannot be found', async (t) => {
  const { jira, record } = await setup(t);
  const { key } = await newIssue(record);
  const path = `/rest/api/3/issue/${key}/comment`;
  const posted = await record.addComment(key, body('Approved by bob'), 'eff-1', { mayExist: false });
  // The id tells the bot's own comments from others' (app/jiraChange.ts): never "undefined".
  jira.inject({ method: 'POST', path, times: 1, status: 201, body: { body: {} } });
  assert.deepEqual(await record.addComment(key, body('Approved by bob'), 'eff-1', { mayExist: false }), posted);

  jira.inject({ method: 'POST', path, times: 1, status: 201, body: {} });
  const err = await rejection(record.addComment(key, body('Access granted'), 'eff-2', { mayExist: false }));
  assert.ok(err instanceof RetryableError);
  assert.match(err.message, /without an id/);
  const retried = await record.addComment(key, body('Access granted'), 'eff-2', { mayExist: true });
  assert.match(retried.id, /^\d+$/);
  assert.deepEqual(jira.commentsText(key), ['Approved by bob', 'Access granted']);
});

test('addComment on a missing issue is a PermanentError', async (t) => {
  const { record } = await setup(t);
  const err = await rejection(record.addComment('ACC-99', body('x'), 'e'));
  assert.ok(err instanceof PermanentError);
  assert.match(err.message, /not found \(404\).*Issue does not exist/);
});

// ----- ADF --------------------------------------------------------------------------------------

test('ADF: user text stays literal, and an oversized comment is cut with a visible marker', async (t) => {
  const { jira, record } = await setup(t);
  const { key } = await newIssue(record);
  const reason = 'needs *admin* <script>alert(1)</script> [link](http://evil)\nsecond line';
  const d = doc(labelValue('Reason', reason), bulletList(['a', [strong('b'), ' c']]), paragraph(''));
  await record.addComment(key, d, 'eff-adf');
  const stored = jira.issue(key)?.comments[0]?.body as AdfDoc;
  assert.equal(adfToText(stored), `Reason: needs *admin* <script>alert(1)</script> [link](http://evil)\nsecond line\n- a\n- b c`);
  assert.ok(!JSON.stringify(stored).includes('"text":""'), 'no empty text nodes');

  const huge = doc(paragraph('start '), paragraph('y'.repeat(40_000)));
  assert.ok(adfLength(huge) <= ADF_MAX_CHARS);
  await record.addComment(key, huge, 'eff-huge');
  const text = jira.commentsText(key)[1] ?? '';
  assert.ok(text.startsWith('start'));
  assert.ok(text.endsWith(TRUNCATION_MARKER));
});

// ----- setProperty ------------------------------------------------------------------------------

test('setProperty stores objects and primitives as JSON, and overwrites', async (t) => {
  const { jira, record } = await setup(t);
  const { key } = await newIssue(record);
  await record.setProperty(key, 'access-bot-request', { requestId: 'req-1', state: 'pending' });
  await record.setProperty(key, 'access-bot-request', { requestId: 'req-1', state: 'approved' });
  await record.setProperty(key, 'plain-string', 'hello');
  await record.setProperty(key, 'a-number', 42);
  await record.setProperty(key, 'a/b c', true);
  const props = jira.issue(key)?.properties;
  assert.deepEqual(props?.get('access-bot-request'), { requestId: 'req-1', state: 'approved' });
  assert.equal(props?.get('plain-string'), 'hello');
  assert.equal(props?.get('a-number'), 42);
  assert.equal(props?.get('a/b c'), true, 'the key is one encoded path segment');
  const puts = jira.server.callsTo('PUT', `/rest/api/3/issue/${key}/properties/access-bot-request`).map((c) => c.status);
  assert.deepEqual(puts, [201, 200]);
  const str = jira.server.callsTo('PUT', `/rest/api/3/issue/${key}/properties/plain-string`)[0];
  assert.equal(str?.rawBody, '"hello"', 'a string goes out as a JSON string');
  assert.match(String(str?.headers['content-type']), /^application\/json/);
  assert.equal(jira.server.callsTo('PUT', `/rest/api/3/issue/${key}/properties/a%2Fb%20c`)[0]?.rawBody, 'true');
});

// ----- transition -------------------------------------------------------------------------------

test('transition by name (case-insensitive); applying it again is done, not an error', async (t) => {
  const { jira, record } = await setup(t);
  const { key } = await newIssue(record);
  await record.transition(key, 'approve');
  assert.equal(jira.issue(key)?.status, 'Approved');
  await record.transition(key, 'Approve'); // the retry after a crash: no longer available, already there
  await record.transition(key, 'Provisioned');
  await record.transition(key, 'Provisioned');
  assert.equal(jira.issue(key)?.status, 'Active');
  assert.deepEqual(jira.issue(key)?.history, ['Approve', 'Provisioned']);
  assert.deepEqual(jira.issue(key)?.properties.get(TRANSITION_PROPERTY), { name: 'Provisioned', to: 'Active' });
});

test('transition: a global transition already in its target status is not applied again', async (t) => {
  const { jira, record } = await setup(t);
  const wf = jira.getWorkflow();
  wf.transitions.push({ id: '99', name: 'Escalate', from: '*', to: 'Approved' });
  jira.setWorkflow(wf);
  const { key } = await newIssue(record);
  await record.transition(key, 'Escalate');
  await record.transition(key, 'Escalate');
  assert.deepEqual(jira.issue(key)?.history, ['Escalate']);
});

test('transition: an unknown name is a PermanentError naming the available ones', async (t) => {
  const { jira, record } = await setup(t);
  const { key } = await newIssue(record);
  const err = await rejection(record.transition(key, 'Teleport'));
  assert.ok(err instanceof PermanentError);
  assert.match(err.message, /no transition named "Teleport"/);
  assert.match(err.message, /"Approve", "Reject"/);
  assert.equal(jira.issue(key)?.status, 'To Do');
  // A name that exists elsewhere in the workflow but was never applied here is not "done".
  const notHere = await rejection(record.transition(key, 'Done'));
  assert.ok(notHere instanceof PermanentError);
});

// ----- failures ---------------------------------------------------------------------------------

test('429 is a RetryableError carrying Retry-After', async (t) => {
  const { jira, record } = await setup(t);
  jira.rateLimit(1, 7);
  const err = await rejection(newIssue(record));
  assert.ok(err instanceof RetryableError);
  assert.equal(err.retryAfterMs, 7000);
  assert.equal(err.code, 'jira_rate_limited');
  assert.match(err.message, /rate limited \(429, jira-burst-based\)/);
  assert.equal((await newIssue(record)).key, 'ACC-1');
});

test('503 (outage) is a RetryableError; after recover() it works', async (t) => {
  const { jira, record } = await setup(t);
  jira.outage({ retryAfterSec: 30 });
  const err = await rejection(newIssue(record));
  assert.ok(err instanceof RetryableError);
  assert.equal(err.retryAfterMs, 30_000);
  assert.match(err.message, /503.*Service Unavailable/);
  jira.recover();
  assert.equal((await newIssue(record)).key, 'ACC-1');
});

test('a hanging Jira is a RetryableError after the timeout', async (t) => {
  const { jira, record } = await setup(t, { timeoutMs: 200 });
  jira.inject({ path: '/rest/api/3/search/jql', hang: true, times: 1 });
  const started = Date.now();
  const err = await rejection(newIssue(record));
  assert.ok(err instanceof RetryableError);
  assert.equal(err.code, 'jira_timeout');
  assert.match(err.message, /no answer within 200 ms/);
  assert.ok(Date.now() - started < 2000);
});

test('a dropped connection and a refused connection are RetryableErrors', async (t) => {
  const { jira, record } = await setup(t);
  jira.inject({ drop: true, times: 1 });
  const dropped = await rejection(newIssue(record));
  assert.ok(dropped instanceof RetryableError);
  assert.equal(dropped.code, 'jira_unreachable');
  await jira.stop();
  const refused = await rejection(newIssue(record));
  assert.ok(refused instanceof RetryableError);
  assert.equal(refused.code, 'jira_unreachable');
  assert.match(refused.message, /connection failed \(ECONNREFUSED\)/);
});

test('429 without Retry-After waits until X-RateLimit-Reset', async (t) => {
  const { jira } = await setup(t);
  const record = JiraCloudRecord.fromConfig({ host: jira.url, email: EMAIL, apiToken: TOKEN }, { now: () => Date.parse('2030-01-01T00:00:00Z') });
  jira.inject({ times: 1, status: 429, headers: { 'X-RateLimit-Reset': '2030-01-01T00:01Z' }, body: { errorMessages: ['Rate limit exceeded.'] } });
  const err = await rejection(newIssue(record));
  assert.ok(err instanceof RetryableError);
  assert.equal(err.code, 'jira_rate_limited');
  assert.equal(err.retryAfterMs, 60_000);
  assert.match(err.message, /rate limited \(429\): Rate limit exceeded\./);
});

test('other answers: 500 is retryable with Jira\'s messages, 409 is permanent', async (t) => {
  const { jira, record } = await setup(t);
  jira.inject({ times: 1, status: 500, body: { errorMessages: ['Internal server error'], errors: {} } });
  const e500 = await rejection(newIssue(record));
  assert.ok(e500 instanceof RetryableError);
  assert.equal(e500.code, 'jira_unavailable');
  assert.equal(e500.retryAfterMs, undefined);
  assert.match(e500.message, /Jira answered 500: Internal server error$/);
  jira.inject({ times: 1, status: 409, body: { errorMessages: [], errors: { summary: 'conflict' } } });
  const e409 = await rejection(newIssue(record));
  assert.ok(e409 instanceof PermanentError);
  assert.equal(e409.code, 'jira_http_409');
  assert.match(e409.message, /answered 409: summary: conflict$/);
});

test('401 is a PermanentError that never contains the token or the auth header', async (t) => {
  const { jira } = await setup(t);
  const wrong = JiraCloudRecord.fromConfig({ host: jira.url, email: EMAIL, apiToken: `${TOKEN}-wrong` });
  const err = await rejection(newIssue(wrong));
  assert.ok(err instanceof PermanentError);
  assert.equal(err.code, 'jira_unauthorized');
  assert.match(err.message, /credentials rejected \(401\)/);
  const base64 = Buffer.from(`${EMAIL}:${TOKEN}-wrong`).toString('base64');
  for (const secret of [TOKEN, base64, 'Basic ']) assert.ok(!err.message.includes(secret), `message leaks ${secret}`);
  assert.ok(!JSON.stringify({ ...err, message: err.message }).includes(TOKEN));
});

test('403 from a missing permission is a PermanentError', async (t) => {
  const { record, jira } = await setup(t);
  const { key } = await newIssue(record);
  jira.setPermission('ADD_COMMENTS', false);
  const err = await rejection(record.addComment(key, body('x'), 'e'));
  assert.ok(err instanceof PermanentError);
  assert.equal(err.code, 'jira_forbidden');
});

// ----- checkHealth ------------------------------------------------------------------------------

test('checkHealth reports each check and never throws', async (t) => {
  const { jira, record } = await setup(t);
  const good = await record.checkHealth('ACC', 'Task', ['Approve', 'Reject']);
  assert.equal(good.ok, true, JSON.stringify(good.checks));
  assert.deepEqual(
    good.checks.map((c) => c.name),
    ['jira credentials', 'jira project ACC', 'jira issue type Task', 'jira permissions in ACC', 'jira transitions'],
  );

  jira.setPermission('TRANSITION_ISSUES', false);
  const noPerm = await record.checkHealth('ACC', 'Story', []);
  assert.equal(noPerm.ok, false);
  assert.match(noPerm.checks.find((c) => c.name === 'jira issue type Story')?.detail ?? '', /available: Task, Bug/);
  assert.match(noPerm.checks.find((c) => c.name === 'jira permissions in ACC')?.detail ?? '', /missing: TRANSITION_ISSUES/);

  const noProject = await record.checkHealth('NOPE', 'Task', []);
  assert.equal(noProject.ok, false);
  assert.match(noProject.checks.find((c) => c.name === 'jira project NOPE')?.detail ?? '', /No project could be found with key 'NOPE'/);

  const wrong = JiraCloudRecord.fromConfig({ host: jira.url, email: EMAIL, apiToken: 'nope-nope' });
  const unauth = await wrong.checkHealth('ACC', 'Task', []);
  assert.equal(unauth.ok, false);
  assert.equal(unauth.checks.length, 1);

  await jira.stop();
  const down = await record.checkHealth('ACC', 'Task', []);
  assert.equal(down.ok, false);
});

test('checkHealth without a project tests the credentials only, asking Jira nothing about projects', async (t) => {
  const { jira, record } = await setup(t);
  const h = await record.checkHealth('', '', []);
  assert.deepEqual(h, { ok: true, checks: [{ name: 'jira credentials', ok: true, detail: 'authenticated as Access Bot' }] });
  assert.deepEqual(
    jira.calls.map((c) => `${c.method} ${c.path}`),
    ['GET /rest/api/3/myself'],
  );
});

// ----- the emulator's Atlassian groups (for the atlassian connector) ------------------------------

test('emulator groups: add, duplicate add, paging, remove, remove a non-member', async (t) => {
  const { jira } = await setup(t);
  const client = new Version3Client({ host: jira.url, authentication: { basic: { email: EMAIL, apiToken: TOKEN } } });
  const group = jira.directory.addGroup({ name: 'okta-admins' });
  const users = Array.from({ length: 55 }, (_, i) => jira.directory.addUser({ email: `u${i}@example.com` }));
  for (const u of users) await client.groups.addUserToGroup({ groupId: group.groupId, accountId: u.accountId });
  const dup = await rejection(client.groups.addUserToGroup({ groupId: group.groupId, accountId: users[0]?.accountId ?? '' }));
  assert.equal((dup as unknown as { status: number }).status, 400);
  assert.match(JSON.stringify((dup as unknown as { response: unknown }).response), /Cannot add user. User is already a member of 'okta-admins'/);

  const page1 = await client.groups.getUsersFromGroup({ groupId: group.groupId });
  assert.equal(page1.values?.length, 50);
  assert.equal(page1.isLast, false);
  const page2 = await client.groups.getUsersFromGroup({ groupId: group.groupId, startAt: 50 });
  assert.equal(page2.values?.length, 5);
  assert.equal(page2.isLast, true);

  await client.groups.removeUserFromGroup({ groupId: group.groupId, accountId: users[0]?.accountId ?? '' });
  assert.equal(jira.directory.groupMembers('okta-admins').length, 54);
  const notMember = await rejection(client.groups.removeUserFromGroup({ groupname: 'okta-admins', accountId: users[0]?.accountId ?? '' }));
  assert.equal((notMember as unknown as { status: number }).status, 400);
  const missing = await rejection(client.groups.getUsersFromGroup({ groupId: 'no-such-group' }));
  assert.equal((missing as unknown as { status: number }).status, 404);

  const found = await client.userSearch.findUsers({ query: 'u7@' });
  assert.deepEqual(found.map((u) => u.emailAddress), ['u7@example.com']);
  const bulk = await client.groups.bulkGetGroups({ groupId: [group.groupId] });
  assert.deepEqual(bulk.values, [{ name: 'okta-admins', groupId: group.groupId }]);
});

// ----- adf.ts (pure) ----------------------------------------------------------------------------

test('adf: empty parts vanish, line breaks become hardBreaks, an empty list is an empty paragraph', () => {
  assert.deepEqual(paragraph('', 'a\nb'), { type: 'paragraph', content: [{ type: 'text', text: 'a' }, { type: 'hardBreak' }, { type: 'text', text: 'b' }] });
  assert.deepEqual(bulletList([]), { type: 'paragraph', content: [] });
  assert.deepEqual(labelValue('Role', 'Read-only'), { type: 'paragraph', content: [{ type: 'text', text: 'Role: ', marks: [{ type: 'strong' }] }, { type: 'text', text: 'Read-only' }] });
  assert.equal(adfToText(doc(paragraph('Approved by ', strong('bob')), bulletList(['x', 'y']))), 'Approved by bob\n- x\n- y');
});

test('adf: truncation keeps document order, never splits a surrogate pair, and fits the limit', () => {
  const many = doc(...Array.from({ length: 3000 }, (_, i) => paragraph(`line ${i} "quoted" 😀`)));
  assert.ok(adfLength(many) <= ADF_MAX_CHARS);
  const text = adfToText(many);
  assert.ok(text.startsWith('line 0 "quoted" 😀\nline 1'));
  assert.ok(text.endsWith(TRUNCATION_MARKER));
  assert.ok(!/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/.test(text), 'no lone high surrogate');
  assert.ok(!JSON.stringify(many).includes('\\ud83d"'), 'no escaped lone surrogate either');
  const small = doc(paragraph('short'));
  assert.equal(adfToText(small), 'short');
});
