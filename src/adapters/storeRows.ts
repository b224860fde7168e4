/**
 * What the SQLite and Postgres stores share: the row shapes (column names, the mapping of a row to
 * a record), the audit chain's hash and its verification, and the algorithm that records and
 * merges people, over each store's own statements.
 */
import { createHash } from 'node:crypto';
import type { ApproverRecord, AuditRecord, PersonFacts, PersonRecord, RequestRecord, TxStore } from '../app/ports/store.js';
import { normalizeEmail, type PersonId } from '../domain/people.js';
import type { Step } from '../domain/steps.js';

export const GENESIS = '0'.repeat(64);

/** Column name for each camelCase field of RequestRecord (the requester's Slack id comes from people). */
export const COLUMNS: Record<Exclude<keyof RequestRecord, 'requesterSlackId'>, string> = {
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
};

export function toRequest(row: Record<string, unknown>): RequestRecord {
  const out: Record<string, unknown> = {};
  for (const [field, col] of Object.entries(COLUMNS)) out[field] = row[col];
  out.policy = JSON.parse(row.policy_json as string) as unknown;
  out.requesterSlackId = (row.requester_slack_id as string | null) ?? null;
  return out as unknown as RequestRecord;
}

/** A request with its requester's Slack id: every read of requests goes through this join. */
export const REQUEST = 'SELECT r.*, p.slack_id AS requester_slack_id FROM requests r JOIN people p ON p.id = r.requester_id';

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
  };
}

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

export function chainHash(prev: string, requestId: string | null, at: number, actor: string, data: string): string {
  return createHash('sha256').update(JSON.stringify([prev, requestId, at, actor, data])).digest('hex');
}

/** Told, inside the writing transaction, of every write that changes what a person sees of a request. */
export type RequestWatcher = (store: TxStore, requestId: string) => void;

/** Recomputes the hash chain over the rows in seq order; returns the first broken seq, or undefined when intact. */
export function verifyChain(rows: Iterable<Record<string, unknown>>): number | undefined {
  let prev = GENESIS;
  for (const r of rows) {
    const expected = chainHash(prev, (r.request_id as string | null) ?? null, r.at as number, r.actor as string, r.data as string);
    // `type` is a column for queries; it must agree with the hashed data.
    const typeMatches = (JSON.parse(r.data as string) as { type?: unknown }).type === r.type;
    if (r.prev_hash !== prev || r.hash !== expected || !typeMatches) return r.seq as number;
    prev = r.hash as string;
  }
  return undefined;
}

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
