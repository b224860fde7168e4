/**
 * The steps of a request's story, as auditors read them: each audit event has a type and facts,
 * and `describeStep` words it the way the Jira comment and the audit log show it (ARCHITECTURE.md
 * §4 "Jira comments"): the step in past tense, then who and when.
 */
import type { PartRef } from './bundle.js';
import type { RequestKind, StatusMeaning } from './catalog.js';
import { describeMs } from './duration.js';
import { movedBackSentence, refusalLead } from './jiraStatus.js';
import { describeBasis, type OnBehalfBasis } from './onBehalf.js';
import { describeSchedule, type OnCallMatch } from './onCall.js';
import type { PersonId } from './people.js';
import { describeReviewStep, type ReviewStep } from './reviewSteps.js';
import type { RemovalOutcome } from './removal.js';

/** Who did a step: the person when recorded, with the identities known at the time. */
export interface Actor {
  personId?: PersonId;
  slackId?: string;
  email?: string;
  name?: string;
}

export type Step =
  /**
   * `actor`: whom the access is for; `onBehalf`: who asked for them, and on what basis (absent:
   * they asked themself); `raisedIn: 'jira'`: the request came from a Jira issue (jira.intake),
   * which is its record. `parts`: a bundle's parts, as "Application / Role". `kind` absent: an
   * access request (rows from before removal and change). A change names the role it leaves
   * (`from`); a removal of someone else's access names whose (`subject`).
   */
  | { type: 'requested'; actor: Actor; app: string; role: string; duration: string; reason: string; onBehalf?: { by: Actor; as: OnBehalfBasis }; raisedIn?: 'jira'; parts?: string[]; kind?: RequestKind; from?: string; subject?: Actor }
  /** An issue of an intake request type whose fields cannot make a request: told once on the issue, per set of problems. */
  | { type: 'intake_refused'; issueKey: string; requestType: string; problems: string[] }
  /**
   * Which of the role's approval rules applied (`rule`: its label), whom it told, the facts that
   * could not be learned, and the on-call shift it matched on (the grant ends with it).
   */
  | { type: 'policy_applied'; rule: string; notified?: string[]; unknown?: string[]; onCall?: OnCallMatch }
  | { type: 'approval_requested'; stage: number; stageCount: number; required: number; approvers: Actor[]; fallback?: boolean }
  | { type: 'vote_recorded'; actor: Actor; approvals: number; required: number; stage: number }
  | { type: 'stage_passed'; stage: number; stageCount: number }
  | { type: 'approved'; actor: Actor }
  | { type: 'auto_approved'; breakGlass?: { notify: string } }
  | { type: 'reminded'; approvers: Actor[] }
  | { type: 'escalated'; approvers: Actor[]; stage: number; afterMs: number }
  | { type: 'reviewed'; actor: Actor }
  | { type: 'retried'; by: string; what: string; part?: PartRef }
  | { type: 'transition_skipped'; transition: string; cause: string }
  /** Someone changed the Jira record behind access-bot's back (tamper evidence). */
  | { type: 'record_changed'; change: 'issue_deleted' | 'comment_deleted' | 'comment_edited'; commentId?: string; by: string }
  | { type: 'denied'; actor: Actor; reason: string }
  /**
   * The IdP took the add but holds it until the person acts (GitHub: an invitation to the
   * organization, to accept); `notice` is the connector's words for it. The grant follows once
   * the membership is in force.
   */
  | { type: 'grant_pending'; connector: string; group: string; idpUserId: string; notice: string }
  /**
   * `part`: the grant is this part of a bundle (its steps are written on the bundle's issue).
   * `shiftEnd`: the expiry is the end of the on-call shift that approved the request, before the
   * duration asked ran out.
   */
  | { type: 'granted'; connector: string; group: string; idpUserId: string; expiresAt: number | null; preexisting: boolean; part?: PartRef; shiftEnd?: boolean }
  /**
   * The grant ended: it expired, a person revoked it, inactivity reclaimed it, or its holder left
   * (`why` says which sign-in or departure). `standing`: access-bot did not grant it (standing access).
   */
  | {
      type: 'revoked';
      cause: RevokeCause;
      actor?: Actor;
      why?: string;
      standing?: boolean;
      connector: string;
      group: string;
      idpUserId: string;
      removed: boolean;
      keptBecause?: 'preexisting' | 'other_grant';
      part?: PartRef;
    }
  /** Every part of a bundle is in place. */
  | { type: 'bundle_complete'; parts: string[]; expiresAt: number | null }
  /** A part of a bundle could not be granted; the others stay (`inPlace`: their labels, with their number). */
  | { type: 'bundle_incomplete'; part: PartRef; grant: string; cause: string; inPlace: string[] }
  /** Every part of a bundle ended: `ended` were revoked, `neverGranted` had not been granted (or had failed). */
  | { type: 'bundle_revoked'; cause: RevokeCause; actor?: Actor; why?: string; ended: number; neverGranted: number }
  | { type: 'timed_out'; afterMs: number }
  /**
   * Withdrawn by its requester, or by access-bot when the requester left (`why`), or when
   * `actor`, who asked for it on `onBehalfOf`'s behalf, left.
   */
  | { type: 'cancelled'; actor: Actor; why?: string; onBehalfOf?: Actor }
  /** More time asked for an active grant: `more` (e.g. "4 hours") on top of its expiry. */
  | { type: 'extension_requested'; actor: Actor; more: string; until: number }
  /** An extension approved (by a person, or by policy when `actor` is absent): the grant now ends `until`. */
  | { type: 'extended'; actor?: Actor; until: number }
  | { type: 'extension_denied'; actor: Actor; reason: string; expiresAt: number }
  /** The holder was warned their access ends soon (`before` ms ahead of `expiresAt`). Not a Jira comment. */
  | { type: 'expiry_warned'; before: number; expiresAt: number }
  | { type: 'failed'; cause: string; part?: PartRef }
  /**
   * A removal (or a change's removal of the role it leaves) carried out; `ended`: the keys of
   * access-bot's grants it ended; `endedStanding`: of inactivity reclaim's records of it as standing access.
   */
  | { type: 'removed'; request: 'removal' | 'change'; connector: string; group: string; idpUserId: string; outcome: RemovalOutcome; ended: string[]; endedStanding?: string[]; fromRole?: string; toRole?: string }
  /** A person moved the issue to a mapped status, and the move was refused (`clause`: why, after "but"). */
  | { type: 'jira_status_refused'; actor: Actor; meaning: StatusMeaning; to: string; from?: string; movedAt: number; clause: string; movedBack: boolean }
  | { type: 'decision_refused'; actor: Actor; code: string }
  | ReviewStep
  /** Standing access (a group member access-bot did not add) recorded for inactivity reclaim: the first step of its issue. */
  | { type: 'standing_found'; connector: string; group: string; idpUserId: string; email?: string; firstSeenAt: number }
  /** The holder was warned the access is unused and goes at `revokeAt` unless used or kept. */
  | { type: 'reclaim_warned'; connector: string; lastLoginAt: number | null; idleSince: number; afterMs: number; revokeAt: number }
  | { type: 'reclaim_kept'; actor: Actor; reason: string }
  /** The holder signed in after the warning (`activeAt`): the warning is withdrawn. */
  | { type: 'reclaim_cleared'; connector: string; activeAt: number }
  /** An approver of the current stage left: no longer asked, no longer counted. */
  | { type: 'approver_left'; actor: Actor; stage: number; why: string }
  /** The approvers left could not reach the stage's quorum: the fallback was asked. */
  | { type: 'rerouted'; stage: number; required: number; approvers: Actor[] };

