/**
 * Requesting access for someone else ("on behalf of"). The person the access is for, the
 * subject, is the request's requester from then on: the grant goes to their account, the rules
 * test their groups, `manager` is their manager. The person who asked, the submitter, is recorded
 * beside them. Pure: the caller passes the emails and the manager it looked up.
 *
 * Who may ask for someone else:
 *   - their manager, as MANAGER_SOURCE records it;
 *   - a delegate the catalog lists (`delegates:`) for them, or for everyone, in that application.
 * Neither the subject nor the submitter may approve or deny the request (domain/approval.ts).
 */
import { normalizeEmail } from './people.js';

/** A catalog `delegates:` entry: `email` may request for the people `for` names, in `applications`. */
export interface Delegate {
  email: string;
  /** Lowercased emails, or every person. */
  for: 'all' | string[];
  /** Application ids, or every application. */
  applications: 'all' | string[];
}

/** Why the submitter may ask for the subject: as their manager, or as a listed delegate. */
export type OnBehalfBasis = 'manager' | 'delegate';

/** Whether a `delegates:` entry lets `submitter` request `appId` for `subject`. */
export function delegateCovers(delegates: readonly Delegate[], f: { submitterEmail: string; subjectEmail: string; appId: string }): boolean {
  const submitter = normalizeEmail(f.submitterEmail);
  const subject = normalizeEmail(f.subjectEmail);
  return delegates.some(
    (d) =>
      normalizeEmail(d.email) === submitter &&
      (d.for === 'all' || d.for.some((e) => normalizeEmail(e) === subject)) &&
      (d.applications === 'all' || d.applications.includes(f.appId)),
  );
}

export interface OnBehalfFacts {
  submitterEmail: string;
  subjectEmail: string;
  appId: string;
  delegates: readonly Delegate[];
  /** The subject's manager per MANAGER_SOURCE; undefined when not (yet) looked up or none is recorded. */
  managerEmail?: string;
}

/**
 * On what basis the submitter may request for the subject, or undefined when they may not. The
 * delegate list is read first, so the manager need only be looked up when it is not enough.
 */
export function onBehalfBasis(f: OnBehalfFacts): OnBehalfBasis | undefined {
  if (delegateCovers(f.delegates, f)) return 'delegate';
  if (f.managerEmail !== undefined && normalizeEmail(f.managerEmail) === normalizeEmail(f.submitterEmail)) return 'manager';
  return undefined;
}

/** The basis in words: "as their manager" (or "as your manager" to the subject), "as a delegate listed in the access catalog". */
export function describeBasis(basis: OnBehalfBasis, whose: 'their' | 'your' = 'their'): string {
  return basis === 'manager' ? `as ${whose} manager` : 'as a delegate listed in the access catalog';
}

/** The refusal the submitter reads in the modal. `source`: the MANAGER_SOURCE instance, if any. */
export function describeOnBehalfRefusal(subjectName: string, source: string | undefined): string {
  const manager = source ? `their manager (as ${source} records it)` : 'their manager';
  return `You may not request access for ${subjectName}: only ${manager} or a delegate listed in the access catalog may. Leave this empty to request for yourself.`;
}
