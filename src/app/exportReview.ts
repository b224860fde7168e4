/**
 * `access-bot export review <campaign>` (issue 19): one row per person an access review asked
 * about, with the decision, who made it (a reviewer, or the due-date policy), the reason and when
 * the revocation landed; then the trailer with the audit log's head, read in the same read
 * transaction as the rows (as `export requests` does), so later tampering shows. Columns:
 * domain/evidence.ts. Read-only.
 */
import type { AuditHead } from '../domain/audit.js';
import { headerLine, isoTime, REVIEW_COLUMNS, rowLine, trailerLine, type ExportFormat, type ExportRow } from '../domain/evidence.js';
import type { EvidenceStore } from './ports/evidence.js';
import type { CampaignRecord, ReviewItem, ReviewStore } from './ports/reviews.js';

export type ReviewColumn = (typeof REVIEW_COLUMNS)[number];

/** One reviewed person as their export row. */
export function reviewRow(c: CampaignRecord, item: ReviewItem): ExportRow<ReviewColumn> {
  return {
    campaign_id: c.id,
    campaign_jira_key: c.jiraKey,
    application: c.appName,
    role: item.roleName,
    person_email: item.email,
    person_name: item.name,
    decision: item.decision,
    reviewer: item.decidedBy,
    reason: item.reason,
    decided_at: isoTime(item.decidedAt),
    revocation_landed_at: isoTime(item.revokedAt),
  };
}

/** Writes the export line by line; `undefined` when there is no such campaign. */
export function exportReview(
  deps: { evidence: EvidenceStore; reviews: ReviewStore; now(): number },
  opts: { campaign: string; format: ExportFormat },
  write: (chunk: string) => void,
): { campaign: CampaignRecord; rows: number; head: AuditHead } | undefined {
  return deps.evidence.snapshot(() => {
    const c = deps.reviews.findCampaign(opts.campaign);
    if (!c) return undefined;
    const head = deps.evidence.auditHead();
    const header = headerLine(opts.format, REVIEW_COLUMNS);
    if (header) write(header);
    const items = deps.reviews.allItems(c.id);
    for (const item of items) write(rowLine(opts.format, REVIEW_COLUMNS, reviewRow(c, item)));
    write(trailerLine(opts.format, { head, rows: items.length, scope: `review ${c.id}`, exportedAt: deps.now() }));
    return { campaign: c, rows: items.length, head };
  });
}
