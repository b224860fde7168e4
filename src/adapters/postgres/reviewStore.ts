/**
 * Access reviews on Postgres (migrations/postgres/004_access_reviews.sql): the ReviewStore port,
 * as adapters/sqlite/reviewStore.ts does it, over the bot's PgDb. Its statements run on the
 * store's connection, so inside `store.tx` they are part of that transaction.
 */
import type { AuditRecord } from '../../app/ports/store.js';
import type {
  CampaignPatch,
  CampaignRecord,
  NewCampaign,
  NewReviewItem,
  ReviewerRecord,
  ReviewerVia,
  ReviewItem,
  ReviewItemPatch,
  ReviewRow,
  ReviewStore,
  ReviewTallyRow,
} from '../../app/ports/reviews.js';
import type { PersonId } from '../../domain/people.js';
import { CAMPAIGN_COLUMNS, ITEM_COLUMNS, REVIEWER, ROW, toCampaign, toItem, toReviewer, type Row } from '../reviewRows.js';
import { toAudit } from '../storeRows.js';
import { numberedParams, type PgDb } from './db.js';

/** Postgres folds unquoted names to lower case and sums to numeric: each count is quoted and cast. */
const TALLY = `SELECT COUNT(*) AS "total",
    COUNT(*) FILTER (WHERE decision IS NULL) AS "undecided",
    COUNT(*) FILTER (WHERE decision = 'keep') AS "kept",
    COUNT(*) FILTER (WHERE decision = 'revoke') AS "revoked",
    COUNT(*) FILTER (WHERE decision = 'keep' AND decided_via = 'on_due') AS "keptAtDue",
    COUNT(*) FILTER (WHERE decision = 'revoke' AND decided_via = 'on_due') AS "revokedAtDue",
    COUNT(*) FILTER (WHERE revoke_state = 'pending') AS "removing",
    COUNT(*) FILTER (WHERE revoke_state = 'removed') AS "removed",
    COUNT(*) FILTER (WHERE revoke_state = 'kept') AS "keptMembership",
    COUNT(*) FILTER (WHERE revoke_state = 'failed') AS "failed"
  FROM review_items WHERE campaign_id = $1`;

export class PostgresReviewStore implements ReviewStore {
  constructor(private readonly db: PgDb) {}

  insertCampaign(c: NewCampaign): void {
    this.db.run(
      `INSERT INTO review_campaigns (id, app_id, app_name, role_id, scope, roles_json, origin, started_by, state, policy_json, created_at, due_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'listing', $9, $10, $11)`,
      [c.id, c.appId, c.appName, c.roleId, c.scope, JSON.stringify(c.roles), c.origin, c.startedBy, JSON.stringify(c.policy), c.createdAt, c.dueAt],
    );
  }

  getCampaign(id: string): CampaignRecord | undefined {
    const r = this.db.get('SELECT * FROM review_campaigns WHERE id = $1', [id]);
    return r && toCampaign(r);
  }

  findCampaign(idOrKey: string): CampaignRecord | undefined {
    const r = this.db.get('SELECT * FROM review_campaigns WHERE id = $1', [idOrKey]) ?? this.db.get('SELECT * FROM review_campaigns WHERE jira_key = $1 ORDER BY created_at DESC LIMIT 1', [idOrKey]);
    return r && toCampaign(r);
  }

  updateCampaign(id: string, patch: CampaignPatch): void {
    this.update('review_campaigns', 'id = ?', CAMPAIGN_COLUMNS, patch, [id]);
  }

  campaignsOf(appId: string, roleId: string | null, limit: number): CampaignRecord[] {
    return this.db.all('SELECT * FROM review_campaigns WHERE app_id = $1 AND role_id IS NOT DISTINCT FROM $2 ORDER BY created_at DESC, id DESC LIMIT $3', [appId, roleId, limit]).map(toCampaign);
  }

  openCampaignsOver(groups: readonly { connector: string; group: string }[]): CampaignRecord[] {
    const wanted = new Set(groups.map((g) => `${g.connector}\u0000${g.group}`));
    return this.db
      .all("SELECT * FROM review_campaigns WHERE state IN ('listing', 'open')")
      .map(toCampaign)
      .filter((c) => c.roles.some((r) => wanted.has(`${r.connector}\u0000${r.group}`)));
  }

