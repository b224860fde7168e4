/**
 * Access reviews in SQLite (migrations/012_access_reviews.sql): the ReviewStore port. Every
 * statement runs on the bot's one connection, so inside `store.tx` it is part of that
 * transaction.
 */
import type { PersonId } from '../../domain/people.js';
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
import { CAMPAIGN_COLUMNS, ITEM_COLUMNS, REVIEWER, ROW, toCampaign, toItem, toReviewer, type Row } from '../reviewRows.js';
import type { Db } from './db.js';
import { toAudit } from '../storeRows.js';

export class SqliteReviewStore implements ReviewStore {
  private readonly s;
  private readonly updates = new Map<string, ReturnType<Db['prepare']>>();

  constructor(private readonly db: Db) {
    this.s = {
      insertCampaign: db.prepare(`INSERT INTO review_campaigns (id, app_id, app_name, role_id, scope, roles_json, origin, started_by, state, policy_json, created_at, due_at)
        VALUES (@id, @appId, @appName, @roleId, @scope, @roles, @origin, @startedBy, 'listing', @policy, @createdAt, @dueAt)`),
      getCampaign: db.prepare('SELECT * FROM review_campaigns WHERE id = ?'),
      byKey: db.prepare('SELECT * FROM review_campaigns WHERE jira_key = ? ORDER BY created_at DESC LIMIT 1'),
      campaignsOf: db.prepare('SELECT * FROM review_campaigns WHERE app_id = ? AND role_id IS ? ORDER BY created_at DESC, id DESC LIMIT ?'),
      live: db.prepare("SELECT * FROM review_campaigns WHERE state IN ('listing', 'open')"),
      timersDue: db.prepare("SELECT * FROM review_campaigns WHERE next_timer_at IS NOT NULL AND next_timer_at <= ? AND state = 'open' ORDER BY next_timer_at LIMIT ?"),
      list: db.prepare('SELECT * FROM review_campaigns ORDER BY created_at DESC, id DESC LIMIT ?'),
      stepsAfter: db.prepare('SELECT * FROM audit_events WHERE request_id = ? AND seq > ? ORDER BY seq LIMIT ?'),
      nextSeq: db.prepare('SELECT COALESCE(MAX(seq), 0) + 1 FROM review_items WHERE campaign_id = ?').pluck(),
      insertItem: db.prepare(`INSERT OR IGNORE INTO review_items (campaign_id, seq, role_id, role_name, connector, group_id, idp_user_id, email, name, title, department, manager,
          last_login_known, last_login_at, grant_request_id, standing, recommendation, recommendation_why)
        VALUES (@campaignId, @seq, @roleId, @roleName, @connector, @groupId, @idpUserId, @email, @name, @title, @department, @manager,
          @lastLoginKnown, @lastLoginAt, @grantRequestId, @standing, @recommendation, @recommendationWhy)`),
      getItem: db.prepare('SELECT * FROM review_items WHERE campaign_id = ? AND seq = ?'),
      roleCounts: db.prepare('SELECT COUNT(*) AS members, COUNT(grant_request_id) AS granted FROM review_items WHERE campaign_id = ? AND role_id = ?'),
      allItems: db.prepare('SELECT * FROM review_items WHERE campaign_id = ? ORDER BY seq'),
      undecided: db.prepare('SELECT * FROM review_items INDEXED BY review_items_undecided WHERE campaign_id = ? AND decision IS NULL ORDER BY seq'),
      tally: db.prepare(`SELECT COUNT(*) AS total,
          COALESCE(SUM(decision IS NULL), 0) AS undecided,
          COALESCE(SUM(decision = 'keep'), 0) AS kept,
          COALESCE(SUM(decision = 'revoke'), 0) AS revoked,
          COALESCE(SUM(decision = 'keep' AND decided_via = 'on_due'), 0) AS keptAtDue,
          COALESCE(SUM(decision = 'revoke' AND decided_via = 'on_due'), 0) AS revokedAtDue,
          COALESCE(SUM(revoke_state = 'pending'), 0) AS removing,
          COALESCE(SUM(revoke_state = 'removed'), 0) AS removed,
          COALESCE(SUM(revoke_state = 'kept'), 0) AS keptMembership,
          COALESCE(SUM(revoke_state = 'failed'), 0) AS failed
        FROM review_items WHERE campaign_id = ?`),
      // Read on every decision: through the partial indexes (without them SQLite walks the
      // campaign's rows by primary key, past every decided one).
      undecidedOne: db.prepare('SELECT 1 FROM review_items INDEXED BY review_items_undecided WHERE campaign_id = ? AND decision IS NULL LIMIT 1').pluck(),
      removingOne: db.prepare("SELECT 1 FROM review_items INDEXED BY review_items_removing WHERE campaign_id = ? AND revoke_state = 'pending' LIMIT 1").pluck(),
      assign: db.prepare('INSERT OR IGNORE INTO review_assignments (campaign_id, person_id, seq, via, at) VALUES (?, ?, ?, ?, ?)'),
      isAssigned: db.prepare('SELECT 1 FROM review_assignments WHERE campaign_id = ? AND person_id = ? AND seq = ?').pluck(),
      assignees: db.prepare('SELECT person_id FROM review_assignments INDEXED BY review_assignments_by_item WHERE campaign_id = ? AND seq = ? ORDER BY at, person_id').pluck(),
      assignedCount: db.prepare(`SELECT COUNT(*) AS rows, COALESCE(SUM(i.decision IS NULL), 0) AS undecided
        FROM review_assignments a JOIN review_items i ON i.campaign_id = a.campaign_id AND i.seq = a.seq WHERE a.campaign_id = ? AND a.person_id = ?`),
      assignedRows: db.prepare(`${ROW} WHERE a.campaign_id = ? AND a.person_id = ? ORDER BY a.seq LIMIT ? OFFSET ?`),
      undecidedOf: db.prepare(`SELECT i.* FROM review_assignments a JOIN review_items i ON i.campaign_id = a.campaign_id AND i.seq = a.seq
        WHERE a.campaign_id = ? AND a.person_id = ? AND i.decision IS NULL ORDER BY a.seq`),
      addReviewer: db.prepare(`INSERT OR IGNORE INTO review_reviewers (campaign_id, person_id, via, manager_person_id, asked_at) VALUES (?, ?, ?, ?, ?)`),
      reviewer: db.prepare(`${REVIEWER} WHERE v.campaign_id = ? AND v.person_id = ?`),
      reviewers: db.prepare(`${REVIEWER} WHERE v.campaign_id = ? ORDER BY v.asked_at, v.person_id`),
      setMessage: db.prepare('UPDATE review_reviewers SET channel = ?, ts = ? WHERE campaign_id = ? AND person_id = ?'),
      setPage: db.prepare('UPDATE review_reviewers SET page = ? WHERE campaign_id = ? AND person_id = ?'),
      // Per member listed: through the holders' index (the `IN` is its condition), not a walk of every active grant.
      // Only what someone asked for is a grant of access-bot: inactivity reclaim's record of standing
      // access (origin 'standing', migrations/019) is standing access in a review (app/reviewRevoke.ts).
      activeGrants: db.prepare(`SELECT id FROM requests INDEXED BY requests_holding_by_user
        WHERE connector = ? AND group_id = ? AND idp_user_id = ? AND state IN ('approved', 'active', 'revoking') AND state = 'active' AND origin = 'request'
        ORDER BY COALESCE(expires_at, 9007199254740991), created_at`).pluck(),
    };
  }

