/**
 * Slack's directory, as the people service reads it (app/people.ts is its only caller): emails
 * and ids, nothing about Block Kit. Implemented by adapters/slack/client.ts (SlackGateway).
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
  /** undefined when no active Slack user has this email. */
  lookupByEmail(email: string): Promise<DirectoryUser | undefined>;
  /** Member ids of a user group given by handle or id; undefined when there is no such group. */
  usergroupMembers(handleOrId: string): Promise<string[] | undefined>;
}
