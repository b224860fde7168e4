/**
 * Runs an access review's Jira effects: its one issue (the record of the whole review: scope,
 * reviewers, due date and what happens to undecided rows then) and one comment per step, in
 * order. Idempotent as a request's are (types.ts): the issue is labelled with the review's id
 * and found again before a second create; each comment carries its effect id.
 */
import { alertAdmins, inTx, type Deps } from '../../app/context.js';
import { asEffect } from '../../app/effects.js';
import type { TxStore } from '../../app/ports/store.js';
import { refreshMessages } from '../../app/reviewRecord.js';
import { describeMs } from '../../domain/duration.js';
import { describeOnDue } from '../../domain/reviewSteps.js';
import { describeStep, formatTime } from '../../domain/steps.js';
import type { EffectHandler } from '../../outbox/dispatcher.js';
import { PermanentError, RetryableError } from '../../outbox/errors.js';
import { doc, labelValue, paragraph } from './adf.js';
import type { JiraRecord } from './types.js';

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
    'review.jiraComment': {
      async run(row) {
        const e = asEffect('review.jiraComment', row.payload);
        const c = campaign(e.campaignId);
        // Effects of a review's Jira queue run in order, so the issue exists unless its creation died.
        if (!c.jiraKey) throw new RetryableError(`the Jira issue of access review ${c.id} does not exist yet`);
        const audit = ctx.store.getAudit(e.auditSeq);
        if (!audit) throw new PermanentError(`audit event ${e.auditSeq} not found`);
        return jira.addComment(c.jiraKey, doc(paragraph(describeStep(audit.step, audit.at))), `effect-${row.id}`, { mayExist: row.attempts > 1 });
      },
      onDead(row, error, tx) {
        const e = asEffect('review.jiraComment', row.payload);
        alertAdmins(inTx(ctx, tx), `A Jira comment of access review ${e.campaignId} failed: ${error.message}. Fix the cause and retry the dead effect.`);
      },
    },
  };
}
