/**
 * `access-bot export requests --from --to --format csv|jsonl` (issue 19): one row per request
 * created in the range (a bundle is one row, its parts in `parts`; an extension is a row of its
 * own), with who asked, who approved and when, when access was granted and revoked, the Jira key
 * and the outcome; then a trailer with the audit log's head, read in the same read transaction,
 * so an export taken today shows later tampering with the database (`access-bot audit verify
 * --export <file>`). Columns: domain/evidence.ts. Read-only.
 */
import { headerLine, isoTime, REQUEST_COLUMNS, rowLine, trailerLine, type ExportFormat, type ExportRow, type RequestColumn } from '../domain/evidence.js';
import type { AuditHead } from '../domain/audit.js';
import type { EvidenceStore } from './ports/evidence.js';
import type { RequestRecord } from './ports/store.js';

export interface ExportRequestsOpts {
  fromMs: number;
  /** Exclusive. */
  toMs: number;
  format: ExportFormat;
  /** What the trailer says was exported, e.g. "requests 2026-10-01..2026-12-31". */
  scope: string;
}

/** Rows read per page: the export's memory stays flat however many requests the range holds. */
const PAGE = 500;

/** Writes the export line by line; returns how many rows it wrote and the head it recorded. */
export function exportRequests(deps: { evidence: EvidenceStore; now(): number }, opts: ExportRequestsOpts, write: (chunk: string) => void): { rows: number; head: AuditHead } {
  const ev = deps.evidence;
  return ev.snapshot(() => {
    const head = ev.auditHead();
    const header = headerLine(opts.format, REQUEST_COLUMNS);
    if (header) write(header);
    let rows = 0;
    let after: { createdAt: number; id: string } | undefined;
    for (;;) {
      const page = ev.requestsCreated(opts.fromMs, opts.toMs, after, PAGE);
      for (const r of page) write(rowLine(opts.format, REQUEST_COLUMNS, requestRow(ev, r)));
      rows += page.length;
      const last = page.at(-1);
      if (!last || page.length < PAGE) break;
      after = { createdAt: last.createdAt, id: last.id };
    }
    write(trailerLine(opts.format, { head, rows, scope: opts.scope, exportedAt: deps.now() }));
    return { rows, head };
  });
}

/** One request as its export row. */
export function requestRow(ev: Pick<EvidenceStore, 'approversOf' | 'partsOf' | 'auditOf'>, r: RequestRecord): ExportRow<RequestColumn> {
  const votes = ev
    .approversOf(r.id)
    .filter((a) => a.decision === 'approve')
    .sort((a, b) => (a.decidedAt ?? 0) - (b.decidedAt ?? 0));
  const byPolicy = r.decidedBy === 'policy' && votes.length === 0;
  // A denial's reason, whoever denied (a person, or a rule): from the record of the step.
  const denial = ev.auditOf(r.id).find((a) => a.step.type === 'denied' || a.step.type === 'extension_denied')?.step;
  const parts = r.bundleParts ? ev.partsOf(r.id) : [];
  return {
    request_id: r.id,
    kind: r.origin === 'standing' ? 'standing' : r.bundleParts ? 'bundle' : r.extendsId ? 'extension' : 'access',
    jira_key: r.jiraKey,
    requester_email: r.requesterEmail,
    requester_name: r.requesterName,
    application_id: r.appId,
    application: r.appName,
    role_id: r.roleId,
    role: r.roleName,
    grants: r.bundleParts ? r.bundleParts.map((p) => `${p.connector}:${p.group}`).join('; ') : `${r.connector}:${r.groupId}`,
    duration: r.durationToken,
    reason: r.reason,
    requested_at: isoTime(r.createdAt),
    approvers: byPolicy ? 'policy' : votes.map((a) => a.email).join('; ') || null,
    approved_at: byPolicy ? isoTime(r.decidedAt) : votes.map((a) => isoTime(a.decidedAt)).join('; ') || null,
    decided_by: r.decidedBy,
    decided_at: isoTime(r.decidedAt),
    decision_reason: denial && 'reason' in denial ? (denial.reason ?? null) : null,
    granted_at: isoTime(r.grantedAt),
    expires_at: isoTime(r.expiresAt),
    revoked_at: isoTime(r.revokedAt),
    revoked_by: r.revokedBy,
    revoke_cause: r.revokeCause,
    outcome: r.state,
    failure: r.failure,
    extends_request_id: r.extendsId,
    parts: r.bundleParts
      ? r.bundleParts
          .map((snap) => {
            const p = parts.find((x) => x.appId === snap.appId && x.roleId === snap.roleId);
            const facts = p
              ? [p.state, p.grantedAt === null ? '' : ` granted ${isoTime(p.grantedAt)}`, p.revokedAt === null ? '' : ` revoked ${isoTime(p.revokedAt)}`, p.failure ? ` (${p.failure})` : ''].join('')
              : 'not granted';
            return `${snap.appId}/${snap.roleId}: ${facts}`;
          })
          .join('; ')
      : null,
  };
}

/** "requests 2026-10-01..2026-12-31", for the trailer. */
export function requestsScope(from: string, to: string): string {
  return `requests ${from}..${to}`;
}
