/**
 * Checking a request made for someone else ("For someone else" in the modal), before the modal
 * is answered: the refusal is an inline error, so it runs while Slack waits (3 s). The people
 * arrive already looked up (users.info, in parallel, by the listener); the only lookup here is
 * the subject's manager (MANAGER_SOURCE), within a budget, and only when no catalog delegate
 * entry already allows the request. The rule itself is domain/onBehalf.ts.
 */
import { findRole } from '../domain/catalog.js';
import { describeOnBehalfRefusal, onBehalfBasis, type OnBehalfBasis } from '../domain/onBehalf.js';
import { ACCOUNT_PROBLEM_LABEL, accountProblem, normalizeEmail } from '../domain/people.js';
import { UNVERIFIED } from './actor.js';
import type { Deps } from './context.js';
import type { ActingPerson } from './people.js';

/** How long the modal's answer may wait for MANAGER_SOURCE (after users.info's 1.5 s at most). */
export const MANAGER_LOOKUP_BUDGET_MS = 1000;

/** A request someone makes for someone else, as submitRequest records it. */
export interface OnBehalfRequest {
  /** The submitter, as Slack's directory named them when they submitted. */
  submitter: { slackId: string; email: string; name: string };
  as: OnBehalfBasis;
}

export type OnBehalfCheck =
  /** `onBehalf` absent: the person chosen is the submitter themself, an ordinary request. */
  | { ok: true; subjectSlackId: string; onBehalf?: OnBehalfRequest }
  | { ok: false; code: string; message: string };

export type OnBehalfDeps = Deps<'catalog' | 'people' | 'allowGuests'>;

export interface OnBehalfInput {
  submitter: ActingPerson;
  /** The person chosen in "For someone else", and their account, looked up like the submitter's. */
  subjectSlackId: string;
  subject: ActingPerson;
  appId: string | undefined;
  roleId: string | undefined;
}

export async function checkOnBehalf(ctx: OnBehalfDeps, input: OnBehalfInput): Promise<OnBehalfCheck> {
  const { subjectSlackId } = input;
  if (subjectSlackId === input.submitter.ref.slackId) return { ok: true, subjectSlackId };
  const me = input.submitter.account;
  // Who the submitter is decides whether they may: nothing is taken on trust.
  if (!me.ok || !me.user.email) return { ok: false, ...UNVERIFIED };
  const them = input.subject.account;
  if (!them.ok) {
    return them.cause === 'not_found'
      ? { ok: false, code: 'subject_not_found', message: 'Slack does not know the person you chose.' }
      : { ok: false, code: 'subject_unverified', message: "access-bot could not check that person's Slack account just now. Try again in a minute." };
  }
  const name = them.user.name;
  // The guest rules hold for the person the access is for as for anyone requesting it.
  const problem = accountProblem(them.user.account, { allowGuests: ctx.allowGuests });
  if (problem) return { ok: false, code: `subject_${problem}`, message: `Access cannot be requested for ${name}: ${ACCOUNT_PROBLEM_LABEL[problem]}.` };
  if (!them.user.email) return { ok: false, code: 'subject_no_email', message: `Slack did not give access-bot ${name}'s email, so it cannot tell who they are.` };
  if (normalizeEmail(them.user.email) === normalizeEmail(me.user.email)) return { ok: true, subjectSlackId };
  const catalog = ctx.catalog();
  // Emergency access alerts security in the name of whoever took it: that person asks themself.
  if (input.appId && input.roleId && findRole(catalog, input.appId, input.roleId)?.role.breakGlass) {
    return { ok: false, code: 'on_behalf_break_glass', message: 'Emergency (break-glass) access can only be requested by the person who needs it.' };
  }
  const facts = { submitterEmail: me.user.email, subjectEmail: them.user.email, appId: input.appId ?? '', delegates: catalog.delegates ?? [] };
  let as = onBehalfBasis(facts);
  if (!as && ctx.people.managerSourceName) {
    const manager = await ctx.people.managerEmailWithin(them.user.email, MANAGER_LOOKUP_BUDGET_MS);
    if ('unavailable' in manager) {
      return { ok: false, code: 'manager_unverified', message: `access-bot could not ask ${ctx.people.managerSourceName} who manages ${name} just now. Try again in a minute.` };
    }
    if ('email' in manager) as = onBehalfBasis({ ...facts, managerEmail: manager.email });
  }
  if (!as) return { ok: false, code: 'not_manager_or_delegate', message: describeOnBehalfRefusal(name, ctx.people.managerSourceName) };
  return { ok: true, subjectSlackId, onBehalf: { submitter: { slackId: me.user.slackId, email: me.user.email, name: me.user.name }, as } };
}
