/**
 * The access reviews' storage port: campaigns, their rows (one per person holding a reviewed
 * role), who may decide each row, and each reviewer's message. Implemented by
 * adapters/sqlite/reviewStore.ts over the bot's database.
 *
 * Its operations run in the caller's transaction: with SQLite every statement goes through the
 * one connection, so a use case calls them inside `store.tx` next to the store's own (audit,
 * outbox, people) and all of it commits together, as ARCHITECTURE.md §1.1 asks.
 */
import type { OnDue, ReviewTally } from '../../domain/accessReview.js';
import type { PersonId } from '../../domain/people.js';
import type { AuditRecord } from './store.js';

/** A role reviewed by a campaign, as the catalog said when it started. */
export interface ReviewedRole {
  id: string;
  name: string;
  connector: string;
  group: string;
}

/** A campaign's settings, resolved when it started: reviewers and fallback as emails. */
export interface CampaignPolicy {
  reviewers: string[];
  fallback: string[];
  onDue: OnDue;
  remindBeforeMs: number[];
  escalateAfterMs?: number;
  inactiveAfterMs: number;
}

export type CampaignState = 'listing' | 'open' | 'closed' | 'failed';

export interface CampaignRecord {
  id: string;
  appId: string;
  appName: string;
  /** null: every role of the application. */
  roleId: string | null;
  /** In words: "Payments console / Viewer". */
  scope: string;
  roles: ReviewedRole[];
  origin: 'cli' | 'schedule';
  startedBy: string;
  state: CampaignState;
  policy: CampaignPolicy;
  createdAt: number;
  dueAt: number;
  jiraKey: string | null;
  /** The last step (audit seq) written to the Jira issue. */
  jiraSyncedSeq: number;
  nextTimerAt: number | null;
  remindedAt: number | null;
  escalatedAt: number | null;
  dueHandledAt: number | null;
  closedAt: number | null;
  failure: string | null;
}

export type NewCampaign = Pick<CampaignRecord, 'id' | 'appId' | 'appName' | 'roleId' | 'scope' | 'roles' | 'origin' | 'startedBy' | 'policy' | 'createdAt' | 'dueAt'>;
export type CampaignPatch = Partial<Pick<CampaignRecord, 'state' | 'jiraKey' | 'jiraSyncedSeq' | 'nextTimerAt' | 'remindedAt' | 'escalatedAt' | 'dueHandledAt' | 'closedAt' | 'failure'>>;

/** One person holding a reviewed role. */
export interface ReviewItem {
  campaignId: string;
  seq: number;
  roleId: string;
  roleName: string;
  connector: string;
  groupId: string;
  idpUserId: string;
  email: string | null;
  name: string | null;
  title: string | null;
  department: string | null;
  manager: string | null;
  lastLoginKnown: boolean;
  /** null with `lastLoginKnown`: never signed in. */
  lastLoginAt: number | null;
  grantRequestId: string | null;
  standing: boolean;
  recommendation: 'keep' | 'revoke';
  recommendationWhy: string;
  decision: 'keep' | 'revoke' | null;
  decidedVia: 'reviewer' | 'on_due' | null;
  /** Who decided, in words ("Bob Jones (bob@example.com)", "policy (onDue: revoke)"). */
  decidedBy: string | null;
  decidedByPerson: PersonId | null;
  decidedAt: number | null;
  reason: string | null;
  revokeState: 'pending' | 'removed' | 'kept' | 'failed' | null;
  revokedAt: number | null;
}

export type NewReviewItem = Omit<ReviewItem, 'seq' | 'decision' | 'decidedVia' | 'decidedBy' | 'decidedByPerson' | 'decidedAt' | 'reason' | 'revokeState' | 'revokedAt'>;
export type ReviewItemPatch = Partial<Pick<ReviewItem, 'decision' | 'decidedVia' | 'decidedBy' | 'decidedByPerson' | 'decidedAt' | 'reason' | 'revokeState' | 'revokedAt'>>;

/** A row as a reviewer's message shows it: with the Jira key and expiry of the grant that holds it. */
export interface ReviewRow extends ReviewItem {
  grantJiraKey: string | null;
  grantExpiresAt: number | null;
}

