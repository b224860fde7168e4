/**
 * The store port: requests, people, approvers, memberships, the audit chain and the outbox's
 * enqueue, as the use cases need them. Implemented by adapters/sqlite/store.ts; only compose.ts
 * knows the concrete class.
 *
 * Transactions, and why the port has two modes. A use case loads its facts, decides with a pure
 * function and commits once, all inside `tx`: the state change, its audit event and its effects
 * commit together or not at all. better-sqlite3 runs that transaction synchronously, and the ack
 * path depends on it (a click is recorded before Slack gets its 200, with no await in between, so
 * nothing else runs inside the transaction and no promise is pending when the ack goes out).
 *
 * A store on a network database (Postgres, issue 20) can only be asynchronous. So the operations
 * are listed once (`TxStore`) and come in two modes:
 *   - `Store`: synchronous, what SQLite implements and every use case is written against today;
 *   - `AsyncStore`: the same operations returning promises, with `tx(fn)` awaiting `fn`.
 * `tx` hands its callback the transaction's own handle (`TxStore`): an asynchronous store binds a
 * transaction to one connection, so a use case must work through that handle, never the outer
 * store, and use cases do (for SQLite both are the same object). Porting a use case to the
 * asynchronous mode is then adding `await` to its store calls, nothing else; it is not done here
 * because on SQLite each await would only delay the ack.
 */
import type { PartSnapshot } from '../../domain/bundle.js';
import type { ApprovalPolicy, ConnectorName, RequestKind } from '../../domain/catalog.js';
import type { RequestState } from '../../domain/lifecycle.js';
import type { OnBehalfBasis } from '../../domain/onBehalf.js';
import type { PersonId } from '../../domain/people.js';
import type { RemovalOutcome } from '../../domain/removal.js';
import type { Step } from '../../domain/steps.js';
import type { EffectSpec } from '../../outbox/outbox.js';

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
  requesterId: PersonId;
  /** The requester's Slack user id, if they are in Slack (from the person, not the request). */
  requesterSlackId: string | null;
  /** The requester's Atlassian accountId, if known (a request raised in Jira: its reporter). */
  requesterAccountId: string | null;
  /** As identified by routing for this request (a snapshot, like appName); null until then. */
  requesterEmail: string | null;
  requesterName: string | null;
  idpUserId: string | null;
  stage: number;
  jiraKey: string | null;
  stageStartedAt: number | null;
  escalatedStage: number | null;
  nextTimerAt: number | null;
  /** An active grant's next expiry warning point (domain/warnings.ts); null when none is left. */
  nextWarningAt: number | null;
  /** Set for break-glass roles: where the alert goes. */
  breakGlassNotify: string | null;
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
  /** Set on an extension: the grant it asks more time for (whose Jira issue it shares). */
  extendsId: string | null;
  /**
   * Who asked for this access on the requester's behalf (domain/onBehalf.ts); null when the
   * requester asked themself. The requester is the person the access is for, everywhere.
   */
  submitterId: PersonId | null;
  /** The submitter's Slack id, email and name, from the person (like requesterSlackId). */
  submitterSlackId: string | null;
  submitterEmail: string | null;
  submitterName: string | null;
  /** On what basis the submitter could ask: as the requester's manager, or as a catalog delegate. */
  submittedAs: OnBehalfBasis | null;
  /** Set on a bundle request: its parts as they were at submission (domain/bundle.ts). */
  bundleParts: PartSnapshot[] | null;
  /** Set on a part of a bundle: the bundle request (whose Jira issue it shares). */
  partOf: string | null;
  /**
   * The grant ends no later than this (epoch ms): the end of the on-call shift of the rule that
   * approved it (domain/onCall.ts grantEnd). null: the duration asked alone decides.
   */
  endsBy: number | null;
  /** access, removal (of this role) or change (to this role, from the `from*` one). */
  kind: RequestKind;
  /** A change: the role it leaves, and what that role granted when the change was asked. */
  fromRoleId: string | null;
  fromRoleName: string | null;
  fromConnector: string | null;
  fromGroupId: string | null;
  /** A removal of someone else's access: whose (all null: the requester's own). A subject named in Jira is known by accountId until the removal learns the email. */
  subjectEmail: string | null;
  subjectName: string | null;
  subjectAccountId: string | null;
  /** What carrying out the removal (or a change's removal of its old role) found, recorded before the removal is sent; null until then. */
  removalOutcome: RemovalOutcome | null;
  /** When that removal was done. */
  removedAt: number | null;
  /** `standing`: standing access access-bot did not grant, recorded for inactivity reclaim. */
  origin: RequestOrigin;
  /** Why the grant ended, in words (reclaim: the sign-in facts; offboarding: the departure). */
  revokeReason: string | null;
  /** The inactivity warning in force (null: none) and when it said the access goes. */
  reclaimWarnedAt: number | null;
  reclaimAt: number | null;
  /** The holder's last Keep it. */
  reclaimKeptAt: number | null;
}

