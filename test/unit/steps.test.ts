import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { awaitsPendingGrant, describeStep, formatTime, isRecordedInJira, who, type Actor, type Step, type StepType } from '../../src/domain/steps.js';

const AT = Date.UTC(2024, 0, 2, 3, 4, 5, 678);
const WHEN = '2024-01-02 03:04:05 UTC';
const EXPIRES = Date.UTC(2024, 0, 2, 11, 4, 5);

const ann: Actor = { slackId: 'U_ANN', email: 'ann@example.com', name: 'Ann Lee' };
const bob: Actor = { slackId: 'U_BOB', email: 'bob@example.com', name: 'Bob' };
const cat: Actor = { email: 'cat@example.com' };

/**
 * ARCHITECTURE.md §4 "Jira comments": each comment starts with the step in words, past tense,
 * then who and when. One row per wording the auditors rely on.
 */
const WORDING: [string, Step, string][] = [
  [
    'requested: "Requested by …"',
    { type: 'requested', actor: ann, app: 'Okta admin console', role: 'Read-only', duration: '8 hours', reason: 'on-call' },
    `Requested by Ann Lee (ann@example.com) on ${WHEN}: Okta admin console / Read-only, 8 hours.`,
  ],
  [
    'requested by a manager on behalf of a report: both named',
    { type: 'requested', actor: ann, app: 'Okta admin console', role: 'Read-only', duration: '8 hours', reason: 'on-call', onBehalf: { by: bob, as: 'manager' } },
    `Requested by Bob (bob@example.com) on behalf of Ann Lee (ann@example.com), as their manager, on ${WHEN}: Okta admin console / Read-only, 8 hours.`,
  ],
  [
    'requested by a delegate on behalf of someone',
    { type: 'requested', actor: ann, app: 'Okta admin console', role: 'Read-only', duration: '8 hours', reason: 'on-call', onBehalf: { by: cat, as: 'delegate' } },
    `Requested by cat@example.com on behalf of Ann Lee (ann@example.com), as a delegate listed in the access catalog, on ${WHEN}: Okta admin console / Read-only, 8 hours.`,
  ],
  [
    'requested in Jira: "Requested by … (raised in Jira)"',
    { type: 'requested', actor: ann, app: 'Okta admin console', role: 'Read-only', duration: '8 hours', reason: 'on-call', raisedIn: 'jira' },
    `Requested by Ann Lee (ann@example.com) on ${WHEN} (raised in Jira): Okta admin console / Read-only, 8 hours.`,
  ],
  [
    'an issue whose fields cannot make a request (audit; its comment is its own effect)',
    { type: 'intake_refused', issueKey: 'ACC-7', requestType: 'Request Application Access', problems: ['Role (customfield_2) is empty.', 'Say why.'] },
    `Cannot process this request: Role (customfield_2) is empty. Say why. (ACC-7, Request Application Access, on ${WHEN}).`,
  ],
  [
    'approval requested, one stage: "Approval requested from …"',
    { type: 'approval_requested', stage: 0, stageCount: 1, required: 1, approvers: [bob, cat] },
    `Approval requested from Bob (bob@example.com), cat@example.com on ${WHEN}.`,
  ],
  [
    'approval requested, stage 2 of 2 with a quorum',
    { type: 'approval_requested', stage: 1, stageCount: 2, required: 2, approvers: [bob, cat] },
    `Approval requested from Bob (bob@example.com), cat@example.com for stage 2 of 2 (2 approvals needed) on ${WHEN}.`,
  ],
  [
    'approval requested from the fallback',
    { type: 'approval_requested', stage: 0, stageCount: 1, required: 1, approvers: [cat], fallback: true },
    `Approval requested from cat@example.com (fallback approvers: nobody else could be resolved) on ${WHEN}.`,
  ],
  [
    'a vote short of quorum: "Approved by …" with the count',
    { type: 'vote_recorded', actor: bob, approvals: 1, required: 2, stage: 1 },
    `Approved by Bob (bob@example.com) on ${WHEN} (1 of 2 approvals for stage 2).`,
  ],
  ['a stage passed', { type: 'stage_passed', stage: 0, stageCount: 2 }, `Stage 1 of 2 passed on ${WHEN}.`],
  ['approved: "Approved by …"', { type: 'approved', actor: bob }, `Approved by Bob (bob@example.com) on ${WHEN}.`],
  ['auto-approved: "Approved by policy (auto-approve)"', { type: 'auto_approved' }, `Approved by policy (auto-approve) on ${WHEN}.`],
  [
    'break-glass: approved by policy, naming where the alert went',
    { type: 'auto_approved', breakGlass: { notify: '#security-alerts' } },
    `Approved by policy (break-glass emergency access) on ${WHEN}; alert sent to #security-alerts, where a review must be acknowledged.`,
  ],
  ['a reminder', { type: 'reminded', approvers: [bob, cat] }, `Reminder sent to Bob (bob@example.com), cat@example.com on ${WHEN}.`],
  [
    'an escalation says after how long and at which stage',
    { type: 'escalated', approvers: [{ email: 'it-lead@example.com' }], stage: 0, afterMs: 86_400_000 },
    `Escalated to it-lead@example.com on ${WHEN}: no decision within 1 day at stage 1.`,
  ],
  ['a break-glass review', { type: 'reviewed', actor: cat }, `Break-glass access reviewed by cat@example.com on ${WHEN}.`],
  [
    'a comment of ours deleted in Jira (tamper evidence)',
    { type: 'record_changed', change: 'comment_deleted', commentId: '10042', by: 'Mallory' },
    `A comment written by access-bot (id 10042) was deleted by Mallory on ${WHEN}. access-bot's own audit log still holds every step.`,
  ],
  [
    'a Jira transition the workflow does not offer',
    { type: 'transition_skipped', transition: 'Provisioned', cause: 'not available from To Do' },
    `Jira transition "Provisioned" could not be applied on ${WHEN}: not available from To Do. The request's steps continue as comments here.`,
  ],
  ['an admin retry of a dead effect', { type: 'retried', by: 'admin root', what: 'granting access' }, `Retried by admin root on ${WHEN}: granting access.`],
  [
    'denied: "Denied by … — reason"',
    { type: 'denied', actor: bob, reason: 'not needed for this project' },
    `Denied by Bob (bob@example.com) on ${WHEN} — not needed for this project`,
  ],
  [
    'pending: the IdP holds the add until the person acts, in the connector\'s words',
    { type: 'grant_pending', connector: 'github', group: 'acme/devs', idpUserId: 'ann-gh', notice: 'GitHub invitation sent to ann-gh for team acme/devs; access starts when they accept it' },
    `Access pending: GitHub invitation sent to ann-gh for team acme/devs; access starts when they accept it (on ${WHEN}).`,
  ],
  [
    'granted: "Access granted: <connector> group <group> for <IdP user id>, expires <time>"',
    { type: 'granted', connector: 'okta', group: '00g1readonly', idpUserId: '00u1ann', expiresAt: EXPIRES, preexisting: false },
    `Access granted: okta group 00g1readonly for 00u1ann, expires 2024-01-02 11:04:05 UTC. Granted on ${WHEN}.`,
  ],
  [
    'granted permanently',
    { type: 'granted', connector: 'google', group: 'wiki-readers@example.com', idpUserId: 'ann@example.com', expiresAt: null, preexisting: false },
    `Access granted: google group wiki-readers@example.com for ann@example.com, expires never (permanent). Granted on ${WHEN}.`,
  ],
  [
    'granted to someone who was already a member says expiry will not remove them',
    { type: 'granted', connector: 'okta', group: '00g1readonly', idpUserId: '00u1ann', expiresAt: EXPIRES, preexisting: true },
    `Access granted: okta group 00g1readonly for 00u1ann, expires 2024-01-02 11:04:05 UTC. Granted on ${WHEN}. The user was already a member before this grant, so expiry will not remove them.`,
  ],
  [
    'revoked on expiry: "Access revoked (expired)"',
    { type: 'revoked', cause: 'expired', connector: 'okta', group: '00g1readonly', idpUserId: '00u1ann', removed: true },
    `Access revoked (expired) on ${WHEN}: removed 00u1ann from okta group 00g1readonly.`,
  ],
  [
    'revoked by a person: "Access revoked (by …)"',
    { type: 'revoked', cause: 'manual', actor: { name: 'Dana', email: 'dana@example.com' }, connector: 'entra', group: 'g-1', idpUserId: 'oid-1', removed: true },
    `Access revoked (by Dana (dana@example.com)) on ${WHEN}: removed oid-1 from entra group g-1.`,
  ],
  [
    'revoked, membership kept because it predates the grant',
    { type: 'revoked', cause: 'expired', connector: 'okta', group: '00g1', idpUserId: '00u1', removed: false, keptBecause: 'preexisting' },
    `Access revoked (expired) on ${WHEN}: membership of okta group 00g1 kept: 00u1 was a member before this grant.`,
  ],
  [
    'revoked, membership kept for another active grant',
    { type: 'revoked', cause: 'expired', connector: 'okta', group: '00g1', idpUserId: '00u1', removed: false, keptBecause: 'other_grant' },
    `Access revoked (expired) on ${WHEN}: membership of okta group 00g1 kept: another active grant still needs it.`,
  ],
  ['timed out: "Timed out: no decision within …"', { type: 'timed_out', afterMs: 3 * 86_400_000 }, `Timed out: no decision within 3 days (on ${WHEN}).`],
  ['cancelled by the requester', { type: 'cancelled', actor: ann }, `Cancelled by Ann Lee (ann@example.com) on ${WHEN}.`],
  [
    'failed: "Failed: <cause>"',
    { type: 'failed', cause: 'no approver could be resolved for stage 1' },
    `Failed: no approver could be resolved for stage 1 (on ${WHEN}).`,
  ],
  ['an extension asked for', { type: 'extension_requested', actor: { name: 'Ann Lee', email: 'ann@example.com' }, more: '4 hours', until: AT + 3_600_000 }, `Extension requested by Ann Lee (ann@example.com) on ${WHEN}: 4 hours more, until 2024-01-02 04:04:05 UTC.`],
  ['an extension approved', { type: 'extended', actor: { name: 'Bob Jones', email: 'bob@example.com' }, until: AT + 3_600_000 }, `Extended by Bob Jones (bob@example.com) until 2024-01-02 04:04:05 UTC (on ${WHEN}).`],
  ['an extension approved by policy', { type: 'extended', until: AT + 3_600_000 }, `Extended by policy (auto-approve) until 2024-01-02 04:04:05 UTC (on ${WHEN}).`],
  ['an extension denied', { type: 'extension_denied', actor: { name: 'Bob Jones', email: 'bob@example.com' }, reason: 'not now', expiresAt: AT }, `Extension denied by Bob Jones (bob@example.com) on ${WHEN} — not now. The access still expires ${WHEN}.`],
  ['an expiry warning (audit only)', { type: 'expiry_warned', before: 3_600_000, expiresAt: AT }, `Expiry warning sent on ${WHEN}: the access ends ${WHEN} (1 hour before).`],
  ['the approval rule that applied, named', { type: 'policy_applied', rule: 'rule 2 (contractors → security review)' }, `Policy: rule 2 (contractors → security review). Chosen on ${WHEN}.`],
  [
    'the rule that applied, whom it told, and the facts that could not be learned',
    { type: 'policy_applied', rule: 'default (no rule matched)', notified: ['#security'], unknown: ['groups unknown (Okta did not answer)'] },
    `Policy: default (no rule matched). Chosen on ${WHEN}. Told for information: #security. Not known, so rules that test it did not match: groups unknown (Okta did not answer).`,
  ],
  [
    'a bundle requested: its parts listed',
    { type: 'requested', actor: ann, app: 'Payments on-call', role: 'Bundle of 2 parts', duration: '8 hours', reason: 'on call', parts: ['Payments console / Operator', 'PagerDuty / Responder'] },
    `Requested by Ann Lee (ann@example.com) on ${WHEN}: Payments on-call / Bundle of 2 parts, 8 hours. Parts: Payments console / Operator; PagerDuty / Responder.`,
  ],
  [
    "a bundle's part granted: which part it is",
    { type: 'granted', connector: 'okta', group: '00g1', idpUserId: '00u1', expiresAt: AT, preexisting: false, part: { index: 2, count: 3, name: 'PagerDuty / Responder' } },
    `Access granted: okta group 00g1 for 00u1, expires ${WHEN}. Granted on ${WHEN}. Bundle part 2 of 3: PagerDuty / Responder.`,
  ],
  [
    "a bundle's part revoked",
    { type: 'revoked', cause: 'expired', connector: 'okta', group: '00g1', idpUserId: '00u1', removed: true, part: { index: 1, count: 3, name: 'Payments console / Operator' } },
    `Access revoked (expired) on ${WHEN}: removed 00u1 from okta group 00g1. Bundle part 1 of 3: Payments console / Operator.`,
  ],
  [
    "a bundle's part stopped when the bundle ended",
    { type: 'failed', cause: 'the bundle ended before this part was granted', part: { index: 3, count: 3, name: 'Payments code / Project write' } },
    `Failed: the bundle ended before this part was granted (on ${WHEN}). Bundle part 3 of 3: Payments code / Project write.`,
  ],
  [
    "an admin's retry of a bundle's part",
    { type: 'retried', by: 'admin ops', what: 'granting access', part: { index: 3, count: 3, name: 'Payments code / Project write' } },
    `Retried by admin ops on ${WHEN}: granting access. Bundle part 3 of 3: Payments code / Project write.`,
  ],
  [
    'a bundle complete',
    { type: 'bundle_complete', parts: ['Payments console / Operator', 'PagerDuty / Responder'], expiresAt: AT },
    `Bundle complete: all 2 parts granted (Payments console / Operator; PagerDuty / Responder) on ${WHEN}; every part expires ${WHEN}.`,
  ],
  [
    'a bundle incomplete: which part is missing, why, and what is in place',
    {
      type: 'bundle_incomplete',
      part: { index: 3, count: 3, name: 'Payments code / Project write' },
      grant: 'bitbucket-dc group project:PAY:PROJECT_WRITE',
      cause: 'granting access failed: Bitbucket project PAY not found',
      inPlace: ['1 (Payments console / Operator)', '2 (PagerDuty / Responder)'],
    },
    `Bundle incomplete: part 3 of 3, Payments code / Project write (bitbucket-dc group project:PAY:PROJECT_WRITE), could not be granted on ${WHEN}: granting access failed: Bitbucket project PAY not found. ` +
      'Parts in place: 1 (Payments console / Operator); 2 (PagerDuty / Responder). The other parts stay; the missing part is retried alone once its cause is fixed (access-bot effects list, then access-bot effects retry <id>).',
  ],
  ['a bundle revoked', { type: 'bundle_revoked', cause: 'manual', actor: { name: 'Ann Lee' }, ended: 2, neverGranted: 1 }, `Bundle revoked (by Ann Lee) on ${WHEN}: every part ended (2 revoked; 1 had not been granted).`],
  ['a bundle expired', { type: 'bundle_revoked', cause: 'expired', ended: 3, neverGranted: 0 }, `Bundle revoked (expired) on ${WHEN}: every part ended (3 revoked).`],
  [
    'standing access recorded for reclaim: "Standing access found …"',
    { type: 'standing_found', connector: 'okta', group: '00g1ops', idpUserId: '00u1ann', email: 'ann@example.com', firstSeenAt: EXPIRES - 86_400_000 },
    `Standing access found on ${WHEN}: 00u1ann (ann@example.com) is a member of okta group 00g1ops, not granted by access-bot (first listed by the user sync on 2024-01-01 11:04:05 UTC). Recorded here for inactivity reclaim.`,
  ],
  [
    'an inactivity warning: "Inactivity warning sent …"',
    { type: 'reclaim_warned', connector: 'okta', lastLoginAt: Date.UTC(2023, 9, 1), idleSince: Date.UTC(2023, 10, 1), afterMs: 60 * 86_400_000, revokeAt: Date.UTC(2024, 0, 9, 3, 4, 5) },
    `Inactivity warning sent on ${WHEN}: unused since 2023-11-01 00:00:00 UTC (last sign-in to okta 2023-10-01 00:00:00 UTC); access unused for 60 days is reclaimed. It will be removed on 2024-01-09 03:04:05 UTC unless its holder keeps it.`,
  ],
  [
    'an inactivity warning for someone who never signed in',
    { type: 'reclaim_warned', connector: 'google', lastLoginAt: null, idleSince: Date.UTC(2023, 10, 1), afterMs: 30 * 86_400_000, revokeAt: Date.UTC(2024, 0, 9) },
    `Inactivity warning sent on ${WHEN}: unused since 2023-11-01 00:00:00 UTC (google has no sign-in on record); access unused for 30 days is reclaimed. It will be removed on 2024-01-09 00:00:00 UTC unless its holder keeps it.`,
  ],
  ['kept: "Kept by … — reason"', { type: 'reclaim_kept', actor: ann, reason: 'quarterly close' }, `Kept by Ann Lee (ann@example.com) on ${WHEN} — quarterly close. Inactivity is counted again from now.`],
  [
    'a sign-in after the warning: "Inactivity reclaim called off …"',
    { type: 'reclaim_cleared', connector: 'entra', activeAt: Date.UTC(2024, 0, 2) },
    `Inactivity reclaim called off on ${WHEN}: a sign-in to entra on 2024-01-02 00:00:00 UTC was seen.`,
  ],
  [
    'reclaimed: "Access revoked (reclaimed: …)", standing access removed',
    { type: 'revoked', cause: 'reclaimed', why: 'unused since 2023-11-01 00:00:00 UTC; warned 2023-12-25 00:00:00 UTC', standing: true, connector: 'okta', group: 'g', idpUserId: 'u', removed: true },
    `Access revoked (reclaimed: unused since 2023-11-01 00:00:00 UTC; warned 2023-12-25 00:00:00 UTC) on ${WHEN}: removed u from okta group g (standing access, not granted by access-bot).`,
  ],
  [
    'offboarded: "Access revoked (offboarded: …)"',
    { type: 'revoked', cause: 'offboarded', why: 'Ann Lee (ann@example.com) was deactivated in okta (DEPROVISIONED)', connector: 'okta', group: 'g', idpUserId: 'u', removed: true },
    `Access revoked (offboarded: Ann Lee (ann@example.com) was deactivated in okta (DEPROVISIONED)) on ${WHEN}: removed u from okta group g.`,
  ],
  [
    'cancelled because the requester left',
    { type: 'cancelled', actor: ann, why: 'left the Slack workspace (deactivated in Slack)' },
    `Cancelled by access-bot on ${WHEN}: the requester Ann Lee (ann@example.com) left the Slack workspace (deactivated in Slack).`,
  ],
  [
    'cancelled because the person who asked on the requester\'s behalf left',
    { type: 'cancelled', actor: bob, why: 'was deactivated in okta (DEPROVISIONED)', onBehalfOf: ann },
    `Cancelled by access-bot on ${WHEN}: Bob (bob@example.com), who asked for it on behalf of Ann Lee (ann@example.com), was deactivated in okta (DEPROVISIONED).`,
  ],
  [
    'an approver who left: "Approver … no longer asked …"',
    { type: 'approver_left', actor: bob, stage: 0, why: 'was suspended in google' },
    `Approver Bob (bob@example.com) was suspended in google; no longer asked for stage 1 (on ${WHEN}).`,
  ],
  [
    're-routed to the fallback: "Approval re-routed to …"',
    { type: 'rerouted', stage: 1, required: 1, approvers: [cat] },
    `Approval re-routed to cat@example.com (fallback) for stage 2 on ${WHEN}: the approvers still here could not give the 1 approval needed.`,
  ],
  ['a refused click (audit only)', { type: 'decision_refused', actor: { slackId: 'U_X' }, code: 'self_approval' }, `Decision refused for Slack user U_X on ${WHEN} (self_approval).`],
  // Access reviews (domain/reviewSteps.ts): the comments of a review's own Jira issue.
  [
    'a review started, with its due-date policy',
    { type: 'review_started', by: 'admin ops', scope: 'Payments console / Viewer', groups: ['okta group 00gview'], reviewers: ['bob@example.com'], dueAt: EXPIRES, onDue: 'revoke' },
    `Access review started by admin ops on ${WHEN}: Payments console / Viewer (okta group 00gview). Reviewers: bob@example.com. Due 2024-01-02 11:04:05 UTC; undecided at the due date: revoked (onDue: revoke).`,
  ],
  [
    'who holds the role, granted and standing',
    { type: 'review_listed', role: 'Viewer', connector: 'okta', group: '00gview', members: 4, granted: 1, standing: 3 },
    `Listed 4 people holding Viewer (okta group 00gview) on ${WHEN}: 1 by a grant of access-bot, 3 by standing access not granted by access-bot.`,
  ],
  ['a reviewer asked', { type: 'review_requested', reviewer: bob, people: 3 }, `Review requested from Bob (bob@example.com) on ${WHEN}: 3 people.`],
  [
    "a reviewer's own row reviewed by their manager",
    { type: 'review_reassigned', member: { name: 'Bob', email: 'bob@example.com', idpUserId: '00ubob' }, to: [ann], because: 'manager' },
    `Bob (bob@example.com) is a reviewer, so their own access is reviewed by Ann Lee (ann@example.com) (their manager) on ${WHEN}: nobody reviews their own access.`,
  ],
  [
    'rows nobody can review',
    { type: 'review_unassigned', members: [{ email: 'bob@example.com', idpUserId: '00ubob' }], count: 1, why: 'they are the only reviewer' },
    `Nobody can review bob@example.com (on ${WHEN}): they are the only reviewer. This row follows the due-date policy.`,
  ],
  ['a reviewer who is not in Slack', { type: 'review_unreachable', reviewer: cat, why: 'not in Slack' }, `cat@example.com cannot be asked (on ${WHEN}): not in Slack.`],
  [
    'kept by a reviewer',
    { type: 'review_decided', member: { name: 'Dave', email: 'dave@example.com', idpUserId: '00udave' }, role: 'Viewer', decision: 'keep', actor: bob },
    `Kept: Dave (dave@example.com) keeps Viewer — decided by Bob (bob@example.com) on ${WHEN}.`,
  ],
  [
    'revoked by a reviewer, with the reason',
    { type: 'review_decided', member: { name: 'Dave', email: 'dave@example.com', idpUserId: '00udave' }, role: 'Viewer', decision: 'revoke', actor: bob, reason: 'left the team' },
    `Revoke: Dave (dave@example.com) loses Viewer — decided by Bob (bob@example.com) on ${WHEN}: left the team`,
  ],
  [
    'a revocation landed, standing access',
    { type: 'review_revoked', member: { name: 'Dave', email: 'dave@example.com', idpUserId: '00udave' }, connector: 'okta', group: '00gview', removed: true, endedGrants: [], decidedBy: 'Bob (bob@example.com)' },
    `Access revoked: removed 00udave (Dave (dave@example.com)) from okta group 00gview on ${WHEN}, as decided by Bob (bob@example.com); standing access, not granted by access-bot.`,
  ],
  [
    "a revocation landed, standing access ending inactivity reclaim's record of it",
    { type: 'review_revoked', member: { name: 'Dave', idpUserId: '00udave' }, connector: 'okta', group: '00gview', removed: true, endedGrants: [], endedStanding: ['ACC-9'], decidedBy: 'Bob (bob@example.com)' },
    `Access revoked: removed 00udave (Dave) from okta group 00gview on ${WHEN}, as decided by Bob (bob@example.com); standing access, not granted by access-bot; its inactivity reclaim record ACC-9 ended.`,
  ],
  [
    'a revocation landed, ending a grant',
    { type: 'review_revoked', member: { name: 'Dave', idpUserId: '00udave' }, connector: 'okta', group: '00gview', removed: true, endedGrants: ['ACC-12'], decidedBy: 'Bob (bob@example.com)' },
    `Access revoked: removed 00udave (Dave) from okta group 00gview on ${WHEN}, as decided by Bob (bob@example.com); the grant ACC-12 ended.`,
  ],
  [
    'a revocation a newer grant overrides',
    { type: 'review_revoked', member: { idpUserId: '00udave' }, connector: 'okta', group: '00gview', removed: false, endedGrants: [], decidedBy: 'Bob (bob@example.com)' },
    `Access not removed: IdP user 00udave stays in okta group 00gview (on ${WHEN}): a grant approved since the decision by Bob (bob@example.com) still needs the membership.`,
  ],
  ['reviewers reminded', { type: 'review_reminded', reviewers: [bob], undecided: 1 }, `Reminder sent to Bob (bob@example.com) on ${WHEN}: 1 person still undecided.`],
  [
    "escalated to the reviewer's manager at the due date",
    { type: 'review_escalated', from: bob, to: [ann], people: 2, atDue: true },
    `Escalated to Ann Lee (ann@example.com) on ${WHEN}: 2 people Bob (bob@example.com) had not decided by the due date.`,
  ],
  [
    'no one to escalate to',
    { type: 'review_escalation_impossible', from: bob, people: 2 },
    `Could not escalate 2 people Bob (bob@example.com) had not decided (on ${WHEN}): no manager is recorded for them and the review has no fallback.`,
  ],
  [
    'the due date passed: kept by policy, naming whom',
    { type: 'review_due_passed', onDue: 'keep', undecided: 1, members: [{ name: 'Dave', email: 'dave@example.com', idpUserId: '00udave' }] },
    `Due date passed on ${WHEN}: 1 person undecided, kept by policy (onDue: keep): Dave (dave@example.com).`,
  ],
  [
    'the due date passed: escalated, the review stays open',
    { type: 'review_due_passed', onDue: 'escalate', undecided: 2, members: [] },
    `Due date passed on ${WHEN}: 2 people undecided, escalated to their reviewers' managers (onDue: escalate); the review stays open until they are decided.`,
  ],
  [
    'the summary at the end',
    { type: 'review_completed', total: 4, kept: 2, revoked: 2, keptAtDue: 1, revokedAtDue: 0, removed: 2, keptMembership: 0, failed: 0 },
    `Review completed on ${WHEN}: 4 people reviewed — 2 kept (1 at the due date), 2 revoked (0 at the due date); 2 memberships removed.`,
  ],
  ['a review that could not go on', { type: 'review_failed', cause: 'okta group 00gview not found' }, `Review failed on ${WHEN}: okta group 00gview not found`],
  [
    'a removal requested: "Requested by …: removal of …"',
    { type: 'requested', actor: ann, app: 'Okta admin console', role: 'Read-only', duration: 'Permanent', reason: 'leaving the team', kind: 'removal' },
    `Requested by Ann Lee (ann@example.com) on ${WHEN}: removal of Okta admin console / Read-only.`,
  ],
  [
    "a removal of someone else's access names whose",
    { type: 'requested', actor: ann, app: 'Okta admin console', role: 'Read-only', duration: 'Permanent', reason: 'left', kind: 'removal', subject: { name: 'Bob Jones', email: 'bob@example.com' } },
    `Requested by Ann Lee (ann@example.com) on ${WHEN}: removal of Okta admin console / Read-only for Bob Jones (bob@example.com).`,
  ],
  [
    'a change requested names the role left and the role wanted',
    { type: 'requested', actor: ann, app: 'Okta admin console', role: 'Super admin', duration: '1 hour', reason: 'rotation', kind: 'change', from: 'Read-only' },
    `Requested by Ann Lee (ann@example.com) on ${WHEN}: change of Okta admin console from Read-only to Super admin, 1 hour.`,
  ],
  [
    "removal of access-bot's own grant",
    { type: 'removed', request: 'removal', connector: 'okta', group: '00g1', idpUserId: '00u1', outcome: 'ended_grant', ended: ['ACC-3'] },
    `Access removed: okta group 00g1 for 00u1 (removal request) on ${WHEN}. access-bot's grant ACC-3 ended with it.`,
  ],
  [
    'removal of standing access says so',
    { type: 'removed', request: 'removal', connector: 'okta', group: '00g1', idpUserId: '00u1', outcome: 'standing', ended: [] },
    `Access removed: okta group 00g1 for 00u1 (removal request; standing access, not granted by access-bot) on ${WHEN}.`,
  ],
  [
    "removal of standing access, ending inactivity reclaim's record of it",
    { type: 'removed', request: 'removal', connector: 'okta', group: '00g1', idpUserId: '00u1', outcome: 'standing', ended: [], endedStanding: ['ACC-9'] },
    `Access removed: okta group 00g1 for 00u1 (removal request; standing access, not granted by access-bot) on ${WHEN}. Its inactivity reclaim record ACC-9 ended with it.`,
  ],
  [
    "a change's removal of the role it leaves",
    { type: 'removed', request: 'change', connector: 'okta', group: '00g1', idpUserId: '00u1', outcome: 'standing', ended: [], fromRole: 'Read-only', toRole: 'Super admin' },
    `Access removed: okta group 00g1 for 00u1 (change request: Read-only for Super admin; standing access, not granted by access-bot) on ${WHEN}.`,
  ],
  [
    'a removal with nothing in place',
    { type: 'removed', request: 'removal', connector: 'okta', group: '00g1', idpUserId: '00u1', outcome: 'not_member', ended: [] },
    `Nothing to remove: 00u1 was not a member of okta group 00g1 (removal request) on ${WHEN}.`,
  ],
  [
    'a refused move in Jira: "No access was granted: …", moved back',
    { type: 'jira_status_refused', actor: { name: 'Mallory Evil', email: 'mallory@example.com' }, meaning: 'approved', to: 'Approved', from: 'To Do', movedAt: AT, clause: 'Mallory Evil is not an approver of this request', movedBack: true },
    `No access was granted: Mallory Evil (mallory@example.com) moved this issue to "Approved" on ${WHEN}, but Mallory Evil is not an approver of this request. The issue was moved back to "To Do".`,
  ],
  [
    'a refused revocation in Jira, with no transition back',
    { type: 'jira_status_refused', actor: { name: 'Mallory Evil' }, meaning: 'revoked', to: 'Access Revoked', from: 'Active', movedAt: AT, clause: 'Mallory Evil is neither the requester nor an approver of this request', movedBack: false },
    `No access was removed: Mallory Evil moved this issue to "Access Revoked" on ${WHEN}, but Mallory Evil is neither the requester nor an approver of this request. The workflow offers no transition back to "Active", so the issue stays in "Access Revoked"; access-bot goes by the request, not the status.`,
  ],
];

