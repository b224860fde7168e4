/**
 * The poll's view of Jira (app/ports/issueFeed.ts): the project's issues updated lately,
 * through the enhanced JQL search, `POST /rest/api/3/search/jql`
 * (https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-search/#api-rest-api-3-search-jql-post),
 * paged by `nextPageToken`, with `fields` and `expand=changelog`.
 *
 * The span is asked as a relative date, `updated >= "-<n>m"`: JQL reads absolute dates in the
 * time zone of the bot's Jira account, relative ones from Jira's own now, so no zone is guessed
 * (https://support.atlassian.com/jira-software-cloud/docs/jql-fields/#Updated). Minutes are JQL's
 * finest unit for it; the span is rounded up.
 */
import type { IssueSnapshot } from '../../domain/intake.js';
import type { IssueFeed } from '../../app/ports/issueFeed.js';
import { RetryableError } from '../../outbox/errors.js';
import { issueSnapshot } from './issueSnapshot.js';
import { jqlString, type JiraCloudRecord } from './record.js';

const PAGE = 100;

export class JiraIssueFeed implements IssueFeed {
  constructor(
    private readonly jira: Pick<JiraCloudRecord, 'api'>,
    private readonly now: () => number,
    /** At most this many issues a poll; the rest (newer, the list being oldest first) come next time. */
    private readonly maxIssues = 1000,
  ) {}

  async updatedSince(project: string, since: number): Promise<IssueSnapshot[]> {
    const minutes = Math.max(1, Math.ceil((this.now() - since) / 60_000));
    const jql = `project = ${jqlString(project)} AND updated >= "-${minutes}m" ORDER BY updated ASC`;
    const out: IssueSnapshot[] = [];
    let token: string | undefined;
    do {
      const body = { jql, fields: ['*navigable'], expand: 'changelog', maxResults: PAGE, ...(token ? { nextPageToken: token } : {}) };
      const page = (await this.jira.api('POST', 'rest/api/3/search/jql', `search ${project} for issues updated in the last ${minutes} minutes`, body)) as
        | { issues?: unknown[]; nextPageToken?: unknown; isLast?: unknown }
        | undefined;
      if (!page || !Array.isArray(page.issues)) throw new RetryableError('Jira search answered without an issue list', undefined, 'jira_bad_answer');
      for (const raw of page.issues) {
        const issue = issueSnapshot(raw);
        if (issue) out.push(issue);
      }
      token = page.isLast === true || typeof page.nextPageToken !== 'string' ? undefined : page.nextPageToken;
    } while (token && out.length < this.maxIssues);
    return out;
  }
}
