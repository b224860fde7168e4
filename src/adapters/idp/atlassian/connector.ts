/**
 * Atlassian groups connector over jira.js 5.4 `Version3Client` (Jira Cloud REST API v3), with
 * the Jira credentials (`JIRA_HOST`, `JIRA_EMAIL`, `JIRA_API_TOKEN`). Groups grant Jira,
 * Confluence and Bitbucket access on the site.
 *
 * The client uses basic auth and an axios `timeout` in `baseRequestConfig`, so a hanging site
 * becomes ECONNABORTED; jira.js sends each request once (no retries). (The Jira record calls the
 * API directly over node:http; this connector is off the hot path and kept on jira.js.) Failures are classified by `JiraCloudRecord.classify`, the
 * record's own classifier (429/5xx retryable with `Retry-After` or `X-RateLimit-Reset`, other
 * 4xx permanent, tokens redacted), so both Jira adapters judge Jira's answers the same way.
 *
 * Endpoints (https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-groups/,
 * .../api-group-user-search/):
 * - User: GET /rest/api/3/user/search?query=<email> returns matches on display name and email
 *   (prefix matches too); only an account whose `emailAddress` equals the email, `active`, of
 *   `accountType` "atlassian" (not an app or a JSM customer) is taken. A user whose email is
 *   hidden by their privacy settings cannot be matched and reads as "no such user".
 * - Group: the catalog `group` is a group id; a value that is not UUID-shaped is taken as a
 *   group NAME (`groupname=`), for sites where ids are not at hand. Ids are preferred: names can
 *   change (the API reference says so for every group parameter).
 * - isMember and listMembers: GET /rest/api/3/group/member (paged, `maxResults` ≤ 50, `isLast`), with inactive
 *   users. Atlassian groups do not nest, so this is the direct membership.
 * - Add: POST /rest/api/3/group/user?groupId= `{accountId}`, 201. Remove: DELETE
 *   /rest/api/3/group/user?groupId=&accountId=, 200. What Jira Cloud answers for an existing
 *   member or a non-member is not documented: 400 with "…is already a member…" / "…is not a
 *   member…" is what clients match on (test/emulators/atlassian.ts models those texts, see its notes).
 *   So a 400 or 404 on add or remove is settled by reading the membership, not the message:
 *   already a member after a failed add, or not a member after a failed remove, is success;
 *   a missing group stays a PermanentError naming it.
 * - Manager: Atlassian keeps none; `findManagerEmail` is not offered.
 * - Permissions: adding and removing need "Site administration" (site-admin) or user access
 *   admin; reading members needs "Browse users and groups".
 */
import type * as JiraJs from 'jira.js';
import type { Version3Client } from 'jira.js';
import { PermanentError, RetryableError } from '../../../outbox/errors.js';
import { JiraCloudRecord } from '../../jira/record.js';
import { runHealthChecks } from '../health.js';
import type { HealthReport, IdpUser, IdpMember, MemberPage, IdpConnector, UserDirectory, Memberships, Health, MemberListing } from '../../../app/ports/idp.js';
import { lazyModule } from '../../lazyModule.js';

/** jira.js, with axios and zod: about 900 modules, loaded when the first Atlassian connector is built (lazyModule.ts). */
const jiraJs = lazyModule<typeof JiraJs>('jira.js');

export interface AtlassianConnectorConfig {
  /** The instance name (what grants name). Default the type. */
  name?: string;
  /** Site origin, e.g. https://example.atlassian.net (or an emulator's URL). */
  host: string;
  email: string;
  apiToken: string;
  /** Per request. Default 15 s. */
  timeoutMs?: number;
}

export interface AtlassianConnectorDeps {
  client?: Version3Client;
  now?: () => number;
}

const DEFAULT_TIMEOUT_MS = 15_000;
/** The group member listing's page cap. */
const MEMBER_PAGE = 50;
const SEARCH_MAX = 50;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type GroupRef = { groupId: string } | { groupname: string };

/** Status and Jira's error messages of a failed call, when Jira answered. */
interface Answer {
  status: number;
  text: string;
}

export class AtlassianConnector implements IdpConnector, UserDirectory, Memberships, Health, MemberListing {
  readonly type = 'atlassian';