describe('describeStep: the wording auditors read on the Jira issue', () => {
  for (const [rule, step, expected] of WORDING) {
    test(rule, () => {
      assert.equal(describeStep(step, AT), expected);
    });
  }

  test('every step type has a wording row above', () => {
    // A Record over StepType: a new step type fails to compile here until it is listed (and worded above).
    const all: Record<StepType, true> = {
      requested: true,
      intake_refused: true,
      approval_requested: true,
      policy_applied: true,
      vote_recorded: true,
      stage_passed: true,
      approved: true,
      auto_approved: true,
      reminded: true,
      escalated: true,
      reviewed: true,
      retried: true,
      record_changed: true,
      transition_skipped: true,
      denied: true,
      grant_pending: true,
      granted: true,
      revoked: true,
      timed_out: true,
      cancelled: true,
      extension_requested: true,
      extended: true,
      extension_denied: true,
      expiry_warned: true,
      failed: true,
      removed: true,
      jira_status_refused: true,
      decision_refused: true,
      bundle_complete: true,
      bundle_incomplete: true,
      bundle_revoked: true,
      review_started: true,
      review_listed: true,
      review_requested: true,
      review_reassigned: true,
      review_unassigned: true,
      review_unreachable: true,
      review_decided: true,
      review_revoked: true,
      review_reminded: true,
      review_escalated: true,
      review_escalation_impossible: true,
      review_due_passed: true,
      review_completed: true,
      review_failed: true,
      standing_found: true,
      reclaim_warned: true,
      reclaim_kept: true,
      reclaim_cleared: true,
      approver_left: true,
      rerouted: true,
    };
    assert.deepEqual([...new Set(WORDING.map(([, s]) => s.type))].sort(), Object.keys(all).sort());
  });

  test('a revocation by someone unknown still says who: unknown', () => {
    const step: Step = { type: 'revoked', cause: 'manual', connector: 'okta', group: 'g', idpUserId: 'u', removed: true };
    assert.equal(describeStep(step, AT), `Access revoked (by unknown) on ${WHEN}: removed u from okta group g.`);
  });
});

