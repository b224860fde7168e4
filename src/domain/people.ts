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
