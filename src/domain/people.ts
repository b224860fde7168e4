/**
 * Whose Slack account may act at all: request access, or approve, deny, revoke and review it.
 * People are identified by their Slack email, so an account whose email Slack has not confirmed
 * proves nothing; a deactivated account, a bot or an app acts for nobody; guests and people from
 * other organisations (Slack Connect) are outsiders unless the operator lets them in
 * (`ALLOW_GUESTS=true`). Pure: the caller passes what Slack says about the account.
 */

/** What Slack says about an account, as far as acting is concerned (read by the Slack adapter). */
export interface SlackAccount {
  /** Deactivated. */
  deleted: boolean;
  /** A bot user or an app user. */
  bot: boolean;
  /** A multi-channel guest. */
  restricted: boolean;
  /** A single-channel guest. */
  ultraRestricted: boolean;
  /** From another organisation: a Slack Connect user, or a stranger to this workspace. */
  external: boolean;
  /** Slack has confirmed the account's email address. */
  emailConfirmed: boolean;
}

export interface AccountPolicy {
  /** Guests and Slack Connect users may act (`ALLOW_GUESTS=true`). Never bots, deactivated or unconfirmed accounts. */
  allowGuests: boolean;
}

export type AccountProblem = 'deleted' | 'bot' | 'unconfirmed_email' | 'external' | 'single_channel_guest' | 'guest';

/** Why this account may not act, or undefined when it may. The first problem found wins. */
export function accountProblem(a: SlackAccount, policy: AccountPolicy): AccountProblem | undefined {
  if (a.deleted) return 'deleted';
  if (a.bot) return 'bot';
  if (!a.emailConfirmed) return 'unconfirmed_email';
  if (policy.allowGuests) return undefined;
  if (a.external) return 'external';
  if (a.ultraRestricted) return 'single_channel_guest';
  if (a.restricted) return 'guest';
  return undefined;
}

export function mayAct(a: SlackAccount, policy: AccountPolicy): boolean {
  return accountProblem(a, policy) === undefined;
}

/** What the account is, in a few words, for logs, routing notes and failure causes. */
export const ACCOUNT_PROBLEM_LABEL: Record<AccountProblem, string> = {
  deleted: 'deactivated in Slack',
  bot: 'a bot or app',
  unconfirmed_email: 'Slack email not confirmed',
  external: 'a Slack Connect user from another organisation',
  single_channel_guest: 'a single-channel guest',
  guest: 'a Slack guest',
};

/** The refusal the person reads (privately), for a request or for a decision. */
export function describeAccountProblem(p: AccountProblem, act: 'request' | 'decide'): string {
  const what = act === 'request' ? 'request access' : 'approve, deny, revoke or review access requests';
  switch (p) {
    case 'deleted':
      return `A deactivated Slack account cannot ${what}.`;
    case 'bot':
      return `Bots and apps cannot ${what}.`;
    case 'unconfirmed_email':
      return `Your Slack email address is not confirmed, so access-bot cannot tell who you are. Confirm it in Slack, then try again.`;
    case 'external':
      return `People from outside this organisation (Slack Connect) cannot ${what} here.`;
    case 'single_channel_guest':
    case 'guest':
      return `Slack guests cannot ${what}.`;
  }
}

// -------------------------------------------------------------------------------------------------
/*
 * People, not Slack ids. A person is identified by email; a Slack user id, an Atlassian
 * accountId and IdP user ids are ways of reaching the same person, and any of them may be
 * unknown (a requester raised in Jira may not be in Slack; a Slack submission knows the email
 * only once routing asked Slack).
 */


export type PersonId = number;

/** What is known about one person at the moment of a decision. */
export interface PersonRef {
  /** The stored person, once recorded. */
  id?: PersonId;
  email?: string | null;
  slackId?: string | null;
  atlassianAccountId?: string | null;
}

/** A Slack user id as Slack mints them (U…, or W… on Enterprise Grid); anything else from outside is not one. */
export const SLACK_USER_ID = /^[UW][A-Z0-9]{2,20}$/;

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/**
 * Whether two references are one person: the same stored person, or any identity they share
 * (email, Slack id, accountId). Two records of one person may exist until the one known by Slack
 * id alone learns its email; sharing any identity already makes them one here, so a rule like
 * "never the requester" can't be sidestepped by the order in which things were learned.
 */
export function samePerson(a: PersonRef, b: PersonRef): boolean {
  if (a.id !== undefined && a.id === b.id) return true;
  if (a.email && b.email && normalizeEmail(a.email) === normalizeEmail(b.email)) return true;
  if (a.slackId && a.slackId === b.slackId) return true;
  return Boolean(a.atlassianAccountId && a.atlassianAccountId === b.atlassianAccountId);
}

export function includesPerson(people: readonly PersonRef[], p: PersonRef): boolean {
  return people.some((q) => samePerson(q, p));
}

/** The number of distinct people among the references. */
export function countPeople(people: readonly PersonRef[]): number {
  const distinct: PersonRef[] = [];
  for (const p of people) if (!includesPerson(distinct, p)) distinct.push(p);
  return distinct.length;
}
