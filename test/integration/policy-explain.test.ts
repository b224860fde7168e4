import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { runPolicy } from '../../src/policy-cli.js';
import { OktaEmulator } from '../emulators/okta.js';
import { TEST_CREDENTIALS } from '../support/fixtures.js';

const CATALOG_PATH = '/catalog/access-catalog.yaml';
const CATALOG = `
jira: { project: ACC }
applications:
  - id: payments-console
    name: Payments console
    owners: [bob@example.com]
    roles:
      - id: operator
        name: Operator
        grant: { connector: okta, group: 00g1operator }
        durations: [1h, 1d]
        approval:
          rules:
            - name: contractors → security review
              when: { memberOf: [Contractors] }
              approvers: [carol@example.com]
              notify: ['#security-alerts']
            - name: finance leads
              when: { department: Finance, title: [Lead] }
              auto: true
            - name: long grants
              when: { durationOver: 8h }
              deny: Operator is granted for at most 8 hours
          default: { approvers: [owners] }
      - id: viewer
        name: Viewer
        grant: { connector: okta, group: 00g1viewer }
        durations: [1h]
        approval: auto
`;

/** Tuesday 2026-03-10 09:00 UTC. */
const NOW = Date.UTC(2026, 2, 10, 9, 0);

describe('access-bot policy explain (against the Okta emulator)', () => {
  const okta = new OktaEmulator({ token: TEST_CREDENTIALS.oktaToken });
  let env: Record<string, string>;
  before(async () => {
    await okta.start();
    okta.addGroup({ id: '00g1contract', name: 'Contractors' });
    okta.addGroup({ id: '00g1operator', name: 'Payments operators' });
    okta.addGroup({ id: '00g1viewer', name: 'Payments viewers' });
    const alice = okta.addUser({ login: 'alice@example.com', email: 'alice@example.com', firstName: 'Alice', lastName: 'Smith', department: 'Engineering', title: 'Developer' });
    okta.addMember('00g1contract', alice.id);
    okta.addUser({ login: 'fiona@example.com', email: 'fiona@example.com', firstName: 'Fiona', lastName: 'Lee', department: 'Finance', title: 'Lead' });
    okta.addUser({ login: 'dave@example.com', email: 'dave@example.com', firstName: 'Dave', lastName: 'Brown' });
    env = {
      SLACK_BOT_TOKEN: TEST_CREDENTIALS.botToken,
      SLACK_SIGNING_SECRET: TEST_CREDENTIALS.signingSecret,
      JIRA_HOST: 'https://acme.atlassian.net',
      JIRA_EMAIL: TEST_CREDENTIALS.jiraEmail,
      JIRA_API_TOKEN: TEST_CREDENTIALS.jiraToken,
      OKTA_ORG_URL: okta.url,
      OKTA_API_TOKEN: TEST_CREDENTIALS.oktaToken,
      ACCESS_CATALOG: CATALOG_PATH,
    };
  });
  after(async () => {
    await okta.stop();
  });

  async function explain(...args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
    const out: string[] = [];
    const err: string[] = [];
    const readFile = (p: string): string => {
      if (p === CATALOG_PATH) return CATALOG;
      throw Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' });
    };
    const code = await runPolicy(args, env, (l) => out.push(l), (l) => err.push(l), { now: () => NOW, readFile });
    return { code, out, err };
  }

  test("explains that a contractor's request for Operator goes to security, with the groups read from Okta", async () => {
    const r = await explain('explain', 'alice@example.com', 'payments-console/operator');
    assert.equal(r.code, 0, r.err.join('\n'));
    assert.deepEqual(r.out, [
      'alice@example.com asking for Payments console / Operator (1 hour) on 2026-03-10 09:00:00 UTC:',
      '  groups in okta: Contractors (00g1contract)',
      '  department: Engineering; title: Developer',
      '  rule 1 (contractors → security review): matches (member of Contractors)',
      'Applies: rule 1 (contractors → security review): asks carol@example.com; tells #security-alerts.',
    ]);
  });

  test('explains each rule that did not match, and the default', async () => {
    const r = await explain('explain', 'dave@example.com', 'payments-console/operator', '--duration', '1h');
    assert.equal(r.code, 0, r.err.join('\n'));
    assert.deepEqual(r.out.slice(3), [
      '  rule 1 (contractors → security review): does not match (not a member of Contractors)',
      '  rule 2 (finance leads): does not match (department is not recorded, not Finance)',
      '  rule 3 (long grants): does not match (1 hour is not over 8 hours)',
      'Applies: default (no rule matched): asks owners.',
    ]);
    const long = await explain('explain', 'dave@example.com', 'payments-console/operator', '--duration', '1d');
    assert.equal(long.out.at(-1), 'Applies: rule 3 (long grants): denied by policy: Operator is granted for at most 8 hours.');
  });

  test('profile attributes from Okta decide a rule', async () => {
    const r = await explain('explain', 'fiona@example.com', 'payments-console/operator');
    assert.equal(r.out.at(-1), 'Applies: rule 2 (finance leads): approved by policy (auto-approve).');
    assert.ok(r.out.includes('  rule 2 (finance leads): matches (department is Finance, title is Lead)'));
  });

  test('an Okta outage is shown as unknown facts, and an auto-approve past them is not decided', async () => {
    const heal = okta.inject({ method: 'GET', path: /\/groups$/, status: 503, body: { errorCode: 'E0000009', errorSummary: 'Internal Server Error' } });
    try {
      const r = await explain('explain', 'fiona@example.com', 'payments-console/operator');
      assert.equal(r.code, 1);
      assert.match(r.out[1]!, /^ {2}groups in okta: unknown \(Okta failed while listing the Okta groups of user \S+ \(503 E0000009/);
      assert.match(r.out[3]!, /^ {2}rule 1 \(contractors → security review\): cannot be checked \(groups unknown/);
      assert.match(r.out.at(-1)!, /^Not decided now: rule 2 \(finance leads\) auto-approves, but an earlier rule could not be checked: groups unknown/);
    } finally {
      heal();
    }
  });

  test('a role without rules says so; bad arguments are usage errors', async () => {
    const plain = await explain('explain', 'dave@example.com', 'payments-console/viewer');
    assert.deepEqual(plain.out.slice(1), ['  The role has no rules: approved by policy (auto-approve).']);
    assert.equal((await explain('explain', 'dave@example.com')).code, 2);
    assert.equal((await explain('explain', 'not-an-email', 'payments-console/operator')).code, 2);
    const missing = await explain('explain', 'dave@example.com', 'payments-console/nope');
    assert.equal(missing.code, 2);
    assert.equal(missing.err[0], 'access-bot policy: no role payments-console/nope in /catalog/access-catalog.yaml');
    const notOffered = await explain('explain', 'dave@example.com', 'payments-console/operator', '--duration', '4h');
    assert.equal(notOffered.err[0], 'access-bot policy: Payments console / Operator does not offer 4h (it offers 1h, 1d)');
  });
});