export type ReviewerVia = 'reviewer' | 'manager' | 'fallback' | 'co_reviewer' | 'escalation';

/** A reviewer of a campaign, with their person and their message. */
export interface ReviewerRecord {
  campaignId: string;
  personId: PersonId;
  email: string | null;
  name: string | null;
  slackId: string | null;
  via: ReviewerVia;
  managerPersonId: PersonId | null;
  page: number;
  channel: string | null;
  ts: string | null;
  askedAt: number;
}

/** How the rows of a review stand (domain `ReviewTally`). */
export type ReviewTallyRow = ReviewTally;

export interface ReviewStore {
  insertCampaign(c: NewCampaign): void;
  getCampaign(id: string): CampaignRecord | undefined;
  /** The campaign with this id or Jira key. */
  findCampaign(idOrKey: string): CampaignRecord | undefined;
  updateCampaign(id: string, patch: CampaignPatch): void;
  /** Campaigns of the scope (an application and a role, or the whole application: null), newest first. */
  campaignsOf(appId: string, roleId: string | null, limit: number): CampaignRecord[];
  /** Campaigns still listing or open whose roles include one of these (connector, group) pairs. */
  openCampaignsOver(groups: readonly { connector: string; group: string }[]): CampaignRecord[];
  /** Open campaigns whose next timer is due at or before `now`. */
  campaignTimersDue(now: number, limit: number): CampaignRecord[];
  /** Every campaign, newest first. */
  listCampaigns(limit: number): CampaignRecord[];
  /** The campaign's steps (audit events under its id) after `afterSeq`, in order, at most `limit`. */
  stepsAfter(campaignId: string, afterSeq: number, limit: number): AuditRecord[];

  /** Adds the members not yet listed in the campaign; returns how many were new. */
  insertItems(items: readonly NewReviewItem[]): number;
  getItem(campaignId: string, seq: number): ReviewItem | undefined;
  updateItem(campaignId: string, seq: number, patch: ReviewItemPatch): void;
  /** Rows of one role of the campaign: how many, and how many the bot's grants hold. */
  roleCounts(campaignId: string, roleId: string): { members: number; granted: number };
  /** Every row, in order (for assigning reviewers when the review opens). */
  allItems(campaignId: string): ReviewItem[];
  /** Undecided rows, in order. */
  undecidedItems(campaignId: string): ReviewItem[];
  tally(campaignId: string): ReviewTallyRow;
  /** Whether every row is decided and no removal is pending (cheap: read on every decision). */
  settled(campaignId: string): boolean;

  assign(campaignId: string, seq: number, personId: PersonId, via: ReviewerVia, at: number): void;
  isAssigned(campaignId: string, seq: number, personId: PersonId): boolean;
  /** Who may decide the row. */
  assigneesOf(campaignId: string, seq: number): PersonId[];
  /** How many rows the reviewer has, and how many of them are undecided. */
  assignedCount(campaignId: string, personId: PersonId): { rows: number; undecided: number };
  /** The reviewer's rows `offset`..`offset + limit`, in order, as their message shows them. */
  assignedRows(campaignId: string, personId: PersonId, offset: number, limit: number): ReviewRow[];
  /** The reviewer's undecided rows, in order. */
  undecidedOf(campaignId: string, personId: PersonId): ReviewItem[];

  /** Records the reviewer unless recorded; returns them as recorded. */
  addReviewer(r: Pick<ReviewerRecord, 'campaignId' | 'personId' | 'via' | 'managerPersonId' | 'askedAt'>): ReviewerRecord;
  reviewerOf(campaignId: string, personId: PersonId): ReviewerRecord | undefined;
  reviewersOf(campaignId: string): ReviewerRecord[];
  setReviewerMessage(campaignId: string, personId: PersonId, channel: string, ts: string): void;
  setReviewerPage(campaignId: string, personId: PersonId, page: number): void;

  /**
   * Active grants of access-bot that hold this membership (their request ids), soonest to expire
   * last. Requests someone asked for only: a standing access record of inactivity reclaim is not one.
   */
  activeGrantsOf(connector: string, groupId: string, idpUserId: string): string[];
}
