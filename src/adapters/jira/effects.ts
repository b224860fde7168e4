/** Runs the jira.* outbox effects: the issue, its request-id property, comments, transitions. */
import { actorOf, alertAdmins, inTx, recordStep, type Deps } from '../../app/context.js';
import { failRequest } from '../../app/fail.js';
import { asEffect, enqueue } from '../../app/effects.js';
import { recordRefusal } from '../../app/jiraStatus.js';
import type { RequestRecord, TxStore } from '../../app/ports/store.js';
import { partLabel } from '../../domain/bundle.js';
import { describeDuration } from '../../domain/duration.js';
import { describeBasis } from '../../domain/onBehalf.js';
import { describeAsk, requestTitle } from '../../domain/removal.js';
import { describeStep, INTAKE_REFUSED, INTAKE_REFUSED_HINT, who, type Actor, type Step } from '../../domain/steps.js';
import type { EffectHandler } from '../../outbox/dispatcher.js';
import { PermanentError, RetryableError } from '../../outbox/errors.js';
import { bulletList, doc, labelValue, paragraph } from './adf.js';
import type { JiraRecord } from './types.js';

/** The entity property that ties an issue to its request; users cannot edit it, unlike a field. */
export const REQUEST_PROPERTY = 'access-bot-request';

export function issueSummary(r: RequestRecord): string {
  const holder = r.requesterName ?? r.requesterEmail ?? r.requesterSlackId;
  const what = describeAsk({ kind: r.kind, appName: r.appName, roleName: r.roleName, fromRoleName: r.fromRoleName, duration: describeDuration({ token: r.durationToken, ms: r.durationMs }), subject: r.subjectName ?? r.subjectEmail });
  const s = r.origin === 'standing' ? `Standing access: ${holder} → ${r.appName} / ${r.roleName} (inactivity reclaim)` : `${requestTitle(r.kind)}: ${holder} → ${what}`;
  // Jira's summary field holds at most 255 characters.
  return s.length <= 255 ? s : `${s.slice(0, 254)}…`;
}

/** What the issue's description says the request asks, by its kind (one issue tells both steps of a change)… */
function kindFields(r: RequestRecord) {
  const duration = labelValue('Duration', describeDuration({ token: r.durationToken, ms: r.durationMs }));
  switch (r.kind) {
    case 'removal':
      return [labelValue('Role to remove', r.roleName), ...(r.subjectEmail ? [labelValue('Whose access', who({ email: r.subjectEmail, name: r.subjectName ?? undefined }))] : [])];
    case 'change':
      return [labelValue('From role', r.fromRoleName ?? '?'), labelValue('To role', r.roleName), duration];
    case 'access':
      return [labelValue('Role', r.roleName), duration];
  }
}

/** …and which membership it changes. */
function targetFields(r: RequestRecord) {
  const grants = labelValue('Grants', `${r.connector} group ${r.groupId}`);
  switch (r.kind) {
    case 'removal':
      return [labelValue('Removes', `${r.connector} group ${r.groupId}, whoever granted it`)];
    case 'change':
      return [grants, labelValue('Then removes', `${r.fromConnector ?? '?'} group ${r.fromGroupId ?? '?'}`)];
    case 'access':
      return [grants];
  }
}

/** Fills in the requester's name and email, known only after the request step was recorded (and the submitter's as they are now). */
function enrich(step: Step, r: RequestRecord): Step {
  if (step.type !== 'requested') return step;
  const by = step.onBehalf && submitterActor(r, step.onBehalf.by);
  return { ...step, actor: actorOf(r), ...(step.onBehalf && by ? { onBehalf: { ...step.onBehalf, by } } : {}) };
}

/** Whoever asked on the requester's behalf, as the record names them now (else as the step did). */
function submitterActor(r: RequestRecord, recorded: Actor): Actor {
  if (r.submitterId === null) return recorded;
  return { personId: r.submitterId, slackId: r.submitterSlackId ?? recorded.slackId, email: r.submitterEmail ?? recorded.email, name: r.submitterName ?? recorded.name };
}

/** What the Jira effects touch (a Jira issue that cannot be created fails the request: app/fail.ts). */
export type JiraEffectDeps = Deps<'store' | 'now' | 'catalog' | 'adminChannel'>;

