import assert from 'node:assert/strict';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { rowView } from '../../src/adapters/sqlite/rowView.js';
import { COLUMNS, toRequest } from '../../src/adapters/storeRows.js';

// toRequest is written out field by field (for speed); COLUMNS is what updates write through.
test('toRequest reads every field from the column COLUMNS names for it, and the people join', () => {
  const row: Record<string, unknown> = {};
  for (const col of Object.values(COLUMNS)) row[col] = `<${col}>`;
  row.policy_json = '{"kind":"any","approvers":["owners"]}';
  row.bundle_json = '[{"appId":"a"}]';
  Object.assign(row, { requester_slack_id: 'U1', requester_account_id: 'acc-1', submitter_slack_id: 'U2', submitter_email: 's@x.example', submitter_name: 'Sam' });
  const r = toRequest(row) as unknown as Record<string, unknown>;
  for (const [field, col] of Object.entries(COLUMNS)) {
    if (field === 'policy' || field === 'bundleParts') continue;
    assert.equal(r[field], `<${col}>`, `${field} reads ${col}`);
  }
  assert.deepEqual(r.policy, { kind: 'any', approvers: ['owners'] });
  assert.deepEqual(r.bundleParts, [{ appId: 'a' }]);
  assert.deepEqual(
    [r.requesterSlackId, r.requesterAccountId, r.submitterSlackId, r.submitterEmail, r.submitterName],
    ['U1', 'acc-1', 'U2', 's@x.example', 'Sam'],
  );
  const fields = new Set([...Object.keys(COLUMNS), 'requesterSlackId', 'requesterAccountId', 'submitterSlackId', 'submitterEmail', 'submitterName']);
  assert.deepEqual(Object.keys(r).filter((k) => !fields.has(k)), [], 'no field beyond COLUMNS and the join');
});

test('toRequest: no bundle, and no submitter or Atlassian account on the join, read as null', () => {
  const row: Record<string, unknown> = { policy_json: '{"kind":"any"}', bundle_json: null, requester_slack_id: null, submitter_slack_id: null };
  const r = toRequest(row);
  assert.equal(r.bundleParts, null);
  assert.equal(r.requesterAccountId, null);
  assert.equal(r.submitterEmail, null);
});

test('rowView: a raw row read by column name, as better-sqlite3 would have built it (a name given twice reads the last)', () => {
  const db = new Database(':memory:');
  db.exec("CREATE TABLE t (id TEXT, n INTEGER, note TEXT); INSERT INTO t VALUES ('a', 1, NULL), ('b', 2, 'x')");
  const sql = 'SELECT t.*, t.n * 10 AS n10, 7 AS id FROM t ORDER BY id';
  const objects = db.prepare(sql).all() as Record<string, unknown>[];
  const stmt = db.prepare(sql);
  const view = rowView(stmt);
  const rows = (stmt.all() as unknown[][]).map(view);
  assert.deepEqual(rows.map((r) => ({ ...Object.fromEntries(['id', 'n', 'note', 'n10'].map((k) => [k, r[k]])) })), objects);
  assert.equal(rows[0]!.id, 7);
  assert.equal(rows[0]!.missing, undefined);
  // Statements with the same columns share one view, so the mapper reading them sees one shape.
  assert.equal(Object.getPrototypeOf(view([])), Object.getPrototypeOf(rowView(db.prepare(sql))([])));
  db.close();
});