  insertCampaign(c: NewCampaign): void {
    this.s.insertCampaign.run({ ...c, roles: JSON.stringify(c.roles), policy: JSON.stringify(c.policy) });
  }

  getCampaign(id: string): CampaignRecord | undefined {
    const r = this.s.getCampaign.get(id) as Row | undefined;
    return r && toCampaign(r);
  }

  findCampaign(idOrKey: string): CampaignRecord | undefined {
    const r = (this.s.getCampaign.get(idOrKey) ?? this.s.byKey.get(idOrKey)) as Row | undefined;
    return r && toCampaign(r);
  }

  updateCampaign(id: string, patch: CampaignPatch): void {
    this.update('review_campaigns', 'id = ?', CAMPAIGN_COLUMNS, patch, [id]);
  }

  campaignsOf(appId: string, roleId: string | null, limit: number): CampaignRecord[] {
    return (this.s.campaignsOf.all(appId, roleId, limit) as Row[]).map(toCampaign);
  }

  openCampaignsOver(groups: readonly { connector: string; group: string }[]): CampaignRecord[] {
    const wanted = new Set(groups.map((g) => `${g.connector}\u0000${g.group}`));
    return (this.s.live.all() as Row[]).map(toCampaign).filter((c) => c.roles.some((r) => wanted.has(`${r.connector}\u0000${r.group}`)));
  }

  campaignTimersDue(now: number, limit: number): CampaignRecord[] {
    return (this.s.timersDue.all(now, limit) as Row[]).map(toCampaign);
  }

  listCampaigns(limit: number): CampaignRecord[] {
    return (this.s.list.all(limit) as Row[]).map(toCampaign);
  }

  stepsAfter(campaignId: string, afterSeq: number, limit: number): AuditRecord[] {
    return (this.s.stepsAfter.all(campaignId, afterSeq, limit) as Row[]).map(toAudit);

  }