export type StepType = Step['type'];

/** How a refused intake's comment starts (ARCHITECTURE.md §4): the problems follow, then what to do. */
export const INTAKE_REFUSED = 'Cannot process this request:';
/** The comment's last line. */
export const INTAKE_REFUSED_HINT = 'Edit the fields of this issue: access-bot starts the request as soon as they are valid.';
/** Why a grant ended: it expired, a person revoked it, inactivity reclaimed it, its holder left. */
export type RevokeCause = 'expired' | 'manual' | 'reclaimed' | 'offboarded';

/** A stored `revoke_cause` read back (rows from before reclaim and offboarding say expired or manual). */
export function asRevokeCause(stored: string | null): RevokeCause {
  return stored === 'manual' || stored === 'reclaimed' || stored === 'offboarded' ? stored : 'expired';
}

/** "expired", "by Ann Lee", "reclaimed: unused since …": why a grant or a bundle ended, in the step's words. */
function endedBecause(step: { cause: RevokeCause; actor?: Actor; why?: string }): string {
  return step.cause === 'expired' ? 'expired' : step.cause === 'manual' ? `by ${who(step.actor)}` : `${step.cause}: ${step.why ?? 'no cause recorded'}`;
}

/**
 * Steps that are written to Jira. Refused clicks are audited but are not steps of the request;
 * an expiry warning is a courtesy to the holder, not a change to the access.
 */
