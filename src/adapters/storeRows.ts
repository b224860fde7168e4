/**
 * What the SQLite and Postgres stores share: the row shapes (column names, the mapping of a row to
 * a record, the join every request read goes through), the audit chain's hash, and the algorithm
 * that records and merges people, over each store's own statements.
 */
import { createHash } from 'node:crypto';
import type { ApproverRecord, AuditRecord, JiraIntakeRecord, NewRequest, PersonFacts, PersonRecord, RequestRecord, TxStore } from '../app/ports/store.js';
import { normalizeEmail, type PersonId } from '../domain/people.js';
import type { Step } from '../domain/steps.js';

type KindField = 'kind' | 'fromRoleId' | 'fromRoleName' | 'fromConnector' | 'fromGroupId' | 'subjectEmail' | 'subjectName' | 'subjectAccountId' | 'removalOutcome' | 'removedAt';

/** Column name of each field of a request's kind (migrations/018_request_kinds.sql): a change's old role, a removal's subject and what carrying it out found. */
export const KIND_COLUMNS: Record<KindField, string> = {
  kind: 'kind',
  fromRoleId: 'from_role_id',
  fromRoleName: 'from_role_name',
  fromConnector: 'from_connector',
  fromGroupId: 'from_group_id',
  subjectEmail: 'subject_email',
  subjectName: 'subject_name',
  subjectAccountId: 'subject_account_id',
  removalOutcome: 'removal_outcome',
  removedAt: 'removed_at',
};

/** The insert's parameters for a new request's kind columns (an access request when none is given). */
export function kindValues(r: NewRequest): Pick<RequestRecord, Exclude<KindField, 'removalOutcome' | 'removedAt'>> {
  return {
    kind: r.kind ?? 'access',
    fromRoleId: r.fromRoleId ?? null,
    fromRoleName: r.fromRoleName ?? null,
    fromConnector: r.fromConnector ?? null,
    fromGroupId: r.fromGroupId ?? null,
    subjectEmail: r.subjectEmail ? normalizeEmail(r.subjectEmail) : null,
    subjectName: r.subjectName ?? null,
    subjectAccountId: r.subjectAccountId ?? null,
  };
}

/** Column name for each camelCase field of RequestRecord (what the request reads from its people is not one). */
export const COLUMNS: Record<Exclude<keyof RequestRecord, 'requesterSlackId' | 'requesterAccountId' | 'submitterSlackId' | 'submitterEmail' | 'submitterName'>, string> = {
  id: 'id',
  submissionKey: 'submission_key',
  state: 'state',
  appId: 'app_id',
  roleId: 'role_id',
  appName: 'app_name',
  roleName: 'role_name',
  connector: 'connector',
  groupId: 'group_id',
  durationToken: 'duration_token',
  durationMs: 'duration_ms',
  reason: 'reason',
  policy: 'policy_json',
  requesterId: 'requester_id',
  requesterEmail: 'requester_email',
  requesterName: 'requester_name',
  idpUserId: 'idp_user_id',
  stage: 'stage',
  jiraKey: 'jira_key',
  stageStartedAt: 'stage_started_at',
  escalatedStage: 'escalated_stage',
  nextTimerAt: 'next_timer_at',
  nextWarningAt: 'next_warning_at',
  breakGlassNotify: 'break_glass_notify',
  reviewedAt: 'reviewed_at',
  reviewedBy: 'reviewed_by',
  createdAt: 'created_at',
  updatedAt: 'updated_at',
  decidedAt: 'decided_at',
  decidedBy: 'decided_by',
  grantedAt: 'granted_at',
  expiresAt: 'expires_at',
  revokeRequestedAt: 'revoke_requested_at',
  revokeCause: 'revoke_cause',
  revokedBy: 'revoked_by',
  revokedAt: 'revoked_at',
  failure: 'failure',
  extendsId: 'extends_id',
  submitterId: 'submitted_by',
  submittedAs: 'submitted_as',
  bundleParts: 'bundle_json',
  partOf: 'part_of',
  endsBy: 'ends_by',
  ...KIND_COLUMNS,
  origin: 'origin',
  revokeReason: 'revoke_reason',
  reclaimWarnedAt: 'reclaim_warned_at',
  reclaimAt: 'reclaim_at',
  reclaimKeptAt: 'reclaim_kept_at',
};

