/**
 * The directories the people service reads (app/people.ts is their only caller): Slack's users
 * and groups (emails and ids, nothing about Block Kit; adapters/slack/client.ts, SlackGateway), and
 * Jira's accounts (adapters/jira/users.ts).
 */
import type { SlackAccount } from '../../domain/people.js';

/** A Slack user as the app reads them: who they are, and whether their account may act. */
export interface DirectoryUser {
  slackId: string;
  email?: string;
  name: string;
  account: SlackAccount;
}

export interface SlackDirectory {
  /**
   * undefined when Slack has no such user. May answer from a cache of a minute or so, unless
   * `fresh`: who a grant goes to is read fresh, so a changed email is seen at once.
   */
  userInfo(userId: string, opts?: { fresh?: boolean }): Promise<DirectoryUser | undefined>;
  /** Forgets what is cached of a user (Slack said the user changed): the next userInfo asks Slack. */
  forgetUser(userId: string): void;
  /** undefined when no active Slack user has this email. */
  lookupByEmail(email: string): Promise<DirectoryUser | undefined>;
  /** Member ids of a user group given by handle or id; undefined when there is no such group. */
  usergroupMembers(handleOrId: string): Promise<string[] | undefined>;
}

/** An Atlassian account as Jira's user API gives it. */
export interface JiraAccount {
  accountId: string;
  name: string;
  /** Absent when the account's profile visibility hides it from the bot's account. */
  email?: string;
  active: boolean;
  /** atlassian | app | customer (a JSM portal-only customer). */
  accountType?: string;
}

export interface JiraAccounts {
  /** undefined when Jira has no such account. Throws a RetryableError when Jira cannot answer now. */
  account(accountId: string): Promise<JiraAccount | undefined>;
}
