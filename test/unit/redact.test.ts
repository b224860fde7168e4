import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EntraConnector } from '../../src/adapters/idp/entra/connector.js';
import { OktaConnector } from '../../src/adapters/idp/okta/connector.js';
import { JiraCloudRecord } from '../../src/adapters/jira/record.js';
import { createLogger } from '../../src/logger.js';
import { PermanentError } from '../../src/outbox/errors.js';
import { redact, redactor } from '../../src/redact.js';
import { GraphEmulator } from '../emulators/graph.js';
import { JiraEmulator } from '../emulators/jira.js';
import { OktaEmulator } from '../emulators/okta.js';

const SLACK_BOT = 'xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOp';
const SLACK_APP = 'xapp-1-A0123456789-1234567890123-abcdef';
const OKTA_SSWS = 'SSWS 00aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789';
const BEARER = 'Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl';

test('every configured secret is masked wherever it appears', () => {
  assert.equal(redact('token=s3cr3t-value; again s3cr3t-value.', ['s3cr3t-value']), 'token=[redacted]; again [redacted].');
});

test('a configured value shorter than 6 characters is not masked', () => {
  assert.equal(redact('the abcde of it', ['abcde']), 'the abcde of it');
  assert.equal(redact('the abcdef of it', ['abcdef']), 'the [redacted] of it');
});

test('a secret that contains another secret is masked whole', () => {
  assert.equal(redact('key: LONGSECRET-and-more', ['LONGSECRET', 'LONGSECRET-and-more']), 'key: [redacted]');
});

test('Slack tokens are masked though nobody configured them', () => {
  assert.equal(redact(`bot ${SLACK_BOT} app ${SLACK_APP}`, []), 'bot [redacted] app [redacted]');
  for (const prefix of ['xoxp', 'xoxa', 'xoxo', 'xoxs', 'xoxr']) assert.equal(redact(`${prefix}-123456-abcdef`, []), '[redacted]');
});

test('Basic, Bearer and SSWS credentials of 20+ characters are masked, the scheme kept', () => {
  assert.equal(redact(`Authorization: ${OKTA_SSWS}`, []), 'Authorization: SSWS [redacted]');
  assert.equal(redact(`Authorization: ${BEARER}`, []), 'Authorization: Bearer [redacted]');
  assert.equal(redact('Authorization: Basic YWNjZXNzLWJvdEBleGFtcGxlLmNvbTp0b2tlbg==', []), 'Authorization: Basic [redacted]');
});

test('prose that merely names a scheme or a token prefix is left alone', () => {
  const prose = 'compare SLACK_SIGNING_SECRET with Basic Information; a bot token starts with xoxb-';
  assert.equal(redact(prose, []), prose);
});

test('a redactor masks as redact does, its secrets fixed once', () => {
  const mask = redactor(['s3cr3t-value']);
  assert.equal(mask(`s3cr3t-value ${SLACK_BOT}`), '[redacted] [redacted]');
});

test('log lines mask Slack tokens and Authorization credentials nobody configured', () => {
  const lines: string[] = [];
  const log = createLogger('info', [], { write: (s: string) => void lines.push(s) });
  log.info({ detail: `sent ${SLACK_BOT} with ${OKTA_SSWS}` }, 'call failed');
  assert.equal(lines.length, 1);
  assert.ok(!lines[0]!.includes(SLACK_BOT), lines[0]);
  assert.ok(!lines[0]!.includes(OKTA_SSWS.slice(5)), lines[0]);
  assert.match(lines[0]!, /"detail":"sent \[redacted\] with SSWS \[redacted\]"/);
});

test('log lines mask configured secrets', () => {
  const lines: string[] = [];
  const log = createLogger('info', ['s3cr3t-value'], { write: (s: string) => void lines.push(s) });
  log.info('the value is s3cr3t-value');
  assert.match(lines[0]!, /"msg":"the value is \[redacted\]"/);
});

test('Jira errors mask the API token and any token-shaped value the answer quotes', async (t) => {
  const token = 'ATATT3xFfGF0-redaction-test-token-0123456789';
  const jira = new JiraEmulator({ apiToken: token });
  await jira.start();
  t.after(() => jira.stop());
  const record = JiraCloudRecord.fromConfig({ host: jira.url, email: 'access-bot@example.com', apiToken: token, timeoutMs: 2000 });
  jira.inject({ status: 400, body: { errorMessages: [`echoing ${token}, ${SLACK_BOT} and ${OKTA_SSWS}`], errors: {} } });
  const err = await record.createIssue({ requestId: 'req-redact', project: 'ACC', issueType: 'Task', summary: 's', description: { type: 'doc', version: 1, content: [] } }).then(
    () => assert.fail('createIssue resolved'),
    (e: unknown) => e as Error,
  );
  assert.ok(err instanceof PermanentError, String(err));
  assert.ok(![token, SLACK_BOT, OKTA_SSWS.slice(5)].some((s) => err.message.includes(s)), err.message);
  assert.match(err.message, /echoing \[redacted\], \[redacted\] and SSWS \[redacted\]/);
});

test('Okta errors mask the API token and any token-shaped value the answer quotes', async (t) => {
  const token = '00okta-redaction-test-token-0123456789';
  const okta = new OktaEmulator({ token });
  await okta.start();
  t.after(() => okta.stop());
  const connector = OktaConnector.fromConfig({ orgUrl: okta.url, apiToken: token, timeoutMs: 2000 });
  okta.inject({ status: 400, body: { errorCode: 'E0000001', errorSummary: `echoing ${token}, ${SLACK_BOT} and ${BEARER}`, errorCauses: [] } });
  const err = await connector.findUserByEmail('someone@example.com').then(
    () => assert.fail('findUserByEmail resolved'),
    (e: unknown) => e as Error,
  );
  assert.ok(![token, SLACK_BOT, BEARER.slice(7)].some((s) => err.message.includes(s)), err.message);
  assert.match(err.message, /echoing \[redacted\], \[redacted\] and Bearer \[redacted\]/);
});

test('Entra errors mask the client secret and any token-shaped value the answer quotes', async (t) => {
  const secret = 'entra-redaction-secret~0123456789abcdef';
  const graph = new GraphEmulator({ clientSecret: secret });
  await graph.start();
  t.after(() => graph.stop());
  const connector = EntraConnector.fromConfig({ tenantId: graph.tenantId, clientId: graph.clientId, clientSecret: secret, baseUrl: graph.url, tokenUrl: graph.tokenUrl, timeoutMs: 2000 });
  graph.inject({ path: /^\/v1\.0\//, status: 400, body: { error: { code: 'BadRequest', message: `echoing ${secret}, ${SLACK_APP} and ${OKTA_SSWS}` } } });
  const err = await connector.findUserByEmail('someone@example.com').then(
    () => assert.fail('findUserByEmail resolved'),
    (e: unknown) => e as Error,
  );
  assert.ok(![secret, SLACK_APP, OKTA_SSWS.slice(5)].some((s) => err.message.includes(s)), err.message);
  assert.match(err.message, /echoing \[redacted\], \[redacted\] and SSWS \[redacted\]/);
});