/** `onDone` / `onDead` write through `tx`, the handle of the transaction recording the outcome. */
export function jiraHandlers(ctx: JiraEffectDeps, jira: JiraRecord): Record<string, EffectHandler<TxStore>> {
  const request = (id: string, store: Pick<TxStore, 'getRequest'> = ctx.store) => {
    const r = store.getRequest(id);
    if (!r) throw new PermanentError(`request ${id} not found`);
    return r;
  };
  const issueOf = (r: RequestRecord) => {
    // An extension writes on its grant's issue, a bundle's part on its bundle's.
    const owner = r.extendsId ?? r.partOf;
    const key = r.jiraKey ?? (owner ? ctx.store.getRequest(owner)?.jiraKey : undefined);
    // Effects of a request's Jira queue run in order, so the issue exists unless its creation died.
    if (!key) throw new RetryableError(`the Jira issue of ${r.id} does not exist yet`);
    return key;
  };
  const alertDead = (what: string) => (row: { requestId: string | null }, error: Error, tx: TxStore) => {
    if (ctx.adminChannel) enqueue(tx, { kind: 'slack.alert', channel: ctx.adminChannel, text: `Jira ${what} for request ${row.requestId} failed: ${error.message}. Fix the cause and retry the dead effect.` });
  };
  return {
    'jira.create': {
      async run(row) {
        const r = request(asEffect('jira.create', row.payload).requestId);
        // A request raised in Jira (jira.intake) has its issue from the start: it is linked, never created again.
        if (r.jiraKey) return { key: r.jiraKey };
        const approvers = ctx.store.approversOf(r.id, 0);
        const catalog = ctx.catalog();
        return jira.createIssue({
          requestId: r.id,
          project: catalog.jira.project,
          issueType: catalog.jira.issueType,
          summary: issueSummary(r),
          description:
            r.origin === 'standing'
              ? doc(
                  paragraph('Standing access recorded by access-bot: its holder is in the group without a request through access-bot. Each step of its inactivity reclaim is a comment on this issue.'),
                  labelValue('Holder', who(actorOf(r))),
                  labelValue('Application', r.appName),
                  labelValue('Role', r.roleName),
                  labelValue('Group', `${r.connector} group ${r.groupId}`),
                  labelValue('IdP user', r.idpUserId ?? 'unknown'),
                  labelValue('Request id', r.id),
                )
              : doc(
                  paragraph(`${requestTitle(r.kind)} recorded by access-bot. Each step of the request is a comment on this issue.`),
                  labelValue('Requester', who(actorOf(r))),
                  ...(r.submittedAs !== null ? [labelValue('Requested by', `${who(submitterActor(r, {}))} on the requester's behalf, ${describeBasis(r.submittedAs)}`)] : []),
                  labelValue('Application', r.appName),
                  ...(r.bundleParts ? [labelValue('Bundle', r.roleName), labelValue('Duration', describeDuration({ token: r.durationToken, ms: r.durationMs }))] : kindFields(r)),
                  labelValue('Reason', r.reason),
                  labelValue('Approvers', r.policy.kind === 'auto' ? 'approved by policy (auto-approve)' : r.policy.kind === 'deny' ? 'none (denied by policy)' : approvers.map((a) => who({ email: a.email, name: a.name ?? undefined })).join(', ') || 'being resolved'),
                  ...(r.bundleParts ? [labelValue('Grants', r.bundleParts.map((p) => `${partLabel(p)}: ${p.connector} group ${p.group}`).join('; '))] : targetFields(r)),
                  labelValue('Request id', r.id),
                ),
        });
      },
      onDone(row, result, tx) {
        const e = asEffect('jira.create', row.payload);
        const key = (result as { key: string }).key;
        tx.updateRequest(e.requestId, { jiraKey: key }, ctx.now());
        // Parts created before the issue was (an auto-approved bundle) name it too.
        for (const p of tx.partsOf(e.requestId)) if (p.jiraKey === null) tx.updateRequest(p.id, { jiraKey: key }, ctx.now());
        enqueue(tx, { kind: 'slack.requesterConfirmationUpdate', requestId: e.requestId });
        // Whoever asked for someone else hears once, with the key they can follow it by.
        if (tx.getRequest(e.requestId)?.submitterId != null) enqueue(tx, { kind: 'slack.submitterDm', requestId: e.requestId });
        if (tx.getRequest(e.requestId)?.breakGlassNotify) enqueue(tx, { kind: 'slack.breakGlassAlertUpdate', requestId: e.requestId });
      },
      // Jira is the record: without an issue, access is not granted. The request fails with the
      // cause, told to the requester and to admins (failRequest); an admin retry of this effect
      // once the project is fixed lets the comments already queued behind it land.
      onDead: (row, error, tx) => failRequest(inTx(ctx, tx), asEffect('jira.create', row.payload).requestId, `the Jira issue could not be created: ${error.message}`),
    },
    'jira.property': {
      async run(row) {
        const r = request(asEffect('jira.property', row.payload).requestId);
        await jira.setProperty(issueOf(r), REQUEST_PROPERTY, { requestId: r.id, app: r.appId, role: r.roleId });
        return undefined;
      },
      onDead: alertDead('request property'),
    },
    'jira.comment': {
      async run(row) {
        const e = asEffect('jira.comment', row.payload);
        const r = request(e.requestId);
        const audit = ctx.store.getAudit(e.auditSeq);
        if (!audit) throw new PermanentError(`audit event ${e.auditSeq} not found`);
        const text = describeStep(enrich(audit.step, r), audit.at);
        const body = audit.step.type === 'requested' ? doc(paragraph(text), labelValue('Reason', r.reason)) : doc(paragraph(text));
        // attempts counts this one: only the first can be sure no earlier attempt posted.
        return jira.addComment(issueOf(r), body, `effect-${row.id}`, { mayExist: row.attempts > 1 });
      },
      onDead: alertDead('comment'),
    },
    'jira.intakeComment': {
      async run(row) {
        const e = asEffect('jira.intakeComment', row.payload);
        const step = ctx.store.getAudit(e.auditSeq)?.step;
        if (step?.type !== 'intake_refused') throw new PermanentError(`audit event ${e.auditSeq} is not a refused intake`);
        const body = doc(paragraph(INTAKE_REFUSED), bulletList(step.problems), paragraph(INTAKE_REFUSED_HINT));
        return jira.addComment(e.issueKey, body, `effect-${row.id}`, { mayExist: row.attempts > 1 });
      },
      onDead: alertDead('comment'),
    },
    'jira.transition': {
      async run(row) {
        const e = asEffect('jira.transition', row.payload);
        try {
          await jira.transition(issueOf(request(e.requestId)), e.transition, e.doneIn ? { doneIn: e.doneIn } : {});
        } catch (err) {
          // A workflow without this transition must not hold back the comments behind it: the
          // status is cosmetic, the comments are the record. Admins are told (onDone below).
          if (err instanceof PermanentError && err.code === 'jira_transition_unknown') return { skipped: err.message };
          throw err;
        }
        return undefined;
      },
      onDone: (row, result, tx) => {
        const skipped = (result as { skipped?: string } | undefined)?.skipped;
        if (!skipped) return;
        const e = asEffect('jira.transition', row.payload);
        const r = request(e.requestId, tx);
        const c = inTx(ctx, tx);
        recordStep(c, r, { type: 'transition_skipped', transition: e.transition, cause: skipped }, 'access-bot');
        alertAdmins(c, `Jira transition "${e.transition}" skipped on ${r.jiraKey ?? r.id}: ${skipped}. Fix jira.transitions in the catalog or the workflow.`, r.id);
      },
      onDead: alertDead('transition'),
    },
    // After a move in Jira that was refused (or a vote that did not yet decide the request): the
    // issue goes back where it was when the workflow allows, then a refusal is recorded saying so.
    'jira.moveBack': {
      async run(row) {
        const e = asEffect('jira.moveBack', row.payload);
        return { moved: (await jira.moveToStatus(issueOf(request(e.requestId)), e.status)) !== 'no_transition' };
      },
      onDone: (row, result, tx) => {
        const e = asEffect('jira.moveBack', row.payload);
        if (e.refusal) recordRefusal(inTx(ctx, tx), request(e.requestId, tx), e.refusal, e.status, (result as { moved: boolean }).moved);
      },
      // Jira stayed unreachable: the refusal goes on record all the same (the status stays).
      onDead: (row, _error, tx) => {
        const e = asEffect('jira.moveBack', row.payload);
        if (e.refusal) recordRefusal(inTx(ctx, tx), request(e.requestId, tx), e.refusal, e.status, false);
      },
    },
  };
}