describe('a grant waiting for a pending membership', () => {
  const pending: Step = { type: 'grant_pending', connector: 'github', group: 'acme/devs', idpUserId: 'ann-gh', notice: 'invited' };
  const granted: Step = { type: 'granted', connector: 'github', group: 'acme/devs', idpUserId: 'ann-gh', expiresAt: null, preexisting: false };
  const approved: Step = { type: 'approved', actor: bob };
  const cases: [string, Step[], boolean][] = [
    ['no pending step: not waiting', [approved], false],
    ['pending, nothing since: waiting', [approved, pending], true],
    ['pending, then steps that are not grant outcomes: still waiting', [approved, pending, { type: 'transition_skipped', transition: 'T', cause: 'c' }], true],
    ['pending, then granted: done', [approved, pending, granted], false],
    ['pending, then failed: not waiting', [approved, pending, { type: 'failed', cause: 'declined' }], false],
    ['pending, failed, retried by an admin: the grant starts over', [approved, pending, { type: 'failed', cause: 'x' }, { type: 'retried', by: 'admin', what: 'granting access' }], false],
    ['pending again after a retry: waiting', [approved, pending, { type: 'failed', cause: 'x' }, { type: 'retried', by: 'admin', what: 'granting access' }, pending], true],
  ];
  for (const [what, steps, expected] of cases) {
    test(what, () => {
      assert.equal(awaitsPendingGrant(steps), expected);
    });
  }
});

describe('Jira record', () => {
  test('every step is written to Jira as a comment of the request except a refused click, an expiry warning and a refused intake (commented by its own effect)', () => {
    for (const [, step] of WORDING) assert.equal(isRecordedInJira(step), !['decision_refused', 'expiry_warned', 'intake_refused'].includes(step.type), step.type);
  });

  test('times are written in UTC to the second', () => {
    assert.equal(formatTime(AT), WHEN);
    assert.equal(formatTime(0), '1970-01-01 00:00:00 UTC');
  });

  const people: [string, Actor | undefined, string][] = [
    ['name and email', { name: 'Ann Lee', email: 'ann@example.com', slackId: 'U1' }, 'Ann Lee (ann@example.com)'],
    ['name only', { name: 'Ann Lee', slackId: 'U1' }, 'Ann Lee'],
    ['email only', { email: 'ann@example.com', slackId: 'U1' }, 'ann@example.com'],
    ['Slack id only', { slackId: 'U1' }, 'Slack user U1'],
    ['nothing known', {}, 'unknown'],
    ['no actor', undefined, 'unknown'],
  ];
  for (const [what, actor, expected] of people) {
    test(`a person is named by what is known of them: ${what}`, () => {
      assert.equal(who(actor), expected);
    });
  }
});
