/**
 * Runs an access review's Jira effects: its one issue (the record of the whole review: scope,
 * reviewers, due date and what happens to undecided rows then) and one comment per step, in
 * order, written by a sync effect that takes every step not yet written (so a review's thousands
 * of decisions are one short line in the outbox, not thousands). Idempotent as a request's are
 * (types.ts): the issue is labelled with the review's id and found again before a second create;
 * each comment carries its step's audit seq (`review-step-<seq>`) and is looked up on a retry.
 */
import { alertAdmins, inTx, type Deps } from '../../app/context.js';
import { asEffect } from '../../app/effects.js';
import type { AuditRecord, TxStore } from '../../app/ports/store.js';
import { refreshMessages, syncJira } from '../../app/reviewRecord.js';
import { describeMs } from '../../domain/duration.js';
import { describeOnDue } from '../../domain/reviewSteps.js';
import { describeStep, formatTime, isRecordedInJira } from '../../domain/steps.js';
import type { EffectHandler } from '../../outbox/dispatcher.js';
import { PermanentError, RetryableError } from '../../outbox/errors.js';
import { doc, labelValue, paragraph } from './adf.js';
import type { JiraRecord } from './types.js';

/**
 * A step's comment. The summary also names itself in the audit log (its seq and hash), so the
 * record on Jira can later be checked against the database: `access-bot audit verify --head`.
 */
function commentText(a: AuditRecord): string {
  const text = describeStep(a.step, a.at);
  return a.step.type === 'review_completed' ? `${text} Audit log head: seq ${a.seq}, sha256 ${a.hash} (check with access-bot audit verify --head ${a.seq}:${a.hash}).` : text;
}

/** Steps written per sync effect: a backlog is written in turns, each recorded as it lands. */
const SYNC_BATCH = 50;

/** The entity property that ties an issue to its review. */
export const REVIEW_PROPERTY = 'access-bot-review';

export type ReviewJiraDeps = Deps<'store' | 'reviews' | 'now' | 'catalog' | 'adminChannel'>;

export function reviewJiraHandlers(ctx: ReviewJiraDeps, jira: JiraRecord): Record<string, EffectHandler<TxStore>> {
  const campaign = (id: string) => {
    const c = ctx.reviews.getCampaign(id);
    if (!c) throw new PermanentError(`access review ${id} not found`);
    return c;
  };
  return {
    'review.jiraCreate': {
      async run(row) {
        const c = campaign(asEffect('review.jiraCreate', row.payload).campaignId);
        if (c.jiraKey) return { key: c.jiraKey };
        const catalog = ctx.catalog();
        const p = c.policy;
        const { key } = await jira.createIssue({
          // The label `access-bot-<review id>` finds the issue again after a lost answer.
          requestId: c.id,
          project: catalog.jira.project,
          issueType: catalog.jira.issueType,
          summary: `Access review: ${c.scope}, due ${formatTime(c.dueAt).slice(0, 10)}`,
          description: doc(
            paragraph('Access review recorded by access-bot: who holds this access, and whether each person keeps it. Each decision, revocation and reminder is a comment on this issue; the last one is the summary.'),
            labelValue('Application', c.appName),
            labelValue('Reviewed', c.roles.map((r) => `${r.name} (${r.connector} group ${r.group})`).join('; ')),
            labelValue('Reviewers', p.reviewers.join(', ')),
            labelValue('Started', `${formatTime(c.createdAt)} by ${c.startedBy}`),
            labelValue('Due', formatTime(c.dueAt)),
            labelValue('Undecided at the due date', describeOnDue(p.onDue)),
            labelValue('Reminders', p.remindBeforeMs.length > 0 ? p.remindBeforeMs.map((ms) => `${describeMs(ms)} before the due date`).join(', ') : 'none'),
            labelValue('Escalation', p.escalateAfterMs !== undefined ? `to the reviewer's manager ${describeMs(p.escalateAfterMs)} after the start` : p.onDue === 'escalate' ? "to the reviewer's manager at the due date" : 'none'),
            labelValue('Fallback reviewers', p.fallback.join(', ') || 'none'),
            labelValue('Review id', c.id),
          ),
        });
        await jira.setProperty(key, REVIEW_PROPERTY, { reviewId: c.id, app: c.appId, roles: c.roles.map((r) => r.id) });
        return { key };
      },
      onDone(row, result, tx) {
        const e = asEffect('review.jiraCreate', row.payload);
        ctx.reviews.updateCampaign(e.campaignId, { jiraKey: (result as { key: string }).key });
        // Reviewers' messages name the issue.
        refreshMessages(inTx(ctx, tx), e.campaignId);
      },
      onDead(row, error, tx) {
        const e = asEffect('review.jiraCreate', row.payload);
        alertAdmins(inTx(ctx, tx), `The Jira issue of access review ${e.campaignId} could not be created: ${error.message}. The review goes on in Slack; its comments wait for the issue. Fix the cause and retry the dead effect.`);
      },
    },
    'review.jiraSync': {
      async run(row) {
        const e = asEffect('review.jiraSync', row.payload);
        const c = campaign(e.campaignId);
        // The issue's creation runs first in this queue: without a key it has not landed yet.
        if (!c.jiraKey) throw new RetryableError(`the Jira issue of access review ${c.id} does not exist yet`);
        const batch = ctx.reviews.stepsAfter(c.id, c.jiraSyncedSeq, SYNC_BATCH);
        // A retry may find the first steps of its batch written before it failed (they are written
        // in order): each is looked up until one is not there; none after it can be.
        let mayExist = row.attempts > 1;
        let lastSeq = c.jiraSyncedSeq;
        for (const a of batch) {
          if (isRecordedInJira(a.step)) {
            const posted = await jira.addComment(c.jiraKey, doc(paragraph(commentText(a))), `review-step-${a.seq}`, { mayExist });
            mayExist &&= posted.existed === true;
          }
          lastSeq = a.seq;
        }
        return { lastSeq, more: batch.length === SYNC_BATCH };
      },
      onDone(row, result, tx) {
        const e = asEffect('review.jiraSync', row.payload);
        const { lastSeq, more } = result as { lastSeq: number; more: boolean };
        const c = ctx.reviews.getCampaign(e.campaignId);
        if (c && lastSeq > c.jiraSyncedSeq) ctx.reviews.updateCampaign(c.id, { jiraSyncedSeq: lastSeq });
        if (more) syncJira({ store: tx }, e.campaignId);
      },
      onDead(row, error, tx) {
        const e = asEffect('review.jiraSync', row.payload);
        alertAdmins(inTx(ctx, tx), `Writing the steps of access review ${e.campaignId} to its Jira issue failed: ${error.message}. Fix the cause and retry the dead effect.`);
      },
    },
  };
}
