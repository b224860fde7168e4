/**
 * The Jira reads of a status change (app/ports/jiraReads.ts), over the record's client
 * (`JiraCloudRecord.api`: its credentials, timeout and error classification):
 * - `GET /rest/api/3/myself` (https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-myself/):
 *   the bot's own accountId, read once and remembered (a failed read is not);
 * - `GET /rest/api/3/issue/{key}/comment?orderBy=-created` (.../api-group-issue-comments/): the
 *   comments newest first, page by page, until one by the account (`author.accountId`); its ADF
 *   body read as text.
 */
import { RetryableError } from '../../outbox/errors.js';
import type { JiraReads } from '../../app/ports/jiraReads.js';
import { adfToText } from './adf.js';
import type { JiraCloudRecord } from './record.js';
import type { AdfDoc } from './types.js';

const PAGE = 100;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

interface CommentPage {
  total?: number;
  comments?: { author?: { accountId?: unknown }; body?: unknown }[];
}

export class JiraIssueReads implements JiraReads {
  private me: Promise<string> | undefined;

  constructor(private readonly jira: Pick<JiraCloudRecord, 'api'>) {}

  myAccountId(): Promise<string> {
    if (!this.me) {
      const me = this.jira.api('GET', 'rest/api/3/myself', 'read the account of the credentials').then((body) => {
        const id = isObject(body) && typeof body['accountId'] === 'string' ? body['accountId'] : '';
        if (!id) throw new RetryableError('Jira /myself answered without an accountId', undefined, 'jira_bad_answer');
        return id;
      });
      this.me = me;
      me.catch(() => {
        if (this.me === me) this.me = undefined;
      });
    }
    return this.me;
  }

  async latestCommentBy(issueKey: string, accountId: string): Promise<string | undefined> {
    for (let startAt = 0; ; ) {
      const q = `startAt=${startAt}&maxResults=${PAGE}&orderBy=-created`;
      const page = ((await this.jira.api('GET', `rest/api/3/issue/${encodeURIComponent(issueKey)}/comment?${q}`, `read comments of ${issueKey}`)) ?? {}) as CommentPage;
      const comments = Array.isArray(page.comments) ? page.comments : [];
      const mine = comments.find((c) => isObject(c) && isObject(c.author) && c.author.accountId === accountId);
      if (mine) {
        const body = mine.body;
        const text = isObject(body) && body['type'] === 'doc' ? adfToText(body as unknown as AdfDoc) : typeof body === 'string' ? body : '';
        return text.trim() || undefined;
      }
      startAt += comments.length;
      if (comments.length === 0 || startAt >= (page.total ?? 0)) return undefined;
    }
  }
}