  campaignTimersDue(now: number, limit: number): CampaignRecord[] {
    return this.db.all("SELECT * FROM review_campaigns WHERE next_timer_at IS NOT NULL AND next_timer_at <= $1 AND state = 'open' ORDER BY next_timer_at LIMIT $2", [now, limit]).map(toCampaign);
  }

  listCampaigns(limit: number): CampaignRecord[] {
    return this.db.all('SELECT * FROM review_campaigns ORDER BY created_at DESC, id DESC LIMIT $1', [limit]).map(toCampaign);
  }

  stepsAfter(campaignId: string, afterSeq: number, limit: number): AuditRecord[] {
    return this.db.all('SELECT * FROM audit_events WHERE request_id = $1 AND seq > $2 ORDER BY seq LIMIT $3', [campaignId, afterSeq, limit]).map(toAudit);
  }

  insertItems(items: readonly NewReviewItem[]): number {
    let added = 0;
    for (const i of items) {
      added += this.db.run(
        `INSERT INTO review_items (campaign_id, seq, role_id, role_name, connector, group_id, idp_user_id, email, name, title, department, manager,
            last_login_known, last_login_at, grant_request_id, standing, recommendation, recommendation_why)
          SELECT $1, COALESCE(MAX(seq), 0) + 1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17 FROM review_items WHERE campaign_id = $1
          ON CONFLICT DO NOTHING`,
        [
          i.campaignId,
          i.roleId,
          i.roleName,
          i.connector,
          i.groupId,
          i.idpUserId,
          i.email,
          i.name,
          i.title,
          i.department,
          i.manager,
          i.lastLoginKnown ? 1 : 0,
          i.lastLoginAt,
          i.grantRequestId,
          i.standing ? 1 : 0,
          i.recommendation,
          i.recommendationWhy,
        ],
      );
    }
    return added;
  }

  getItem(campaignId: string, seq: number): ReviewItem | undefined {
    const r = this.db.get('SELECT * FROM review_items WHERE campaign_id = $1 AND seq = $2', [campaignId, seq]);
    return r && toItem(r);
  }

  updateItem(campaignId: string, seq: number, patch: ReviewItemPatch): void {
    this.update('review_items', 'campaign_id = ? AND seq = ?', ITEM_COLUMNS, patch, [campaignId, seq]);
  }

  roleCounts(campaignId: string, roleId: string): { members: number; granted: number } {
    return this.db.get<{ members: number; granted: number }>('SELECT COUNT(*) AS members, COUNT(grant_request_id) AS granted FROM review_items WHERE campaign_id = $1 AND role_id = $2', [campaignId, roleId])!;
  }

  allItems(campaignId: string): ReviewItem[] {
    return this.db.all('SELECT * FROM review_items WHERE campaign_id = $1 ORDER BY seq', [campaignId]).map(toItem);
  }

  undecidedItems(campaignId: string): ReviewItem[] {
    return this.db.all('SELECT * FROM review_items WHERE campaign_id = $1 AND decision IS NULL ORDER BY seq', [campaignId]).map(toItem);
  }

  tally(campaignId: string): ReviewTallyRow {
    return this.db.get<ReviewTallyRow>(TALLY, [campaignId])!;
  }

  settled(campaignId: string): boolean {
    return (
      this.db.value<boolean>(
        "SELECT NOT EXISTS (SELECT 1 FROM review_items WHERE campaign_id = $1 AND (decision IS NULL OR revoke_state = 'pending'))",
        [campaignId],
      ) === true
    );
  }

  assign(campaignId: string, seq: number, personId: PersonId, via: ReviewerVia, at: number): void {
    this.db.run('INSERT INTO review_assignments (campaign_id, person_id, seq, via, at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING', [campaignId, personId, seq, via, at]);
  }

  isAssigned(campaignId: string, seq: number, personId: PersonId): boolean {
    return this.db.get('SELECT 1 FROM review_assignments WHERE campaign_id = $1 AND person_id = $2 AND seq = $3', [campaignId, personId, seq]) !== undefined;
  }

  assigneesOf(campaignId: string, seq: number): PersonId[] {
    return this.db.all<{ person_id: number }>('SELECT person_id FROM review_assignments WHERE campaign_id = $1 AND seq = $2 ORDER BY at, person_id', [campaignId, seq]).map((r) => r.person_id);
  }

