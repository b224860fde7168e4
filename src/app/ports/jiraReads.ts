/**
 * What a status change made in Jira needs to read there (app/jiraStatus.ts): whether the bot's
 * own account made it, and a denial's reason. Implemented by adapters/jira/reads.ts. Who an
 * accountId is comes from the people service (ports/directory.ts `JiraAccounts`); writes to Jira
 * stay outbox effects of the Jira record (adapters/jira/effects.ts).
 */
export interface JiraReads {
  /** The accountId the bot's own Jira credentials act as (read once, then remembered). */
  myAccountId(): Promise<string>;
  /** The text of the newest comment this account wrote on the issue, if any. */
  latestCommentBy(issueKey: string, accountId: string): Promise<string | undefined>;
}