/**
 * A request row as the port's record. Written out field by field, not looped over COLUMNS: the
 * loop made every record a dictionary-mode object (V8 turns an object built by more than a dozen
 * computed-key stores into a hash table), slow to build and slow to read everywhere after, and
 * every effect reads its request (test/unit/store-rows.test.ts holds this to COLUMNS).
 */
export function toRequest(row: Record<string, unknown>): RequestRecord {
  const r = row as any; // eslint-disable-line @typescript-eslint/no-explicit-any -- a requests row: its columns are the record's fields by COLUMNS (test/unit/store-rows.test.ts holds them together)
  return {
    id: r.id,
    submissionKey: r.submission_key,
    state: r.state,
    appId: r.app_id,
    roleId: r.role_id,
    appName: r.app_name,
    roleName: r.role_name,
    connector: r.connector,
    groupId: r.group_id,
    durationToken: r.duration_token,
    durationMs: r.duration_ms,
    reason: r.reason,
    policy: JSON.parse(r.policy_json) as RequestRecord['policy'],
    requesterId: r.requester_id,
    requesterSlackId: r.requester_slack_id ?? null,
    requesterAccountId: r.requester_account_id ?? null,
    requesterEmail: r.requester_email,
    requesterName: r.requester_name,
    idpUserId: r.idp_user_id,
    stage: r.stage,
    jiraKey: r.jira_key,
    stageStartedAt: r.stage_started_at,
    escalatedStage: r.escalated_stage,
    nextTimerAt: r.next_timer_at,
    nextWarningAt: r.next_warning_at,
    breakGlassNotify: r.break_glass_notify,
    reviewedAt: r.reviewed_at,
    reviewedBy: r.reviewed_by,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    decidedAt: r.decided_at,
    decidedBy: r.decided_by,
    grantedAt: r.granted_at,
    expiresAt: r.expires_at,
    revokeRequestedAt: r.revoke_requested_at,
    revokeCause: r.revoke_cause,
    revokedBy: r.revoked_by,
    revokedAt: r.revoked_at,
    failure: r.failure,
    extendsId: r.extends_id,
    submitterId: r.submitted_by,
    submitterSlackId: r.submitter_slack_id ?? null,
    submitterEmail: r.submitter_email ?? null,
    submitterName: r.submitter_name ?? null,
    submittedAs: r.submitted_as,
    bundleParts: r.bundle_json === null || r.bundle_json === undefined ? null : (JSON.parse(r.bundle_json) as RequestRecord['bundleParts']),
    partOf: r.part_of,
    endsBy: r.ends_by,
    kind: r.kind,
    fromRoleId: r.from_role_id,
    fromRoleName: r.from_role_name,
    fromConnector: r.from_connector,
    fromGroupId: r.from_group_id,
    subjectEmail: r.subject_email,
    subjectName: r.subject_name,
    subjectAccountId: r.subject_account_id,
    removalOutcome: r.removal_outcome,
    removedAt: r.removed_at,
    origin: r.origin,
    revokeReason: r.revoke_reason,
    reclaimWarnedAt: r.reclaim_warned_at,
    reclaimAt: r.reclaim_at,
    reclaimKeptAt: r.reclaim_kept_at,
  };
}

/** A request with its requester's Slack id and accountId and its submitter: every read of requests goes through this join. */
export const REQUEST = `SELECT r.*, p.slack_id AS requester_slack_id, p.atlassian_account_id AS requester_account_id, s.slack_id AS submitter_slack_id, s.email AS submitter_email, s.name AS submitter_name
  FROM requests r JOIN people p ON p.id = r.requester_id LEFT JOIN people s ON s.id = r.submitted_by`;

export function toPerson(r: Record<string, unknown>): PersonRecord {
  return {
    id: r.id as number,
    email: (r.email as string | null) ?? null,
    slackId: (r.slack_id as string | null) ?? null,
    atlassianAccountId: (r.atlassian_account_id as string | null) ?? null,
    name: (r.name as string | null) ?? null,
  };
}

export function toApprover(r: Record<string, unknown>): ApproverRecord {
  return {
    requestId: r.request_id as string,
    stage: r.stage as number,
    personId: r.person_id as number,
    slackId: (r.slack_id as string | null) ?? null,
    // Approvers are routed by email: their person always has one.
    email: (r.email as string | null) ?? '',
    name: (r.name as string | null) ?? null,
    askedAt: r.asked_at as number,
    via: (r.via as string | null) ?? 'email',
    remindedAt: (r.reminded_at as number | null) ?? null,
    decision: (r.decision as ApproverRecord['decision']) ?? null,
    decidedAt: (r.decided_at as number | null) ?? null,
    reason: (r.reason as string | null) ?? null,
    dmChannel: (r.dm_channel as string | null) ?? null,
    dmTs: (r.dm_ts as string | null) ?? null,
    goneAt: (r.gone_at as number | null) ?? null,
  };
}

