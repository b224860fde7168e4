import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkChain, GENESIS_HASH, type ChainHash, type StoredAuditEvent } from '../../src/domain/audit.js';
import { csvField, csvRecord, neutralizeFormula } from '../../src/domain/csv.js';
import { dayRange, headFromTrailer, parseDay, rowLine, trailerLine } from '../../src/domain/evidence.js';

describe('CSV escaping (RFC 4180) and formula injection', () => {
  const cells: [string, string | null, string][] = [
    ['a plain value is written as it is', 'alice@example.com', 'alice@example.com'],
    ['null is an empty field', null, ''],
    ['an empty string is an empty field', '', ''],
    ['a comma is quoted', 'Smith, Alice', '"Smith, Alice"'],
    ['a double quote is doubled and quoted', 'the "audit" page', '"the ""audit"" page"'],
    ['a line break is quoted and kept', 'line one\nline two', '"line one\nline two"'],
    ['a CRLF is quoted and kept', 'one\r\ntwo', '"one\r\ntwo"'],
    ['= starts a formula: prefixed with a quote', '=1+1', "'=1+1"],
    ['+ starts a formula', '+41 79 000 00 00', "'+41 79 000 00 00"],
    ['- starts a formula', '-2+3', "'-2+3"],
    ['@ starts a formula', '@SUM(A1:A2)', "'@SUM(A1:A2)"],
    ['a leading tab too', '\t=1', "'\t=1"],
    ['a leading CR too, then quoted', '\r=1', '"\'\r=1"'],
    ['a formula with quotes and commas: neutralised, then quoted', '=HYPERLINK("http://x","y")', '"\'=HYPERLINK(""http://x"",""y"")"'],
    ['= inside a value is harmless', 'a=b', 'a=b'],
    ['a leading quote stays as it is', "'quoted", "'quoted"],
  ];
  for (const [rule, value, expected] of cells) {
    test(rule, () => {
      assert.equal(csvField(value), expected);
    });
  }

  test('a record joins its fields with commas', () => {
    assert.equal(csvRecord(['a', null, 'b,c', '-1']), 'a,,"b,c",\'-1');
  });

  test('neutralizing is idempotent on its own output', () => {
    assert.equal(neutralizeFormula(neutralizeFormula('=x')), "'=x");
  });
});

describe('export rows, ranges and trailers', () => {
  test('a row: CSV in column order with CRLF; JSON Lines keeps values and nulls', () => {
    const row = { b: '=x', a: null };
    assert.equal(rowLine('csv', ['a', 'b'], row), ",'=x\r\n");
    assert.equal(rowLine('jsonl', ['a', 'b'], row), '{"a":null,"b":"=x"}\n');
  });

  test('days are real calendar days in UTC; the range includes both ends', () => {
    assert.equal(parseDay('2026-10-01'), Date.UTC(2026, 9, 1));
    assert.equal(parseDay('2026-02-30'), undefined);
    assert.equal(parseDay('2026-1-1'), undefined);
    assert.equal(parseDay('2026-10-01T00:00:00Z'), undefined);
    assert.deepEqual(dayRange('2026-10-01', '2026-12-31'), { fromMs: Date.UTC(2026, 9, 1), toMs: Date.UTC(2027, 0, 1) });
    assert.deepEqual(dayRange('2026-10-02', '2026-10-01'), { error: '--to 2026-10-01 is before --from 2026-10-02' });
    assert.deepEqual(dayRange('yesterday', '2026-10-01'), { error: '--from "yesterday" is not a date (YYYY-MM-DD)' });
  });

  test('the head a trailer records is read back, in both formats', () => {
    const t = { head: { seq: 42, hash: 'ab'.repeat(32) }, rows: 3, scope: 'requests 2026-10-01..2026-12-31', exportedAt: Date.UTC(2027, 0, 1) };
    const csv = trailerLine('csv', t);
    assert.equal(csv, `# audit-head seq=42 sha256=${'ab'.repeat(32)} rows=3 scope=requests_2026-10-01..2026-12-31 exported=2027-01-01T00:00:00.000Z\r\n`);
    assert.deepEqual(headFromTrailer(`a,b\r\n1,2\r\n${csv}`), t.head);
    assert.deepEqual(headFromTrailer(`{"request_id":"x"}\n${trailerLine('jsonl', t)}`), t.head);
    assert.equal(headFromTrailer('a,b\r\n1,2\r\n'), undefined);
  });
});

describe('the audit hash chain', () => {
  // Any deterministic function of the inputs shows the rules; the store uses SHA-256.
  const hashOf: ChainHash = (prev, requestId, at, actor, data) => {
    let h = 0;
    for (const ch of JSON.stringify([prev, requestId, at, actor, data])) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
    return h.toString(16).padStart(64, '0');
  };
  function chain(n: number): StoredAuditEvent[] {
    const out: StoredAuditEvent[] = [];
    let prev = GENESIS_HASH;
    for (let seq = 1; seq <= n; seq++) {
      const data = JSON.stringify({ type: 'approved', n: seq });
      const hash = hashOf(prev, 'R1', seq, 'U1', data);
      out.push({ seq, requestId: 'R1', at: seq, type: 'approved', actor: 'U1', data, prevHash: prev, hash });
      prev = hash;
    }
    return out;
  }

  test('an intact chain: OK, with its head; an empty one starts at the genesis hash', () => {
    const c = chain(3);
    assert.deepEqual(checkChain(c, hashOf), { ok: true, events: 3, head: { seq: 3, hash: c[2]!.hash } });
    assert.deepEqual(checkChain([], hashOf), { ok: true, events: 0, head: { seq: 0, hash: GENESIS_HASH } });
  });

  test('an edited event: its contents no longer match its hash', () => {
    const c = chain(3);
    c[1] = { ...c[1]!, actor: 'U_MALLORY' };
    const r = checkChain(c, hashOf);
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.broken?.seq, 2);
    assert.match(!r.ok ? r.what : '', /^its contents hash to [0-9a-f]{64}, not to the stored/);
  });

  test('a deleted event: the next link breaks, and says where seq jumps', () => {
    const c = chain(4);
    const r = checkChain([c[0]!, c[2]!, c[3]!], hashOf);
    assert.equal(!r.ok && r.broken?.seq, 3);
    assert.match(!r.ok ? r.what : '', /^prev_hash is .*, but the event before it \(seq 1\) has hash .*\(seq jumps from 1 to 3\)$/);
  });

  test('the head an export recorded must still be there, with its hash', () => {
    const c = chain(4);
    assert.equal(checkChain(c, hashOf, { seq: 3, hash: c[2]!.hash }).ok, true);
    const truncated = checkChain(c.slice(0, 2), hashOf, { seq: 3, hash: c[2]!.hash });
    assert.deepEqual(truncated, { ok: false, events: 2, what: `the head an export recorded (seq 3, sha256 ${c[2]!.hash}) is not in the log, which ends at seq 2: events were deleted from its end` });
    const rewritten = checkChain(c, hashOf, { seq: 3, hash: 'f'.repeat(64) });
    assert.equal(!rewritten.ok && rewritten.broken?.seq, 3);
  });
});
