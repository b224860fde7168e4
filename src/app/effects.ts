/**
 * The side effects use cases ask for, with the queue each runs in. A queue is a line: its
 * effects run one after the other in the order they were enqueued.
 *
 * - `jira:<request>`: the issue first, then its property, comments and transitions in order (a
 *   bundle's parts comment in their bundle's line; for a request raised in Jira, the refusals
 *   told on its issue before it started come first).
 * - `idp:<connector>:<group>:<IdP user id>`: every membership change of one IdP user in one group,
 *   so a grant and a revocation of overlapping requests never race, whatever email each request
 *   came with (an alias, a rename, UPN vs mail).
 * - `idp:@resolve:<request>`: finding the requester's IdP user, before the grant can join the
 *   queue above (`@` is in no connector instance name).
 * - `slack:<request>:<person>`: one person's messages about one request (post, then updates).
 * - `route:<request>`: resolving approvers, stage by stage (and re-routing when approvers left).
 * - `jira-status:<request>`: status changes people made in Jira, in the order they came.
 * - `slack:home:<Slack id>`: publishing one person's App Home (app/home.ts): at most one waits at
 *   a time, and it is due no sooner than a second after the last publish.
 * - Access reviews: `review:<campaign>` (listing the members page by page, then opening the
 *   review), `jira:<campaign>` (its issue, then its comments: one sync effect at a time, which
 *   writes every step not yet written, so thousands of decisions never make a long line), `slack:review:<campaign>:<person>`
 *   (one reviewer's message: posted, then updated, and its reminders), and a revocation in the
 *   membership's own `idp:` queue, behind any grant revocation of the same membership.
 */
import type { StatusMeaning } from '../domain/catalog.js';
import type { RemovalOutcome } from '../domain/removal.js';
import type { Actor } from '../domain/steps.js';
import type { Lane } from '../outbox/dispatcher.js';
import type { QueuePolicy } from '../outbox/repository.js';
import type { TxStore } from './ports/store.js';

export type RequesterNotice =
  | { type: 'submitted' }
  | { type: 'approved'; by: string }
  /** A stage passed and the next one is asked: `passed` and `next` say whom in words, `asked` names the people. */
  | { type: 'stage_passed'; passed: string; next: string; asked: string[] }
  | { type: 'denied'; by: string; reason: string }
  /** The add waits for the requester (ports/idp.ts PendingAdd); `notice` in the connector's words. */
  | { type: 'grant_pending'; notice: string }
  | { type: 'granted'; expiresAt: number | null }
  | { type: 'revoked'; cause: 'expired' | 'manual' | 'reclaimed'; by?: string }
  | { type: 'timed_out' }
  /**
   * Withdrawn by whoever asked for it on the requester's behalf (the requester's own cancel needs
   * no DM), or by access-bot because that person left (`why`: how, app/offboard.ts).
   */
  | { type: 'cancelled'; by: string; why?: string }
  | { type: 'extended'; by: string; expiresAt: number }
  | { type: 'extension_denied'; by: string; reason: string; expiresAt: number }
  | { type: 'failed'; cause: string }
  /** A part of a bundle could not be granted (`part`: its label); the other parts stay. */
  | { type: 'part_missing'; part: string; cause: string }
  /** A removal was carried out (a removal request), or a change removed the role it leaves (`from`). */
  | { type: 'removed'; outcome: RemovalOutcome; from?: string };