export function isRecordedInJira(step: Step): boolean {
  if (step.type === 'record_changed') return step.change !== 'issue_deleted';
  // A refused intake is written on the issue by an effect of its own (no request exists to comment for).
  return step.type !== 'decision_refused' && step.type !== 'expiry_warned' && step.type !== 'intake_refused';
}

/**
 * Whether the request's grant is waiting for a pending membership to come into force: its last
 * grant outcome is `grant_pending`, not yet followed by the grant, a failure or an admin's retry
 * (which starts the grant over, so a new add may send a new invitation).
 */
export function awaitsPendingGrant(steps: readonly Step[]): boolean {
  for (let i = steps.length - 1; i >= 0; i--) {
    const t = steps[i]!.type;
    if (t === 'grant_pending') return true;
    if (t === 'granted' || t === 'failed' || t === 'retried') return false;
  }
  return false;
}

export function formatTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, ' UTC');
}

export function who(a: Actor | undefined): string {
  if (!a) return 'unknown';
  if (a.name && a.email) return `${a.name} (${a.email})`;
  return a.name ?? a.email ?? (a.slackId ? `Slack user ${a.slackId}` : 'unknown');
}

function list(people: Actor[]): string {
  return people.map(who).join(', ');
}

/** Where a step of a bundle's part says which part it is. */
function partSuffix(part: PartRef | undefined): string {
  return part ? ` Bundle part ${part.index} of ${part.count}: ${part.name}.` : '';
}