  insertItems(items: readonly NewReviewItem[]): number {
    let added = 0;
    for (const item of items) {
      const seq = this.s.nextSeq.get(item.campaignId) as number;
      added += this.s.insertItem.run({ ...item, seq, lastLoginKnown: item.lastLoginKnown ? 1 : 0, standing: item.standing ? 1 : 0 }).changes;
    }
    return added;
  }

  getItem(campaignId: string, seq: number): ReviewItem | undefined {
    const r = this.s.getItem.get(campaignId, seq) as Row | undefined;
    return r && toItem(r);
  }

  updateItem(campaignId: string, seq: number, patch: ReviewItemPatch): void {
    this.update('review_items', 'campaign_id = ? AND seq = ?', ITEM_COLUMNS, patch, [campaignId, seq]);
  }

  roleCounts(campaignId: string, roleId: string): { members: number; granted: number } {
    return this.s.roleCounts.get(campaignId, roleId) as { members: number; granted: number };
  }

  allItems(campaignId: string): ReviewItem[] {
    return (this.s.allItems.all(campaignId) as Row[]).map(toItem);
  }

  undecidedItems(campaignId: string): ReviewItem[] {
    return (this.s.undecided.all(campaignId) as Row[]).map(toItem);
  }

  tally(campaignId: string): ReviewTallyRow {
    return this.s.tally.get(campaignId) as ReviewTallyRow;
  }

  settled(campaignId: string): boolean {
    return this.s.undecidedOne.get(campaignId) === undefined && this.s.removingOne.get(campaignId) === undefined;
  }

  assign(campaignId: string, seq: number, personId: PersonId, via: ReviewerVia, at: number): void {
    this.s.assign.run(campaignId, personId, seq, via, at);
  }

  isAssigned(campaignId: string, seq: number, personId: PersonId): boolean {
    return this.s.isAssigned.get(campaignId, personId, seq) === 1;
  }

  assigneesOf(campaignId: string, seq: number): PersonId[] {
    return this.s.assignees.all(campaignId, seq) as number[];
  }

  assignedCount(campaignId: string, personId: PersonId): { rows: number; undecided: number } {
    return this.s.assignedCount.get(campaignId, personId) as { rows: number; undecided: number };
  }

  assignedRows(campaignId: string, personId: PersonId, offset: number, limit: number): ReviewRow[] {
    return (this.s.assignedRows.all(campaignId, personId, limit, offset) as Row[]).map((r) => ({
      ...toItem(r),
      grantJiraKey: (r.grant_jira_key as string | null) ?? null,
      grantExpiresAt: (r.grant_expires_at as number | null) ?? null,
    }));
  }

  undecidedOf(campaignId: string, personId: PersonId): ReviewItem[] {
    return (this.s.undecidedOf.all(campaignId, personId) as Row[]).map(toItem);
  }

  addReviewer(r: Pick<ReviewerRecord, 'campaignId' | 'personId' | 'via' | 'managerPersonId' | 'askedAt'>): ReviewerRecord {
    this.s.addReviewer.run(r.campaignId, r.personId, r.via, r.managerPersonId, r.askedAt);
    return this.reviewerOf(r.campaignId, r.personId)!;
  }

  reviewerOf(campaignId: string, personId: PersonId): ReviewerRecord | undefined {
    const r = this.s.reviewer.get(campaignId, personId) as Row | undefined;
    return r && toReviewer(r);
  }

  reviewersOf(campaignId: string): ReviewerRecord[] {
    return (this.s.reviewers.all(campaignId) as Row[]).map(toReviewer);
  }

  setReviewerMessage(campaignId: string, personId: PersonId, channel: string, ts: string): void {
    this.s.setMessage.run(channel, ts, campaignId, personId);
  }

  setReviewerPage(campaignId: string, personId: PersonId, page: number): void {
    this.s.setPage.run(page, campaignId, personId);
  }

  activeGrantsOf(connector: string, groupId: string, idpUserId: string): string[] {
    return this.s.activeGrants.all(connector, groupId, idpUserId) as string[];
  }

  /** An UPDATE of the patch's columns; statements are kept per shape. */
  private update<P extends object>(table: string, where: string, columns: Record<keyof P, string>, patch: P, key: unknown[]): void {
    const fields = (Object.keys(patch) as (keyof P)[]).filter((k) => patch[k] !== undefined);
    if (fields.length === 0) return;
    const sql = `UPDATE ${table} SET ${fields.map((f) => `${columns[f]} = ?`).join(', ')} WHERE ${where}`;
    let stmt = this.updates.get(sql);
    if (!stmt) this.updates.set(sql, (stmt = this.db.prepare(sql)));
    stmt.run([...fields.map((f) => patch[f] as unknown), ...key]);
  }
}