  private built: Version3Client | undefined;

  private constructor(
    readonly name: string,
    /**
     * Builds the jira.js client at the first call, not with the connector: the connector is on
     * whenever Jira is configured, and jira.js (with axios and zod) takes ~150 ms to load, which a bot whose
     * catalog grants no Atlassian group never needs (lazyModule.ts).
     */
    private readonly newClient: () => Version3Client,
    /** Used only for its `classify`: the Jira adapters share one reading of Jira's failures. */
    private readonly jira: JiraCloudRecord,
  ) {}

  static fromConfig(config: AtlassianConnectorConfig, deps: AtlassianConnectorDeps = {}): AtlassianConnector {
    const timeoutMs = config.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const newClient = (): Version3Client =>
      deps.client ??
      new (jiraJs().Version3Client)({
        host: config.host,
        authentication: { basic: { email: config.email, apiToken: config.apiToken } },
        baseRequestConfig: { timeout: timeoutMs },
      });
    const jira = JiraCloudRecord.fromConfig({ host: config.host, email: config.email, apiToken: config.apiToken, timeoutMs }, { now: deps.now });
    return new AtlassianConnector(config.name ?? 'atlassian', newClient, jira);
  }

  private get client(): Version3Client {
    return (this.built ??= this.newClient());
  }

  /** The active Atlassian account whose email address is `email` (ignoring case); its id is the accountId. */
  async findUserByEmail(email: string): Promise<IdpUser | undefined> {
    const wanted = email.trim().toLowerCase();
    if (!wanted) return undefined;
    const found = await this.call(`searching Atlassian users for ${wanted}`, () => this.client.userSearch.findUsers({ query: wanted, maxResults: SEARCH_MAX }));
    const matches = (Array.isArray(found) ? found : []).filter(
      (u) => u.accountId && u.active !== false && (u.accountType ?? 'atlassian') === 'atlassian' && u.emailAddress?.toLowerCase() === wanted,
    );
    if (matches.length > 1) {
      throw new PermanentError(`${matches.length} Atlassian accounts have the email ${wanted}: ${matches.map((u) => u.accountId).join(', ')}`, 'atlassian_ambiguous_user');
    }
    const u = matches[0];
    if (!u) return undefined;
    const user: IdpUser = { id: u.accountId, email: u.emailAddress ?? wanted };
    if (u.displayName) user.displayName = u.displayName;
    return user;
  }

  /** Pages through the group's members (inactive included). A missing group is a PermanentError naming it. */
  async isMember(group: string, userId: string): Promise<boolean> {
    let cursor: string | undefined;
    do {
      const page = await this.listMembers(group, cursor === undefined ? {} : { cursor });
      if (page.members.some((m) => m.id === userId)) return true;
      cursor = page.next;
    } while (cursor !== undefined);
    return false;
  }

  /** One page of the group's members, inactive included (`maxResults` at most 50); the cursor is the next `startAt`. */
  async listMembers(group: string, page: { cursor?: string; size?: number } = {}): Promise<MemberPage> {
    const startAt = page.cursor === undefined ? 0 : Number(page.cursor);
    if (!Number.isInteger(startAt) || startAt < 0) throw new PermanentError(`not a page of Atlassian group ${group}'s members`, 'atlassian_bad_cursor');
    const ref = groupRef(group);
    const maxResults = Math.min(page.size ?? MEMBER_PAGE, MEMBER_PAGE);
    const res = await this.call(`listing the members of Atlassian group ${group}`, () => this.client.groups.getUsersFromGroup({ ...ref, includeInactiveUsers: true, startAt, maxResults }), group);
    const values = res.values ?? [];
    const members: IdpMember[] = [];
    for (const u of values) {
      if (u.accountId) members.push({ id: u.accountId, ...(u.emailAddress ? { email: u.emailAddress } : {}), ...(u.displayName ? { displayName: u.displayName } : {}) });
    }
    const end = startAt + values.length;
    const more = res.isLast === false && values.length > 0 && (res.total === undefined || end < res.total);
    return more ? { members, next: String(end) } : { members };
  }