/** What someone asked for, or standing access recorded for reclaim. */
export type RequestOrigin = 'request' | 'standing';

/** Fields a request reads from its people, never written through the request. */
type FromPeople = 'requesterSlackId' | 'requesterAccountId' | 'submitterSlackId' | 'submitterEmail' | 'submitterName';

export type NewRequest = Pick<
  RequestRecord,
  'id' | 'submissionKey' | 'appId' | 'roleId' | 'appName' | 'roleName' | 'connector' | 'groupId' | 'durationToken' | 'durationMs' | 'reason' | 'policy' | 'requesterId' | 'createdAt' | 'breakGlassNotify' | 'nextTimerAt'
> & { extendsId?: string | null; submitterId?: PersonId | null; submittedAs?: OnBehalfBasis | null; bundleParts?: PartSnapshot[] | null; partOf?: string | null; origin?: RequestOrigin } & Partial<
    Pick<RequestRecord, 'kind' | 'fromRoleId' | 'fromRoleName' | 'fromConnector' | 'fromGroupId' | 'subjectEmail' | 'subjectName' | 'subjectAccountId'>
  >;

/** `policy` changes once, when routing applies the role's approval rules. */
export type RequestPatch = Partial<Omit<RequestRecord, 'id' | 'createdAt' | 'submissionKey' | 'requesterId' | 'extendsId' | 'submitterId' | 'submittedAs' | 'bundleParts' | 'partOf' | 'kind' | 'origin' | FromPeople>>;

/** A person as stored: email is the identity; every other id is a way to reach them. */
export interface PersonRecord {
  id: PersonId;
  /** Lowercased; null until learned (a Slack submission knows the Slack id first). */
  email: string | null;
  slackId: string | null;
  atlassianAccountId: string | null;
  name: string | null;
}

/** A person a pending request waits on (TxStore.pendingParties). */
export interface PendingParty {
  personId: PersonId;
  email: string | null;
  /** The connectors of the requests that wait on them, by name, with their IdP user id there when known (setIdpUserId). */
  accounts: { connector: string; idpUserId: string | null }[];
}

/** What a surface or directory told about a person; absent fields are left as they are. */
export interface PersonFacts {
  email?: string;
  slackId?: string;
  atlassianAccountId?: string;
  name?: string;
}

export type SurfacePurpose = 'requester_dm' | 'approver_card' | 'break_glass_alert' | 'grant_notice' | 'reclaim_warning';

/** Where a message about a request went: Slack is one surface among others. */
export interface SurfaceRef {
  requestId: string;
  surface: 'slack';
  purpose: SurfacePurpose;
  /** The stage of an approver card; 0 otherwise. */
  stage?: number;
  /** Whom the message addresses; absent for a channel (the break-glass alert). */
  personId?: PersonId;
  channel: string;
  ts: string;
}

