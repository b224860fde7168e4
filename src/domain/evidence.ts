/**
 * Evidence an auditor takes away (issue 19): the exports' stable columns, their formats and the
 * trailer that ties an export to the audit log's head. Column names are a contract (README,
 * "Evidence export"): add new ones at the end, never rename or reorder.
 */
import type { AuditHead } from './audit.js';
import { CSV_EOL, csvRecord } from './csv.js';

/** `access-bot export requests`: one row per request (a bundle is one row, its parts in `parts`). */
export const REQUEST_COLUMNS = [
  'request_id',
  'kind',
  'jira_key',
  'requester_email',
  'requester_name',
  'application_id',
  'application',
  'role_id',
  'role',
  'grants',
  'duration',
  'reason',
  'requested_at',
  'approvers',
  'approved_at',
  'decided_by',
  'decided_at',
  'decision_reason',
  'granted_at',
  'expires_at',
  'revoked_at',
  'revoked_by',
  'revoke_cause',
  'outcome',
  'failure',
  'extends_request_id',
  'parts',
] as const;

/**
 * `access-bot export review <campaign>`: one row per person reviewed. Defined ahead of the review
 * campaigns themselves, which a build without them refuses to export ("not yet").
 */
export const REVIEW_COLUMNS = [
  'campaign_id',
  'campaign_jira_key',
  'application',
  'role',
  'person_email',
  'person_name',
  'decision',
  'reviewer',
  'reason',
  'decided_at',
  'revocation_landed_at',
] as const;

export type RequestColumn = (typeof REQUEST_COLUMNS)[number];
export type ExportRow<C extends string> = Record<C, string | null>;
export type ExportFormat = 'csv' | 'jsonl';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['csv', 'jsonl'];

/** Times in exports: ISO 8601 in UTC, to the millisecond. */
export function isoTime(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/** An inclusive range of UTC days as [from, to) in epoch ms, or why it is not one. */
export function dayRange(from: string, to: string): { fromMs: number; toMs: number } | { error: string } {
  const f = parseDay(from);
  if (f === undefined) return { error: `--from ${JSON.stringify(from)} is not a date (YYYY-MM-DD)` };
  const t = parseDay(to);
  if (t === undefined) return { error: `--to ${JSON.stringify(to)} is not a date (YYYY-MM-DD)` };
  if (t < f) return { error: `--to ${to} is before --from ${from}` };
  return { fromMs: f, toMs: t + 86_400_000 };
}

/** A calendar day (YYYY-MM-DD, a real one) at 00:00 UTC. */
export function parseDay(s: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return undefined;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return isoTime(ms)?.slice(0, 10) === s ? ms : undefined;
}

/** The first line of an export (CSV: the column names; JSON Lines has none). */
export function headerLine(format: ExportFormat, columns: readonly string[]): string | undefined {
  return format === 'csv' ? csvRecord(columns) + CSV_EOL : undefined;
}

/** One row, in the format, with its line end; columns in their fixed order. */
export function rowLine<C extends string>(format: ExportFormat, columns: readonly C[], row: ExportRow<C>): string {
  if (format === 'csv') return csvRecord(columns.map((c) => row[c])) + CSV_EOL;
  return JSON.stringify(Object.fromEntries(columns.map((c) => [c, row[c]]))) + '\n';
}

/** What the trailer says: the audit log's head when the export was read, and what was exported. */
export interface ExportTrailer {
  head: AuditHead;
  rows: number;
  /** What was exported: "requests 2026-10-01..2026-12-31", "review <campaign>". */
  scope: string;
  exportedAt: number;
}

/**
 * The last line of every export. CSV: one field starting `# audit-head` (a spreadsheet shows it
 * as a last row; parsers that skip `#` comments skip it). JSON Lines: an object with `audit_head`
 * and no `request_id`.
 */
export function trailerLine(format: ExportFormat, t: ExportTrailer): string {
  if (format === 'csv') return `# audit-head seq=${t.head.seq} sha256=${t.head.hash} rows=${t.rows} scope=${t.scope.replace(/\s+/g, '_')} exported=${isoTime(t.exportedAt)!}${CSV_EOL}`;
  return JSON.stringify({ audit_head: { seq: t.head.seq, sha256: t.head.hash }, rows: t.rows, scope: t.scope, exported_at: isoTime(t.exportedAt) }) + '\n';
}

/** The audit head an export's trailer recorded, read back from its last non-empty line. */
export function headFromTrailer(text: string): AuditHead | undefined {
  const last = text.trimEnd().split(/\r?\n/).at(-1) ?? '';
  const csv = /^# audit-head seq=(\d+) sha256=([0-9a-f]{64})\b/.exec(last);
  if (csv) return { seq: Number(csv[1]), hash: csv[2]! };
  try {
    const j = JSON.parse(last) as { audit_head?: { seq?: unknown; sha256?: unknown } } | null;
    const h = j?.audit_head;
    if (h && typeof h.seq === 'number' && Number.isInteger(h.seq) && typeof h.sha256 === 'string' && /^[0-9a-f]{64}$/.test(h.sha256)) return { seq: h.seq, hash: h.sha256 };
  } catch {
    // Not JSON: not a trailer.
  }
  return undefined;
}