  async addMember(group: string, userId: string): Promise<void> {
    const what = `adding account ${userId} to Atlassian group ${group}`;
    try {
      await this.client.groups.addUserToGroup({ ...groupRef(group), accountId: userId });
    } catch (err) {
      const a = answerOf(err);
      if (a?.status === 400 && /already a member/i.test(a.text)) return;
      // Undocumented answer: settle it by reading the membership (a missing group throws, naming it).
      if ((a?.status === 400 || a?.status === 404) && (await this.isMember(group, userId))) return;
      throw this.classify(err, what, group);
    }
  }

  async removeMember(group: string, userId: string): Promise<void> {
    const what = `removing account ${userId} from Atlassian group ${group}`;
    try {
      await this.client.groups.removeUserFromGroup({ ...groupRef(group), accountId: userId });
    } catch (err) {
      const a = answerOf(err);
      if (a?.status === 400 && /not a member/i.test(a.text)) return;
      // e.g. 404 "Specified user does not exist…": not a member is success; a missing group throws.
      if ((a?.status === 400 || a?.status === 404) && !(await this.isMember(group, userId))) return;
      throw this.classify(err, what, group);
    }
  }

  checkHealth(groups: string[]): Promise<HealthReport> {
    return runHealthChecks(
      {
        credentials: async () => {
          const me = await this.call('reading the Jira account', () => this.client.myself.getCurrentUser());
          return `authenticated as ${me.displayName ?? me.accountId}`;
        },
        group: async (g) => {
          const ref = groupRef(g);
          const page = await this.call(`reading Atlassian group ${g}`, () =>
            this.client.groups.bulkGetGroups('groupId' in ref ? { groupId: [ref.groupId] } : { groupName: [ref.groupname] }),
          );
          const found = (page.values ?? []).find((x) => ('groupId' in ref ? x.groupId === ref.groupId : x.name === ref.groupname));
          if (!found) throw new PermanentError(`Atlassian group ${g} not found`, 'atlassian_group_not_found');
          return found.name;
        },
        explain: (err, what) => this.classify(err, what).message,
        withoutCredentials: 'credentials rejected',
      },
      groups,
    );
  }

  // ---- internals ----------------------------------------------------------------------------

  private async call<T>(what: string, fn: () => Promise<T>, group?: string): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw this.classify(err, what, group);
    }
  }

  /** The Jira record's classification, with a 404 on a group call named as the missing group. */
  private classify(err: unknown, what: string, group?: string): RetryableError | PermanentError {
    if (err instanceof RetryableError || err instanceof PermanentError) return err;
    const a = answerOf(err);
    if (group !== undefined && a?.status === 404 && /group/i.test(a.text)) {
      return new PermanentError(`Atlassian group ${group} not found (while ${what}: ${a.text})`, 'atlassian_group_not_found');
    }
    if (a?.status === 404 && /user/i.test(a.text)) {
      return new PermanentError(`Atlassian account not found, or not visible to JIRA_EMAIL (while ${what}: ${a.text})`, 'atlassian_user_not_found');
    }
    return this.jira.classify(err, what);
  }
}

// ---- helpers --------------------------------------------------------------------------------

function groupRef(group: string): GroupRef {
  return UUID.test(group.trim()) ? { groupId: group.trim() } : { groupname: group };
}

/**
 * Status and `errorMessages` of a jira.js HttpException (an answer from Jira). Everything else
 * (timeouts, refused connections, which jira.js rethrows as AxiosError) is left to `classify`.
 */
function answerOf(err: unknown): Answer | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { status?: unknown; response?: { data?: unknown }; isAxiosError?: unknown };
  if (e.isAxiosError === true || typeof e.status !== 'number' || typeof e.response !== 'object' || e.response === null) return undefined;
  const data = e.response.data as { errorMessages?: unknown; errors?: unknown } | string | undefined;
  const parts: string[] = [];
  if (typeof data === 'object' && data !== null) {
    if (Array.isArray(data.errorMessages)) parts.push(...data.errorMessages.map(String));
    if (typeof data.errors === 'object' && data.errors !== null) parts.push(...Object.values(data.errors as Record<string, unknown>).map(String));
  } else if (typeof data === 'string') {
    parts.push(data.slice(0, 200));
  }
  return { status: e.status, text: parts.join('; ') };
}
