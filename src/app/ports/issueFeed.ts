/**
 * What the Jira poll reads from Jira (adapters/jira/issueFeed.ts): the issues of a project
 * changed lately, as intake reads them.
 */
import type { IssueSnapshot } from '../../domain/intake.js';

export interface IssueFeed {
  /**
   * Issues of `project` updated at or after `since` (epoch ms, as near as Jira's JQL can ask),
   * oldest update first, with the changelog Jira gives with them. Throws a RetryableError when
   * Jira cannot answer now.
   */
  updatedSince(project: string, since: number): Promise<IssueSnapshot[]>;
}