/** One line: the step in words, past tense, who, when. */
export function describeStep(step: Step, at: number): string {
  const when = formatTime(at);
  switch (step.type) {
    case 'requested': {
      const parts = step.parts?.length ? ` Parts: ${step.parts.join('; ')}.` : '';
      const raised = step.raisedIn === 'jira' ? ' (raised in Jira)' : '';
      const what =
        step.kind === 'removal'
          ? `removal of ${step.app} / ${step.role}${step.subject ? ` for ${who(step.subject)}` : ''}`
          : step.kind === 'change'
            ? `change of ${step.app} from ${step.from ?? 'another role'} to ${step.role}, ${step.duration}`
            : `${step.app} / ${step.role}, ${step.duration}`;
      if (step.onBehalf) {
        return `Requested by ${who(step.onBehalf.by)} on behalf of ${who(step.actor)}, ${describeBasis(step.onBehalf.as)}, on ${when}${raised}: ${what}.${parts}`;
      }
      return `Requested by ${who(step.actor)} on ${when}${raised}: ${what}.${parts}`;
    }
    case 'intake_refused':
      return `${INTAKE_REFUSED} ${step.problems.join(' ')} (${step.issueKey}, ${step.requestType}, on ${when}).`;
    case 'policy_applied': {
      const told = step.notified?.length ? ` Told for information: ${step.notified.join(', ')}.` : '';
      const unknown = step.unknown?.length ? ` Not known, so rules that test it did not match: ${step.unknown.join('; ')}.` : '';
      return `Policy: ${step.rule}. Chosen on ${when}.${onCallShift(step.onCall)}${told}${unknown}`;
    }
    case 'approval_requested': {
      const stage = step.stageCount > 1 ? ` for stage ${step.stage + 1} of ${step.stageCount}` : '';
      const quorum = step.required > 1 ? ` (${step.required} approvals needed)` : '';
      const fb = step.fallback ? ' (fallback approvers: nobody else could be resolved)' : '';
      return `Approval requested from ${list(step.approvers)}${stage}${quorum}${fb} on ${when}.`;
    }
    case 'vote_recorded':
      return `Approved by ${who(step.actor)} on ${when} (${step.approvals} of ${step.required} approvals for stage ${step.stage + 1}).`;
    case 'stage_passed':
      return `Stage ${step.stage + 1} of ${step.stageCount} passed on ${when}.`;
    case 'approved':
      return `Approved by ${who(step.actor)} on ${when}.`;
    case 'auto_approved':
      return step.breakGlass
        ? `Approved by policy (break-glass emergency access) on ${when}; alert sent to ${step.breakGlass.notify}, where a review must be acknowledged.`
        : `Approved by policy (auto-approve) on ${when}.`;
    case 'reminded':
      return `Reminder sent to ${list(step.approvers)} on ${when}.`;
    case 'escalated':
      return `Escalated to ${list(step.approvers)} on ${when}: no decision within ${describeMs(step.afterMs)} at stage ${step.stage + 1}.`;
    case 'record_changed': {
      const what = step.change === 'issue_deleted' ? 'The Jira issue of this request was deleted' : `A comment written by access-bot (id ${step.commentId ?? '?'}) was ${step.change === 'comment_deleted' ? 'deleted' : 'edited'}`;
      return `${what} by ${step.by} on ${when}. access-bot's own audit log still holds every step.`;
    }
    case 'transition_skipped':
      return `Jira transition "${step.transition}" could not be applied on ${when}: ${step.cause}. The request's steps continue as comments here.`;
    case 'retried':
      return `Retried by ${step.by} on ${when}: ${step.what}.${partSuffix(step.part)}`;
    case 'reviewed':
      return `Break-glass access reviewed by ${who(step.actor)} on ${when}.`;
    case 'denied':
      return `Denied by ${who(step.actor)} on ${when} — ${step.reason}`;
    case 'grant_pending':
      return `Access pending: ${step.notice} (on ${when}).`;
    case 'granted': {
      const exp = step.expiresAt === null ? 'expires never (permanent)' : `expires ${formatTime(step.expiresAt)}${step.shiftEnd ? ' (the end of the on-call shift)' : ''}`;
      const pre = step.preexisting ? ' The user was already a member before this grant, so expiry will not remove them.' : '';
      return `Access granted: ${step.connector} group ${step.group} for ${step.idpUserId}, ${exp}. Granted on ${when}.${pre}${partSuffix(step.part)}`;
    }
    case 'revoked': {
      const why = endedBecause(step);
      const standing = step.standing ? ' (standing access, not granted by access-bot)' : '';
      const what = step.removed
        ? `removed ${step.idpUserId} from ${step.connector} group ${step.group}${standing}`
        : step.keptBecause === 'preexisting'
          ? `membership of ${step.connector} group ${step.group} kept: ${step.idpUserId} was a member before this grant`
          : `membership of ${step.connector} group ${step.group} kept: another active grant still needs it`;
      return `Access revoked (${why}) on ${when}: ${what}.${partSuffix(step.part)}`;
    }
    case 'bundle_complete': {
      const exp = step.expiresAt === null ? 'it does not expire' : `every part expires ${formatTime(step.expiresAt)}`;
      return `Bundle complete: all ${step.parts.length} parts granted (${step.parts.join('; ')}) on ${when}; ${exp}.`;
    }
    case 'bundle_incomplete': {
      const inPlace = step.inPlace.length ? step.inPlace.join('; ') : 'none yet';
      return (
        `Bundle incomplete: part ${step.part.index} of ${step.part.count}, ${step.part.name} (${step.grant}), could not be granted on ${when}: ${step.cause}. ` +
        `Parts in place: ${inPlace}. The other parts stay; the missing part is retried alone once its cause is fixed (access-bot effects list, then access-bot effects retry <id>).`
      );
    }
    case 'bundle_revoked': {
      const why = endedBecause(step);
      const never = step.neverGranted > 0 ? `; ${step.neverGranted} had not been granted` : '';
      return `Bundle revoked (${why}) on ${when}: every part ended (${step.ended} revoked${never}).`;
    }
    case 'timed_out':
      return `Timed out: no decision within ${describeMs(step.afterMs)} (on ${when}).`;
    case 'cancelled':
      if (!step.why) return `Cancelled by ${who(step.actor)} on ${when}.`;
      return step.onBehalfOf
        ? `Cancelled by access-bot on ${when}: ${who(step.actor)}, who asked for it on behalf of ${who(step.onBehalfOf)}, ${step.why}.`
        : `Cancelled by access-bot on ${when}: the requester ${who(step.actor)} ${step.why}.`;
    case 'extension_requested':
      return `Extension requested by ${who(step.actor)} on ${when}: ${step.more} more, until ${formatTime(step.until)}.`;
    case 'extended':
      return `Extended by ${step.actor ? who(step.actor) : 'policy (auto-approve)'} until ${formatTime(step.until)} (on ${when}).`;
    case 'extension_denied':
      return `Extension denied by ${who(step.actor)} on ${when} — ${step.reason}. The access still expires ${formatTime(step.expiresAt)}.`;
    case 'expiry_warned':
      return `Expiry warning sent on ${when}: the access ends ${formatTime(step.expiresAt)} (${describeMs(step.before)} before).`;
    case 'failed':
      return `Failed: ${step.cause} (on ${when}).${partSuffix(step.part)}`;
    case 'removed':
      return describeRemoval(step, when);
    case 'jira_status_refused':
      return `${refusalLead(step.meaning)}: ${who(step.actor)} moved this issue to "${step.to}" on ${formatTime(step.movedAt)}, but ${step.clause}.${movedBackSentence(step.to, step.from, step.movedBack)}`;
    case 'decision_refused':
      return `Decision refused for ${who(step.actor)} on ${when} (${step.code}).`;
    case 'standing_found':
      return `Standing access found on ${when}: ${step.idpUserId}${step.email ? ` (${step.email})` : ''} is a member of ${step.connector} group ${step.group}, not granted by access-bot (first listed by the user sync on ${formatTime(step.firstSeenAt)}). Recorded here for inactivity reclaim.`;
    case 'reclaim_warned': {
      const last = step.lastLoginAt === null ? `${step.connector} has no sign-in on record` : `last sign-in to ${step.connector} ${formatTime(step.lastLoginAt)}`;
      return `Inactivity warning sent on ${when}: unused since ${formatTime(step.idleSince)} (${last}); access unused for ${describeMs(step.afterMs)} is reclaimed. It will be removed on ${formatTime(step.revokeAt)} unless its holder keeps it.`;
    }
    case 'reclaim_kept':
      return `Kept by ${who(step.actor)} on ${when} — ${step.reason}. Inactivity is counted again from now.`;
    case 'reclaim_cleared':
      return `Inactivity reclaim called off on ${when}: a sign-in to ${step.connector} on ${formatTime(step.activeAt)} was seen.`;
    case 'approver_left':
      return `Approver ${who(step.actor)} ${step.why}; no longer asked for stage ${step.stage + 1} (on ${when}).`;
    case 'rerouted':
      return `Approval re-routed to ${list(step.approvers)} (fallback) for stage ${step.stage + 1} on ${when}: the approvers still here could not give the ${step.required} approval${step.required === 1 ? '' : 's'} needed.`;
    default:
      return describeReviewStep(step, at, { who, time: formatTime });
  }
}

