/**
 * Jira's accounts for the people service (app/ports/directory.ts `JiraAccounts`): who a reporter
 * is, by accountId, through `GET /rest/api/3/user?accountId=…`
 * (https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-users/#api-rest-api-3-user-get).
 * The email (`emailAddress`) is absent when the account's profile visibility hides it from the
 * bot's account; 404 means there is no such account.
 */
import { PermanentError } from '../../outbox/errors.js';
import type { JiraAccount, JiraAccounts } from '../../app/ports/directory.js';
import type { JiraCloudRecord } from './record.js';

export class JiraUsers implements JiraAccounts {
  constructor(private readonly jira: Pick<JiraCloudRecord, 'api'>) {}

  async account(accountId: string): Promise<JiraAccount | undefined> {
    let u: unknown;
    try {
      u = await this.jira.api('GET', `rest/api/3/user?accountId=${encodeURIComponent(accountId)}`, `read account ${accountId}`);
    } catch (err) {
      if (err instanceof PermanentError && err.code === 'jira_not_found') return undefined;
      throw err;
    }
    const o = (typeof u === 'object' && u !== null ? u : {}) as { displayName?: unknown; emailAddress?: unknown; active?: unknown; accountType?: unknown };
    const email = typeof o.emailAddress === 'string' && o.emailAddress.trim() !== '' ? o.emailAddress.trim() : undefined;
    return {
      accountId,
      name: typeof o.displayName === 'string' && o.displayName.trim() !== '' ? o.displayName.trim() : accountId,
      ...(email ? { email } : {}),
      active: o.active !== false,
      ...(typeof o.accountType === 'string' ? { accountType: o.accountType } : {}),
    };
  }
}
