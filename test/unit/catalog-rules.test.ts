import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseCatalog } from '../../src/config/catalog.js';

/** A catalog with one role whose `approval:` (and optionally grant connector) is given as YAML lines. */
function catalog(approval: string, opts: { connector?: string; durations?: string } = {}): string {
  return `jira: { project: ACC }
applications:
  - id: payments
    name: Payments
    owners: [owner@example.com]
    roles:
      - id: operator
        name: Operator
        grant: { connector: ${opts.connector ?? 'okta'}, group: 00g1 }
        durations: ${opts.durations ?? '[1h, 8h, 24h]'}
        approval:
${approval.replace(/^/gm, '          ')}
`;
}

function errors(approval: string, opts: { connector?: string; durations?: string } = {}): string[] {
  const r = parseCatalog(catalog(approval, opts), { configuredConnectors: undefined });
  return r.ok ? [] : r.errors;
}

const P = 'applications[0].roles[0].approval';

describe('catalog approval rules', () => {
  test('rules with when:, notify:, deny and a default are read in order', () => {
    const r = parseCatalog(
      catalog(`rules:
  - name: contractors → security review
    when: { memberOf: [Contractors], durationOver: 8h }
    approvers: [security@example.com]
    notify: ['#security', Lead@Example.com]
  - when: { hours: { tz: Europe/Paris, from: '09:00', to: '18:00', days: [mon, tue, wed, thu, fri] } }
    auto: true
  - when: { title: Intern, kind: [access] }
    deny: interns may not operate payments
default:
  approvers: [owners]`),
      { configuredConnectors: undefined },
    );
    assert.ok(r.ok, r.ok ? '' : r.errors.join('\n'));
    const role = r.catalog.applications[0]!.roles[0]!;
    assert.equal(role.rules?.factsFrom, 'okta');
    assert.deepEqual(role.rules?.rules.map((x) => [x.name, x.policy.kind, x.notify]), [
      ['contractors → security review', 'stages', ['#security', 'lead@example.com']],
      [undefined, 'auto', []],
      [undefined, 'deny', []],
    ]);
    assert.deepEqual(role.rules?.rules[0]!.when, { memberOf: ['Contractors'], durationOverMs: 8 * 3_600_000 });
    assert.deepEqual(role.rules?.rules[1]!.when.hours, { tz: 'Europe/Paris', fromMin: 540, toMin: 1080, days: ['mon', 'tue', 'wed', 'thu', 'fri'] });
    assert.deepEqual(role.approval, { kind: 'stages', stages: [{ approvers: [{ kind: 'owners' }], required: 1 }], fallback: [], escalateTo: [] });
  });

  test('rules that leave a case uncovered need a default', () => {
    assert.deepEqual(errors(`rules:\n  - when: { durationOver: 8h }\n    approvers: [owners]`), [
      `${P}: a request that no rule matches has no policy: add default: (e.g. default: { approvers: [owners] }) or end with a rule without when:`,
    ]);
    // A last rule without conditions covers every case.
    assert.deepEqual(errors(`rules:\n  - when: { durationOver: 8h }\n    approvers: [owners]\n  - approvers: [security@example.com]`), []);
  });

  test('a rule that can never match is refused, naming its path', () => {
    assert.deepEqual(errors(`rules:\n  - when: { durationOver: 24h }\n    approvers: [owners]\ndefault: auto`), [
      `${P}.rules[0].when.durationOver: can never match: the role's longest duration is 1 day`,
    ]);
    assert.deepEqual(errors(`rules:\n  - when: { durationOver: 24h }\n    approvers: [owners]\ndefault: auto`, { durations: '[1h, permanent]' }), []);
    assert.deepEqual(errors(`rules:\n  - when: { hours: { tz: Europe/Paris, from: '09:00', to: '09:00', days: [mon] } }\n    approvers: [owners]\ndefault: auto`), [
      `${P}.rules[0].when.hours: can never match: from and to are the same time (an empty window)`,
    ]);
    assert.deepEqual(errors(`rules:\n  - approvers: [owners]\n  - when: { durationOver: 1h }\n    auto: true\ndefault: auto`), [
      `${P}.rules[1]: can never match: rule 1 before it has no conditions (when:) and matches every request`,
      `${P}.default: never applies: rule 1 has no conditions (when:) and matches every request`,
    ]);
  });

  test('unknown keys and bad values in rules are one line each', () => {
    assert.deepEqual(errors(`rules:\n  - when: { memberof: [x], hours: { tz: Mars/Olympus, from: '9am', to: '18:00', days: [mon, funday] } }\n    aprovers: [owners]\ndefault: auto`), [
      `${P}.rules[0].aprovers: unknown key (did you mean approvers?)`,
      `${P}.rules[0].when.memberof: unknown key (did you mean memberOf?)`,
      `${P}.rules[0].when.hours.tz: "Mars/Olympus" is not an IANA time zone (e.g. Europe/Paris, America/New_York, UTC)`,
      `${P}.rules[0].when.hours.from: "9am" is not a time like '09:00' (24-hour, quoted)`,
      `${P}.rules[0].when.hours.days: "funday" is not a day (one of mon, tue, wed, thu, fri, sat, sun)`,
      `${P}.rules[0]: says nothing to do: give approvers: / stages:, auto: true, or deny: <reason>`,
    ]);
    assert.deepEqual(errors(`rules:\n  - when: { kind: removel }\n    auto: true\n    approvers: [owners]\n    notify: [security]\ndefault: auto`), [
      `${P}.rules[0].when.kind: "removel" is not a request kind (one of access, removal, change; did you mean removal?)`,
      `${P}.rules[0].notify: "security" is not a Slack channel (#name or a channel id) nor an email`,
      `${P}.rules[0]: set only one of auto:, deny:, or approvers: / stages:`,
    ]);
  });

  test('a memberOf rule against a connector that cannot list groups is a catalog error', () => {
    assert.deepEqual(errors(`rules:\n  - when: { memberOf: [Contractors], department: [Sales] }\n    approvers: [owners]\ndefault: auto`, { connector: 'entra' }), [
      `${P}.rules[0].when.memberOf: the role's connector entra (Entra) cannot tell a user's groups; memberOf rules need a connector that can (okta)`,
      `${P}.rules[0].when.department: the role's connector entra (Entra) cannot tell a user's department; department rules need a connector that can (okta)`,
    ]);
  });

  test('rules belong on a role, not in defaults', () => {
    const text = catalog('approvers: [owners]').replace('jira: { project: ACC }', 'jira: { project: ACC }\ndefaults:\n  approval:\n    rules:\n      - auto: true');
    const r = parseCatalog(text, { configuredConnectors: undefined });
    assert.deepEqual(r.ok ? [] : r.errors, ["defaults.approval.rules: rules belong on a role's approval (they test the role's durations and grant connector), not in defaults"]);
  });

  test("owners in a rule needs the application's owners", () => {
    const r = parseCatalog(catalog(`rules:\n  - when: { durationOver: 8h }\n    approvers: [owners]\ndefault: auto`).replace('    owners: [owner@example.com]\n', ''), { configuredConnectors: undefined });
    assert.deepEqual(r.ok ? [] : r.errors, [`${P}.rules[0].approvers[0]: "owners" but the application has no owners (add owners: [...] to it)`]);
  });

  test('onCall names one on-call service and its schedule ids, and that service must be configured', () => {
    const text = catalog(`rules:\n  - name: on-call responders\n    when: { onCall: { pagerduty: [P1PAYMT, P2PAYMT, P1PAYMT] } }\n    auto: true\n  - when: { onCall: { jsm-ops: 0B5C1D2E-3F40-4A51-8B62-7C83D94E0F15 } }\n    auto: true\ndefault:\n  approvers: [owners]`);
    const r = parseCatalog(text, { configuredConnectors: undefined, configuredOnCall: ['pagerduty', 'jsm-ops'] });
    assert.ok(r.ok, r.ok ? '' : r.errors.join('\n'));
    const rules = r.catalog.applications[0]!.roles[0]!.rules!.rules;
    assert.deepEqual(rules[0]!.when, { onCall: { service: 'pagerduty', schedules: ['P1PAYMT', 'P2PAYMT'] } });
    assert.deepEqual(rules[1]!.when, { onCall: { service: 'jsm-ops', schedules: ['0B5C1D2E-3F40-4A51-8B62-7C83D94E0F15'] } });
    const unconfigured = parseCatalog(text, { configuredConnectors: undefined, configuredOnCall: [] });
    assert.deepEqual(unconfigured.ok ? [] : unconfigured.errors, [
      `${P}.rules[0].when.onCall.pagerduty: PagerDuty is not configured (set PAGERDUTY_TOKEN to a PagerDuty REST API key (Integrations → API Access Keys; read-only is enough))`,
      `${P}.rules[1].when.onCall.jsm-ops: JSM Operations is not configured (set JSM_OPS_CLOUD_ID to the site’s cloud id (https://<your-site>.atlassian.net/_edge/tenant_info), with JSM_OPS_EMAIL and JSM_OPS_API_TOKEN unless the Jira credentials may read the schedules)`,
    ]);
  });

  test('a bad onCall is one line naming what is wrong', () => {
    const rule = (onCall: string) => errors(`rules:\n  - when: { onCall: ${onCall} }\n    auto: true\ndefault: { approvers: [owners] }`);
    assert.deepEqual(rule('{ pagerduti: P1PAYMT }'), [`${P}.rules[0].when.onCall.pagerduti: "pagerduti" is not an on-call service (one of pagerduty, jsm-ops; did you mean pagerduty?)`]);
    assert.deepEqual(rule('{ pagerduty: P1PAYMT, jsm-ops: x }'), [`${P}.rules[0].when.onCall: names 2 on-call services; a condition tests one (write one rule per service)`]);
    assert.deepEqual(rule('{ pagerduty: "Payments primary" }'), [`${P}.rules[0].when.onCall.pagerduty: "Payments primary" is not a PagerDuty schedule id like P1ABCDE (the last part of the schedule’s URL, …/schedules/P1ABCDE)`]);
    assert.deepEqual(rule('{ jsm-ops: P1PAYMT }'), [`${P}.rules[0].when.onCall.jsm-ops: "P1PAYMT" is not a JSM Operations schedule id, a UUID (Operations → On-call schedules → the schedule → its id in the URL)`]);
    assert.deepEqual(rule('P1PAYMT'), [`${P}.rules[0].when.onCall: must be a map naming one on-call service and its schedule ids, e.g. { pagerduty: P1ABCDE } or { jsm-ops: [<schedule id>, …] }`]);
  });
});