/** " On call in PagerDuty schedule P1 (Payments primary): shift 2026-… UTC to 2026-… UTC; the access ends with the shift." */
function onCallShift(m: OnCallMatch | undefined): string {
  if (!m) return '';
  const where = describeSchedule(m.service, m.schedule, m.scheduleName);
  if (m.end === null) return ` On call in ${where}: shift from ${formatTime(m.start)}, with no end.`;
  return ` On call in ${where}: shift ${formatTime(m.start)} to ${formatTime(m.end)}; the access ends with the shift if the duration asked runs longer.`;
}

/**
 * "Access removed: okta group G for U (removal request)", and for standing access the bot did not
 * grant "(removal request; standing access, not granted by access-bot)" (ARCHITECTURE.md §4).
 */
function describeRemoval(step: Extract<Step, { type: 'removed' }>, when: string): string {
  const what = step.request === 'change' ? `change request: ${step.fromRole ?? 'the old role'} for ${step.toRole ?? 'the new one'}` : 'removal request';
  const grants = step.ended.length > 0 ? ` access-bot's grant ${step.ended.join(', ')} ended with it.` : '';
  const ended = `${grants}${step.endedStanding?.length ? ` Its inactivity reclaim record ${step.endedStanding.join(', ')} ended with it.` : ''}`;
  switch (step.outcome) {
    case 'ended_grant':
      return `Access removed: ${step.connector} group ${step.group} for ${step.idpUserId} (${what}) on ${when}.${ended}`;
    case 'standing':
      return `Access removed: ${step.connector} group ${step.group} for ${step.idpUserId} (${what}; standing access, not granted by access-bot) on ${when}.${ended}`;
    case 'not_member':
      return `Nothing to remove: ${step.idpUserId} was not a member of ${step.connector} group ${step.group} (${what}) on ${when}.${ended}`;
  }
}