export interface ApproverRecord {
  requestId: string;
  stage: number;
  personId: PersonId;
  /** null when the person is not in Slack. */
  slackId: string | null;
  email: string;
  name: string | null;
  askedAt: number;
  /** How they were routed: owners | email | manager | slack-group:<g> | fallback | escalation. */
  via: string;
  remindedAt: number | null;
  decision: 'approve' | 'deny' | null;
  decidedAt: number | null;
  reason: string | null;
  /** The approver's Slack card (a surface reference), once posted. */
  dmChannel: string | null;
  dmTs: string | null;
  /** When the approver left (offboarding): no longer asked nor counted as waiting. */
  goneAt: number | null;
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

/** A Slack user's App Home: when they first opened it and when it was last published. */
export interface HomeRecord {
  slackId: string;
  openedAt: number;
  publishedAt: number | null;
}

/** An issue of a `jira.intake` request type the bot has seen (app/jiraIntake.ts). */
export interface JiraIntakeRecord {
  /** Jira's issue id. */
  issueId: string;
  issueKey: string;
  /** Reserved at first sight; the request has this id once it starts. */
  requestId: string;
  /** The problems last told on the issue; null when none were. */
  problems: string[] | null;
  /** Jira's `updated` time of the issue as last read (an older view is stale). */
  issueUpdated: number;
  seenAt: number;
}

/** Every store operation, as a transaction sees them (synchronous mode). */
export interface TxStore {
  insertRequest(r: NewRequest): void;
  getRequest(id: string): RequestRecord | undefined;
  findBySubmissionKey(key: string): RequestRecord | undefined;
  findByJiraKey(key: string): RequestRecord | undefined;
  /** The person's requests as requester, newest first. */
  requestsOf(personId: PersonId, limit: number): RequestRecord[];
  /** The extensions asked for a grant, oldest first. */
  extensionsOf(requestId: string): RequestRecord[];
  /** The parts of a bundle request, in the bundle's order (empty before it is approved). */
  partsOf(requestId: string): RequestRecord[];
  /** Pending requests (not the person's own) whose current stage asks the person and has no vote of theirs, oldest asked first. */
  awaitingDecisionOf(personId: PersonId, limit: number): RequestRecord[];
  /** Requests the person asked for on someone else's behalf, newest first. */
  submittedBy(personId: PersonId, limit: number): RequestRecord[];
  /** Those of them still pending (bundles' parts left out: they go with their bundle), oldest first: what offboarding cancels. */
  pendingSubmittedBy(personId: PersonId): RequestRecord[];
  /**
   * The catalog groups the user sync last saw the person in (not gone): by their email as the IdP
   * listed it, or by an IdP user id recorded for them. Standing access included.
   */
  seenMembershipsOf(personId: PersonId | null, email: string | null): { connector: string; groupId: string; idpUserId: string }[];
  /**
   * access-bot removed this membership: the user sync's listing stops showing it (until a later
   * listing sees it again), so nobody is offered to give up access that is already gone, and
   * inactivity reclaim does not take it for standing access.
   */
  membershipRemoved(connector: string, groupId: string, idpUserId: string, at: number): void;
  /**
   * Active grants (access and change requests, not being revoked) of this membership, other than
   * `exceptId`: the ones a removal of it ends. Inactivity reclaim's active records of standing
   * access (origin `standing`) are included, as they end too; a caller that wants access-bot's
   * grants only looks at `origin`.
   */
  activeGrantsOf(connector: string, groupId: string, idpUserId: string, exceptId: string): RequestRecord[];
  /** Active grants the person voted to approve, soonest to expire first. */
  activeApprovedBy(personId: PersonId, limit: number): RequestRecord[];
  /** The person's requests (extensions included) that are pending, approved or active: what offboarding ends. */
  openRequestsOfPerson(personId: PersonId): RequestRecord[];
  /**
   * Requests that hold or are about to hold a membership (approved or active, IdP user known; not removals),
   * by id after `afterId`: what inactivity reclaim and the account-status check page through.
   */
  holdings(afterId: string, limit: number): RequestRecord[];
  /**
   * People pending requests wait on: their requesters and submitters, and the approvers of their
   * current stage who have not decided and are not gone. Each with the connectors of those
   * requests (a bundle's: its parts') and the IdP user id known for them there, if any. `limit`
   * people by id after `afterId`: what the account-status check pages through besides holdings.
   */
  pendingParties(afterId: PersonId, limit: number): PendingParty[];
  /** Whether access-bot wrote this comment on the request's issue (from the recorded effect results). */
  isOwnComment(requestId: string, commentId: string): boolean;

  getPerson(id: PersonId): PersonRecord | undefined;
  personBySlackId(slackId: string): PersonRecord | undefined;
  personByEmail(email: string): PersonRecord | undefined;
  /**
   * Records what is known about a person and returns them. Records that share an identity with
   * the facts are one person: one known by Slack id alone is merged into the one holding the
   * email (its requests, votes and messages follow); a record with another email keeps its own
   * email but gives up the Slack id or accountId the facts claim.
   */
  recordPerson(facts: PersonFacts, at: number): PersonRecord;
  /** The person's user id in an IdP, as resolved by email. */
  setIdpUserId(personId: PersonId, connector: string, idpUserId: string, at: number): void;
  idpUserIdOf(personId: PersonId, connector: string): string | undefined;

  /** Records (or moves) where a message went. */
  setSurfaceRef(ref: SurfaceRef, at: number): void;
  surfaceRef(requestId: string, surface: SurfaceRef['surface'], purpose: SurfacePurpose, stage?: number, personId?: PersonId): { channel: string; ts: string } | undefined;
  /** Effects of this kind for the request that are still pending or running. */
  openEffects(requestId: string, kind: string): number;
  updateRequest(id: string, patch: RequestPatch, now: number): void;

  insertApprover(a: Pick<ApproverRecord, 'requestId' | 'stage' | 'personId' | 'askedAt' | 'via'>): void;
  markReminded(requestId: string, stage: number, personId: PersonId, at: number): void;
  /** Approvers with their person (email, name, Slack id) and their Slack card, in asking order. */
  approversOf(requestId: string, stage?: number): ApproverRecord[];
  recordVote(requestId: string, stage: number, personId: PersonId, decision: 'approve' | 'deny', at: number, reason: string | null): void;
  /** The approver left (offboarding): no longer asked at this stage. */
  markApproverGone(requestId: string, stage: number, personId: PersonId, at: number): void;