export type Effect =
  | { kind: 'request.route'; requestId: string; stage: number }
  | { kind: 'request.escalate'; requestId: string; stage: number }
  /** Approvers of the stage left and it can no longer pass: its fallback is asked (app/reroute.ts). */
  | { kind: 'request.reroute'; requestId: string; stage: number }
  | { kind: 'jira.create'; requestId: string }
  | { kind: 'jira.property'; requestId: string }
  /** `issueOf`: the request whose issue and Jira line it goes to (a bundle's part: the bundle); default `requestId`. */
  | { kind: 'jira.comment'; requestId: string; auditSeq: number; issueOf?: string }
  /** `doneIn`: statuses in which the issue already says what the transition would (a person moved it there). */
  | { kind: 'jira.transition'; requestId: string; transition: string; doneIn?: string[] }
  /**
   * "Cannot process this request: …" on an issue raised in Jira whose fields make no request
   * (the `intake_refused` audit event `auditSeq`). `requestId` is the id reserved for the issue:
   * the comment shares the Jira queue of the request it becomes once corrected.
   */
  | { kind: 'jira.intakeComment'; requestId: string; issueKey: string; auditSeq: number }
  /**
   * A person moved the issue to a mapped status (app/jiraStatus.ts): who they are is looked up,
   * then the move acts on the request as their decision, or is refused.
   */
  | { kind: 'jira.statusChange'; requestId: string; issueKey: string; meaning: StatusMeaning; from?: string; to: string; accountId?: string; displayName?: string; at: number }
  /**
   * Moves the issue back to `status` after a refused move (then records the refusal, `refusal`)
   * or after a vote that did not decide the request yet (silently).
   */
  | { kind: 'jira.moveBack'; requestId: string; status: string; refusal?: StatusRefusalNote }
  | { kind: 'slack.requesterDm'; requestId: string; notice: RequesterNotice }
  /** Re-renders the confirmation DM (e.g. once the Jira key exists). */
  | { kind: 'slack.requesterConfirmationUpdate'; requestId: string }
  /** Re-renders the "Access granted" DM once the grant ended (its Revoke button goes). */
  | { kind: 'slack.requesterGrantUpdate'; requestId: string }
  /** Confirms a request made for someone else to whoever asked (once its Jira issue exists). */
  | { kind: 'slack.submitterDm'; requestId: string }
  | { kind: 'slack.approverDm'; requestId: string; stage: number; slackId: string }
  | { kind: 'slack.approverUpdate'; requestId: string; stage: number; slackId: string }
  | { kind: 'slack.approverReminder'; requestId: string; stage: number; slackId: string }
  /** Tells the holder their grant ends soon (domain/warnings.ts), with Extend; skipped once the expiry moved or the grant ended. */
  | { kind: 'slack.expiryWarning'; requestId: string; expiresAt: number }
  /** Tells the holder their access looks unused and goes at `revokeAt` unless kept (app/reclaim.ts), with Keep it. */
  | { kind: 'slack.reclaimWarning'; requestId: string; revokeAt: number }
  /** Re-renders the inactivity warning once it is settled (kept, withdrawn, revoked): its button goes. */
  | { kind: 'slack.reclaimWarningUpdate'; requestId: string }
  /** The loud message to a break-glass role's `notify` channel, with its Reviewed button. */
  | { kind: 'slack.breakGlassAlert'; requestId: string }
  | { kind: 'slack.breakGlassAlertUpdate'; requestId: string }
  /** `text` is plain text (never mrkdwn): the Slack adapter escapes it. */
  | { kind: 'slack.ephemeral'; user: string; channel?: string; responseUrl?: string; text: string }
  /** `text` is plain text (never mrkdwn): the Slack adapter escapes it. */
  | { kind: 'slack.alert'; channel: string; text: string; requestId?: string }
  /** Renders the person's App Home as it is when it runs, and publishes it (views.publish). */
  | { kind: 'slack.homePublish'; slackId: string }
  /**
   * Finds the requester's IdP user; once found, the grant is enqueued in that user's queue. With
   * `purpose: 'remove'` (a removal, or a change's old role) the removal is enqueued there instead.
   * `accountId`: a removal's subject named in Jira, whose email (`email` empty) is learned first.
   */
  | { kind: 'idp.resolveUser'; requestId: string; connector: string; group: string; email: string; purpose?: 'grant' | 'remove'; accountId?: string }
  /** Removes a membership on the authority of an approved removal or change (app/remove.ts). */
  | { kind: 'idp.remove'; requestId: string; connector: string; group: string; idpUserId: string }
  | { kind: 'idp.grant'; requestId: string; connector: string; group: string; idpUserId: string }
  | { kind: 'idp.revoke'; requestId: string; connector: string; group: string; idpUserId: string }
  /** A grant failed for good: removes what its add may have left, then fails the request with `cause`. */
  | { kind: 'idp.undoGrant'; requestId: string; connector: string; group: string; idpUserId: string; cause: string }
  /** Access reviews: one page of the members of the campaign's role number `role` (app/reviewList.ts). */
  | { kind: 'review.list'; campaignId: string; role: number; cursor?: string }
  /** Resolves the reviewers (Slack accounts, managers), assigns every row, asks them (app/reviewOpen.ts). */
  | { kind: 'review.open'; campaignId: string }
  | { kind: 'review.jiraCreate'; campaignId: string }
  /** Writes the review's steps not yet on its issue, in order, a batch at a time (one waits at a time). */
  | { kind: 'review.jiraSync'; campaignId: string }
  /** Posts a reviewer's message (their current page). */
  | { kind: 'review.post'; campaignId: string; personId: number }
  /** Re-renders a reviewer's message as the review is when it runs. */
  | { kind: 'review.update'; campaignId: string; personId: number }
  | { kind: 'review.remind'; campaignId: string; personId: number }
  /**
   * Removes the membership a revoke decision ended (app/reviewRevoke.ts). `grants`: the grants the
   * decision ended; `standing`: inactivity reclaim's records of the standing access, claimed with
   * the decision, ended once the removal settles (absent in effects enqueued before there were any).
   */
  | { kind: 'review.revoke'; campaignId: string; seq: number; connector: string; group: string; idpUserId: string; grants: string[]; standing?: string[] };

/**
 * `idp.grant` / `idp.revoke` as versions before migration 006 wrote them: by requester email, in
 * an email-keyed queue. Rows like these may still be in the outbox after an upgrade.
 */