/** An audit_events row as the port's record. */
export function toAudit(r: Record<string, unknown>): AuditRecord {
  return {
    seq: r.seq as number,
    requestId: (r.request_id as string | null) ?? null,
    at: r.at as number,
    actor: r.actor as string,
    step: JSON.parse(r.data as string) as Step,
    prevHash: r.prev_hash as string,
    hash: r.hash as string,
  };
}

/** A jira_intake row as the port's record. */
export function toJiraIntake(r: Record<string, unknown>): JiraIntakeRecord {
  const problems = r.problems === null ? null : (JSON.parse(r.problems as string) as string[]);
  return { issueId: r.issue_id as string, issueKey: r.issue_key as string, requestId: r.request_id as string, problems, issueUpdated: r.issue_updated as number, seenAt: r.seen_at as number };
}

/** The audit chain's hash (domain/audit.ts): of the previous hash and the event's own contents. */
export function chainHash(prev: string, requestId: string | null, at: number, actor: string, data: string): string {
  return createHash('sha256').update(JSON.stringify([prev, requestId, at, actor, data])).digest('hex');
}

/** Told, inside the writing transaction, of every write that changes what a person sees of a request. */
export type RequestWatcher = (store: TxStore, requestId: string) => void;

export interface PersonKeys {
  email: string | null;
  slackId: string | null;
  accountId: string | null;
}

export interface MergedPerson {
  id: PersonId;
  email: string | null;
  slackId: string | null;
  accountId: string | null;
  name: string | null;
  at: number;
}

/** A store's writes on people, for `recordPersonWith`. */
export interface PersonWrites {
  /** People sharing the email, Slack id or accountId, by id. */
  matching(keys: PersonKeys): PersonRecord[];
  /** The person gives up the Slack id and accountId among `keys` they hold. */
  release(id: PersonId, keys: Pick<PersonKeys, 'slackId' | 'accountId'>, at: number): void;
  insert(keys: PersonKeys, name: string | null, at: number): PersonRecord;
  /** Moves what refers to `from` (requests, votes, cards, IdP ids) to `into`, rows that would collide keeping `into`'s, and deletes `from`. */
  merge(from: PersonId, into: PersonId): void;
  update(merged: MergedPerson): PersonRecord;
}

/** TxStore.recordPerson over a store's writes (app/ports/store.ts says what it does). */
export function recordPersonWith(w: PersonWrites, facts: PersonFacts, at: number): PersonRecord {
  const email = facts.email === undefined ? null : normalizeEmail(facts.email);
  const keys = { email, slackId: facts.slackId ?? null, accountId: facts.atlassianAccountId ?? null };
  const found = w.matching(keys);
  const wanted = (p: PersonRecord): MergedPerson => ({
    id: p.id,
    email: p.email ?? email,
    slackId: keys.slackId ?? p.slackId,
    accountId: keys.accountId ?? p.atlassianAccountId,
    name: facts.name ?? p.name,
    at,
  });
  // The record holding the email; else one not yet knowing its email; else (facts without an
  // email) the one these ids lead to.
  const into = email !== null ? (found.find((p) => p.email === email) ?? found.find((p) => p.email === null)) : (found.find((p) => p.email !== null) ?? found[0]);
  const release = (other: PersonRecord) => w.release(other.id, { slackId: keys.slackId, accountId: keys.accountId }, at);
  if (!into) {
    // Every match has another email: another person, who gives up the ids these facts claim.
    found.forEach(release);
    return w.insert(keys, facts.name ?? null, at);
  }
  let merged = { ...wanted(into) };
  for (const other of found) {
    if (other.id === into.id) continue;
    if (other.email !== null && other.email !== merged.email) {
      release(other);
      continue;
    }
    w.merge(other.id, into.id);
    merged = { ...merged, slackId: merged.slackId ?? other.slackId, accountId: merged.accountId ?? other.atlassianAccountId, name: merged.name ?? other.name };
  }
  const unchanged =
    found.length === 1 && merged.email === into.email && merged.slackId === into.slackId && merged.accountId === into.atlassianAccountId && merged.name === into.name;
  // The common case (a known person, nothing new) writes nothing.
  if (unchanged) return into;
  return w.update(merged);
}