  assignedCount(campaignId: string, personId: PersonId): { rows: number; undecided: number } {
    return this.db.get<{ rows: number; undecided: number }>(
      `SELECT COUNT(*) AS rows, COUNT(*) FILTER (WHERE i.decision IS NULL) AS undecided
        FROM review_assignments a JOIN review_items i ON i.campaign_id = a.campaign_id AND i.seq = a.seq WHERE a.campaign_id = $1 AND a.person_id = $2`,
      [campaignId, personId],
    )!;
  }

  assignedRows(campaignId: string, personId: PersonId, offset: number, limit: number): ReviewRow[] {
    return this.db.all(`${ROW} WHERE a.campaign_id = $1 AND a.person_id = $2 ORDER BY a.seq LIMIT $3 OFFSET $4`, [campaignId, personId, limit, offset]).map((r: Row) => ({
      ...toItem(r),
      grantJiraKey: (r.grant_jira_key as string | null) ?? null,
      grantExpiresAt: (r.grant_expires_at as number | null) ?? null,
    }));
  }

  undecidedOf(campaignId: string, personId: PersonId): ReviewItem[] {
    return this.db
      .all(
        `SELECT i.* FROM review_assignments a JOIN review_items i ON i.campaign_id = a.campaign_id AND i.seq = a.seq
          WHERE a.campaign_id = $1 AND a.person_id = $2 AND i.decision IS NULL ORDER BY a.seq`,
        [campaignId, personId],
      )
      .map(toItem);
  }

  addReviewer(r: Pick<ReviewerRecord, 'campaignId' | 'personId' | 'via' | 'managerPersonId' | 'askedAt'>): ReviewerRecord {
    this.db.run('INSERT INTO review_reviewers (campaign_id, person_id, via, manager_person_id, asked_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING', [
      r.campaignId,
      r.personId,
      r.via,
      r.managerPersonId,
      r.askedAt,
    ]);
    return this.reviewerOf(r.campaignId, r.personId)!;
  }

  reviewerOf(campaignId: string, personId: PersonId): ReviewerRecord | undefined {
    const r = this.db.get(`${REVIEWER} WHERE v.campaign_id = $1 AND v.person_id = $2`, [campaignId, personId]);
    return r && toReviewer(r);
  }

  reviewersOf(campaignId: string): ReviewerRecord[] {
    return this.db.all(`${REVIEWER} WHERE v.campaign_id = $1 ORDER BY v.asked_at, v.person_id`, [campaignId]).map(toReviewer);
  }

  setReviewerMessage(campaignId: string, personId: PersonId, channel: string, ts: string): void {
    this.db.run('UPDATE review_reviewers SET channel = $1, ts = $2 WHERE campaign_id = $3 AND person_id = $4', [channel, ts, campaignId, personId]);
  }

  setReviewerPage(campaignId: string, personId: PersonId, page: number): void {
    this.db.run('UPDATE review_reviewers SET page = $1 WHERE campaign_id = $2 AND person_id = $3', [page, campaignId, personId]);
  }

  activeGrantsOf(connector: string, groupId: string, idpUserId: string): string[] {
    // Only what someone asked for is a grant of access-bot: inactivity reclaim's record of standing
    // access (origin 'standing') is standing access in a review (app/reviewRevoke.ts).
    return this.db
      .all<{ id: string }>(
        `SELECT id FROM requests WHERE connector = $1 AND group_id = $2 AND idp_user_id = $3 AND state = 'active' AND origin = 'request'
          ORDER BY COALESCE(expires_at, 9007199254740991), created_at`,
        [connector, groupId, idpUserId],
      )
      .map((r) => r.id);
  }

  /** An UPDATE of the patch's columns. */
  private update<P extends object>(table: string, where: string, columns: Record<keyof P, string>, patch: P, key: unknown[]): void {
    const fields = (Object.keys(patch) as (keyof P)[]).filter((k) => patch[k] !== undefined);
    if (fields.length === 0) return;
    this.db.run(numberedParams(`UPDATE ${table} SET ${fields.map((f) => `${columns[f]} = ?`).join(', ')} WHERE ${where}`), [...fields.map((f) => patch[f] as unknown), ...key]);
  }
}
