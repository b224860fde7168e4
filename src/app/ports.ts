/**
 * What the use cases need from the outside world. Implemented by adapters; only compose.ts
 * knows the concrete classes.
 */
import type { ApprovalPolicy, ConnectorName } from '../domain/catalog.js';
import type { RequestState } from '../domain/lifecycle.js';
import type { Step } from '../domain/steps.js';
import type { EffectSpec } from '../outbox/outbox.js';

export interface RequestRecord {
  id: string;
  submissionKey: string | null;
  state: RequestState;
  appId: string;
  roleId: string;
  appName: string;
  roleName: string;
  connector: ConnectorName;
  groupId: string;
  durationToken: string;
  durationMs: number | null;
  reason: string;
  policy: ApprovalPolicy;
  requesterSlackId: string;
  requesterEmail: string | null;
  requesterName: string | null;
  idpUserId: string | null;
  stage: number;
  jiraKey: string | null;
  requesterDmChannel: string | null;
  requesterDmTs: string | null;
  stageStartedAt: number | null;
  escalatedStage: number | null;
  nextTimerAt: number | null;
  /** Set for break-glass roles: where the alert goes. */
  breakGlassNotify: string | null;
  alertChannel: string | null;
  alertTs: string | null;
  reviewedAt: number | null;
  reviewedBy: string | null;
  createdAt: number;
  updatedAt: number;
  decidedAt: number | null;
  decidedBy: string | null;
  grantedAt: number | null;
  expiresAt: number | null;
  revokeRequestedAt: number | null;
  revokeCause: string | null;
  revokedBy: string | null;
  revokedAt: number | null;
  failure: string | null;
}

export type NewRequest = Pick<
  RequestRecord,
  'id' | 'submissionKey' | 'appId' | 'roleId' | 'appName' | 'roleName' | 'connector' | 'groupId' | 'durationToken' | 'durationMs' | 'reason' | 'policy' | 'requesterSlackId' | 'createdAt' | 'breakGlassNotify' | 'nextTimerAt'
>;

export type RequestPatch = Partial<Omit<RequestRecord, 'id' | 'createdAt' | 'policy' | 'submissionKey'>>;

export interface ApproverRecord {
  requestId: string;
  stage: number;
  slackId: string;
  email: string;
  name: string | null;
  askedAt: number;
  /** How they were routed: owners | email | manager | slack-group:<g> | fallback | escalation. */
  via: string;
  remindedAt: number | null;
  decision: 'approve' | 'deny' | null;
  decidedAt: number | null;
  reason: string | null;
  dmChannel: string | null;
  dmTs: string | null;
}

export interface AuditRecord {
  seq: number;
  requestId: string | null;
  at: number;
  step: Step;
  actor: string;
  prevHash: string;
  hash: string;
}

export interface Store {
  /** Runs `fn` in one transaction: state change, audit event and effects commit together. */
  tx<T>(fn: () => T): T;

  insertRequest(r: NewRequest): void;
  getRequest(id: string): RequestRecord | undefined;
  findBySubmissionKey(key: string): RequestRecord | undefined;
  findByJiraKey(key: string): RequestRecord | undefined;
  /** Whether access-bot wrote this comment on the request's issue (from the recorded effect results). */
  isOwnComment(requestId: string, commentId: string): boolean;
  /** The requester's "Access granted" DM, once posted (to take its Revoke button away later). */
  grantNotice(requestId: string): { channel: string; ts: string } | undefined;
  /** Effects of this kind for the request that are still pending or running. */
  openEffects(requestId: string, kind: string): number;
  updateRequest(id: string, patch: RequestPatch, now: number): void;

  insertApprover(a: Omit<ApproverRecord, 'decision' | 'decidedAt' | 'reason' | 'dmChannel' | 'dmTs' | 'remindedAt'>): void;
  markReminded(requestId: string, stage: number, slackId: string, at: number): void;
  approversOf(requestId: string, stage?: number): ApproverRecord[];
  recordVote(requestId: string, stage: number, slackId: string, decision: 'approve' | 'deny', at: number, reason: string | null): void;
  setApproverMessage(requestId: string, stage: number, slackId: string, channel: string, ts: string): void;

  /**
   * Requests other than `exceptId` that hold or are about to hold this membership: approved,
   * active or revoking for the same IdP user, and not being revoked. A request counts once its
   * IdP user is known (set in the transaction that enqueues its grant).
   */
  otherHoldersOf(connector: string, groupId: string, idpUserId: string, exceptId: string): number;
  getMembership(connector: string, groupId: string, idpUserId: string): { owned: boolean } | undefined;
  /** Records ownership unless a record exists; returns the record in force. */
  recordMembership(connector: string, groupId: string, idpUserId: string, owned: boolean, at: number): { owned: boolean };
  deleteMembership(connector: string, groupId: string, idpUserId: string): void;

  /** Active grants whose expiry is at or before `now`, oldest first. */
  dueGrants(now: number, limit: number): RequestRecord[];
  nextExpiry(): number | undefined;
  /** Pending requests with a reminder, escalation or timeout due at or before `now`. */
  timersDue(now: number, limit: number): RequestRecord[];

  appendAudit(requestId: string | null, at: number, actor: string, step: Step): AuditRecord;
  getAudit(seq: number): AuditRecord | undefined;
  auditOf(requestId: string): AuditRecord[];
  /** Recomputes the hash chain; returns the first broken seq, or undefined when intact. */
  verifyAuditChain(): number | undefined;

  /** True the first time a delivery key is seen (Slack retries, webhook redeliveries). */
  firstDelivery(key: string, at: number): boolean;
  /** Forgets deliveries seen before `before`; returns how many. */
  pruneSeen(before: number): number;

  enqueue(effect: EffectSpec): number;
}