export interface LegacyMembershipEffect {
  requestId: string;
  connector: string;
  group: string;
  email: string;
}

export function isLegacyMembership(payload: unknown): payload is LegacyMembershipEffect {
  return typeof payload === 'object' && payload !== null && !('idpUserId' in payload) && typeof (payload as { email?: unknown }).email === 'string';
}

/** What a refused move in Jira records once the issue was moved back (or could not be). */
export interface StatusRefusalNote {
  actor: Actor;
  meaning: StatusMeaning;
  to: string;
  movedAt: number;
  clause: string;
}

export type EffectKind = Effect['kind'];

/** An effect's result when its request moved on before it ran: its completion does nothing. */
export type Skipped = { skipped: string };
export type EffectOf<K extends EffectKind> = Extract<Effect, { kind: K }>;

export function queueOf(e: Effect): string {
  switch (e.kind) {
    case 'request.route':
    case 'request.escalate':
    case 'request.reroute':
      return `route:${e.requestId}`;
    case 'jira.comment':
      return `jira:${e.issueOf ?? e.requestId}`;
    case 'jira.create':
    case 'jira.property':
    case 'jira.transition':
    case 'jira.intakeComment':
    case 'jira.moveBack':
      return `jira:${e.requestId}`;
    case 'jira.statusChange':
      return `jira-status:${e.requestId}`;
    case 'slack.requesterDm':
    case 'slack.requesterConfirmationUpdate':
    case 'slack.requesterGrantUpdate':
    case 'slack.expiryWarning':
    case 'slack.reclaimWarning':
    case 'slack.reclaimWarningUpdate':
      return `slack:${e.requestId}:requester`;
    case 'slack.submitterDm':
      return `slack:${e.requestId}:submitter`;
    case 'slack.approverDm':
    case 'slack.approverUpdate':
    case 'slack.approverReminder':
      return `slack:${e.requestId}:${e.slackId}`;
    case 'slack.breakGlassAlert':
    case 'slack.breakGlassAlertUpdate':
      return `slack:${e.requestId}:alert`;
    case 'slack.ephemeral':
      return `slack:ephemeral:${e.user}`;
    case 'slack.alert':
      return `slack:channel:${e.channel}`;
    case 'slack.homePublish':
      return homeQueue(e.slackId);
    case 'idp.resolveUser':
      return `idp:@resolve:${e.requestId}`;
    case 'idp.grant':
    case 'idp.revoke':
    case 'idp.undoGrant':
    case 'review.revoke':
    case 'idp.remove':
      return `idp:${e.connector}:${e.group}:${e.idpUserId}`;
    case 'review.list':
    case 'review.open':
      return `review:${e.campaignId}`;
    case 'review.jiraCreate':
    case 'review.jiraSync':
      return reviewJiraQueue(e.campaignId);
    case 'review.post':
    case 'review.update':
      return reviewerQueue(e.campaignId, e.personId);
    case 'review.remind':
      // Beside the message's own queue, so a waiting reminder never holds back its updates.
      return `${reviewerQueue(e.campaignId, e.personId)}:thread`;
  }
}

/** A review's issue, then its comments. */
export function reviewJiraQueue(campaignId: string): string {
  return `jira:${campaignId}`;
}

/** One reviewer's message of one review: posted, then updated, in order. */
export function reviewerQueue(campaignId: string, personId: number): string {
  return `slack:review:${campaignId}:${personId}`;
}

export function homeQueue(slackId: string): string {
  return `slack:home:${slackId}`;
}

/**
 * A dead effect holds back only a Jira queue, where the record must stay in order until an admin
 * retries it (a comment never lands before its issue). Elsewhere the effects behind a dead one go
 * on: a failed grant must not freeze that person's later grants and revocations, nor one
 * undeliverable refusal every later message.
 */
export const QUEUE_POLICY: QueuePolicy = { holdBehindDead: ['jira:'] };

/**
 * Identity-provider membership changes get slots of their own (as many again as the shared ones),
 * so grants and revocations stay on time while Jira or Slack calls are slow or hang (bench/: 1,000
 * grants expiring in 10 s with 100 ms services were removed up to 14 s late behind their own Jira
 * and Slack follow-ups).
 */
export const EFFECT_LANES: readonly Lane[] = [{ queuePrefix: 'idp:' }];

/** Enqueues a typed effect in the caller's transaction. */
export function enqueue(store: TxStore, e: Effect, delayMs?: number): number {
  const requestId = 'requestId' in e ? e.requestId : undefined;
  const { kind, ...payload } = e;
  return store.enqueue({ kind, queue: queueOf(e), requestId, payload, delayMs });
}

/** Reads an effect row's payload back as its typed effect. */
export function asEffect<K extends EffectKind>(kind: K, payload: unknown): EffectOf<K> {
  return { ...(payload as object), kind } as EffectOf<K>;
}