  /**
   * Requests other than `exceptId` that hold or are about to hold this membership: approved,
   * active or revoking for the same IdP user, and not being revoked. A request counts once its
   * IdP user is known (set in the transaction that enqueues its grant). A removal holds nothing.
   * An active record of standing access (origin `standing`) counts: a grant's end keeps the
   * membership it stands for, and its own end keeps one a grant still needs.
   */
  otherHoldersOf(connector: string, groupId: string, idpUserId: string, exceptId: string): number;
  /** Whether a request holds, is about to hold, or is giving back this membership (approved, active or revoking). */
  anyRequestHolds(connector: string, groupId: string, idpUserId: string): boolean;
  getMembership(connector: string, groupId: string, idpUserId: string): { owned: boolean } | undefined;
  /** Records ownership unless a record exists; returns the record in force. */
  recordMembership(connector: string, groupId: string, idpUserId: string, owned: boolean, at: number): { owned: boolean };
  deleteMembership(connector: string, groupId: string, idpUserId: string): void;

  /** Active grants whose expiry is at or before `now`, oldest first. */
  dueGrants(now: number, limit: number): RequestRecord[];
  nextExpiry(): number | undefined;
  /** Requests whose expiry warning point is at or before `now` (those no longer active too, to be disarmed). */
  warningsDue(now: number, limit: number): RequestRecord[];
  /** Pending requests with a reminder, escalation or timeout due at or before `now`. */
  timersDue(now: number, limit: number): RequestRecord[];

  appendAudit(requestId: string | null, at: number, actor: string, step: Step): AuditRecord;
  getAudit(seq: number): AuditRecord | undefined;
  auditOf(requestId: string): AuditRecord[];
  /** Recomputes the hash chain; returns the first broken seq, or undefined when intact. */
  verifyAuditChain(): number | undefined;

  /** Records that the Slack user opened the bot's Home tab (their Home is kept current from now on). */
  recordHomeOpened(slackId: string, at: number): void;
  /** The Slack user's Home, if they ever opened it. */
  homeOf(slackId: string): HomeRecord | undefined;
  /**
   * Records a views.publish answered at `at`, and holds the queue's pending effects (the next
   * publish) until `notBefore`.
   */
  homePublished(slackId: string, queue: string, at: number, notBefore: number): void;
  /** The Slack ids, among the request's requester, submitter and approvers, of those who opened their Home. */
  homesConcerned(requestId: string): string[];
  /** Whether the queue holds an effect still waiting to run (`pending`) or running now; dead ones do not count. */
  openEffectIn(queue: string): 'pending' | 'running' | undefined;

  /** The issue of a `jira.intake` request type, if the bot has seen it. */
  jiraIntake(issueId: string): JiraIntakeRecord | undefined;
  /** Records (or updates) what the bot knows of an intake issue. */
  saveJiraIntake(r: JiraIntakeRecord, at: number): void;
  /** A mark of the Jira poll (app/jiraPoll.ts), epoch ms. */
  pollMark(name: string): number | undefined;
  setPollMark(name: string, at: number): void;
  /**
   * Claims a scheduled job's run for the schedule's tick `slot` (epoch ms): true for the first
   * claimant of a slot later than any claimed before for the job, false otherwise (another replica
   * took it, or a later one). `holder` names the claimant (hostname:pid), for a look afterwards.
   */
  claimRun(job: string, slot: number, holder: string, at: number): boolean;

  /** True the first time a delivery key is seen (Slack retries, webhook redeliveries). */
  firstDelivery(key: string, at: number): boolean;
  /** Forgets deliveries seen before `before`; returns how many. */
  pruneSeen(before: number): number;

  enqueue(effect: EffectSpec): number;
}

/** The synchronous store (SQLite). */
export interface Store extends TxStore {
  /**
   * Runs `fn` in one transaction: the state change, its audit event and its effects commit
   * together, or (when `fn` throws) none of them does.
   */
  tx<T>(fn: (s: TxStore) => T): T;
  /**
   * Runs `fn` (which writes through `tx`) after the current turn of the event loop, in a
   * transaction shared with the other calls made in that turn and committed once for all of them
   * (adapters/txBatch.ts); resolves with its result once committed. For what is recorded before an
   * ack: a burst of Slack requests pays for one commit, not one each. `fn` throwing rolls back its
   * own writes only.
   */
  batched<T>(fn: () => T): Promise<T>;
}

/** An operation of the synchronous mode, returning a promise. */
type Async<F> = F extends (...args: infer A) => infer R ? (...args: A) => Promise<R> : never;

/** The same operations in the asynchronous mode (a network database). */
export type AsyncTxStore = { [K in keyof TxStore]: Async<TxStore[K]> };

/** The asynchronous store: `tx` commits once the promise `fn` returns has settled, rolls back if it rejects. */
export interface AsyncStore extends AsyncTxStore {
  tx<T>(fn: (s: AsyncTxStore) => Promise<T>): Promise<T>;
}
