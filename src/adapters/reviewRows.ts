/**
 * What the SQLite and Postgres review stores share: the column of each patchable field, the
 * mapping of a row to a record, and the joins the reads go through.
 */
import type { CampaignPatch, CampaignRecord, ReviewerRecord, ReviewerVia, ReviewItem, ReviewItemPatch } from '../app/ports/reviews.js';

export const CAMPAIGN_COLUMNS: Record<keyof CampaignPatch, string> = {
  state: 'state',
  jiraKey: 'jira_key',
  jiraSyncedSeq: 'jira_synced_seq',
  nextTimerAt: 'next_timer_at',
  remindedAt: 'reminded_at',
  escalatedAt: 'escalated_at',
  dueHandledAt: 'due_handled_at',
  closedAt: 'closed_at',
  failure: 'failure',
};

export const ITEM_COLUMNS: Record<keyof ReviewItemPatch, string> = {
  decision: 'decision',
  decidedVia: 'decided_via',
  decidedBy: 'decided_by',
  decidedByPerson: 'decided_by_person',
  decidedAt: 'decided_at',
  reason: 'reason',
  revokeState: 'revoke_state',
  revokedAt: 'revoked_at',
};

export type Row = Record<string, unknown>;

export function toCampaign(r: Row): CampaignRecord {
  return {
    id: r.id as string,
    appId: r.app_id as string,
    appName: r.app_name as string,
    roleId: (r.role_id as string | null) ?? null,
    scope: r.scope as string,
    roles: JSON.parse(r.roles_json as string) as CampaignRecord['roles'],
    origin: r.origin as CampaignRecord['origin'],
    startedBy: r.started_by as string,
    state: r.state as CampaignRecord['state'],
    policy: JSON.parse(r.policy_json as string) as CampaignRecord['policy'],
    createdAt: r.created_at as number,
    dueAt: r.due_at as number,
    jiraKey: (r.jira_key as string | null) ?? null,
    jiraSyncedSeq: r.jira_synced_seq as number,
    nextTimerAt: (r.next_timer_at as number | null) ?? null,
    remindedAt: (r.reminded_at as number | null) ?? null,
    escalatedAt: (r.escalated_at as number | null) ?? null,
    dueHandledAt: (r.due_handled_at as number | null) ?? null,
    closedAt: (r.closed_at as number | null) ?? null,
    failure: (r.failure as string | null) ?? null,
  };
}

export function toItem(r: Row): ReviewItem {
  return {
    campaignId: r.campaign_id as string,
    seq: r.seq as number,
    roleId: r.role_id as string,
    roleName: r.role_name as string,
    connector: r.connector as string,
    groupId: r.group_id as string,
    idpUserId: r.idp_user_id as string,
    email: (r.email as string | null) ?? null,
    name: (r.name as string | null) ?? null,
    title: (r.title as string | null) ?? null,
    department: (r.department as string | null) ?? null,
    manager: (r.manager as string | null) ?? null,
    lastLoginKnown: r.last_login_known === 1,
    lastLoginAt: (r.last_login_at as number | null) ?? null,
    grantRequestId: (r.grant_request_id as string | null) ?? null,
    standing: r.standing === 1,
    recommendation: r.recommendation as ReviewItem['recommendation'],
    recommendationWhy: r.recommendation_why as string,
    decision: (r.decision as ReviewItem['decision']) ?? null,
    decidedVia: (r.decided_via as ReviewItem['decidedVia']) ?? null,
    decidedBy: (r.decided_by as string | null) ?? null,
    decidedByPerson: (r.decided_by_person as number | null) ?? null,
    decidedAt: (r.decided_at as number | null) ?? null,
    reason: (r.reason as string | null) ?? null,
    revokeState: (r.revoke_state as ReviewItem['revokeState']) ?? null,
    revokedAt: (r.revoked_at as number | null) ?? null,
  };
}

export function toReviewer(r: Row): ReviewerRecord {
  return {
    campaignId: r.campaign_id as string,
    personId: r.person_id as number,
    email: (r.email as string | null) ?? null,
    name: (r.name as string | null) ?? null,
    slackId: (r.slack_id as string | null) ?? null,
    via: r.via as ReviewerVia,
    managerPersonId: (r.manager_person_id as number | null) ?? null,
    page: r.page as number,
    channel: (r.channel as string | null) ?? null,
    ts: (r.ts as string | null) ?? null,
    askedAt: r.asked_at as number,
  };
}

export const REVIEWER = 'SELECT v.*, p.email, p.name, p.slack_id FROM review_reviewers v JOIN people p ON p.id = v.person_id';
export const ROW = `SELECT i.*, r.jira_key AS grant_jira_key, r.expires_at AS grant_expires_at
  FROM review_assignments a JOIN review_items i ON i.campaign_id = a.campaign_id AND i.seq = a.seq
  LEFT JOIN requests r ON r.id = i.grant_request_id`;
