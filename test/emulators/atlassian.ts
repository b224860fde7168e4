/**
 * The users and groups of an Atlassian Cloud site: the accounts Jira shows as authors, and the
 * groups the Atlassian connector (src/adapters/idp/atlassian.ts) manages. Atlassian serves them
 * from the site itself (/rest/api/3/user…, /rest/api/3/group…, with the site's credentials), so
 * the Jira emulator mounts this directory on its own server, behind its basic auth.
 *
 * Paths, parameters, paging shapes and status codes follow the Jira Cloud platform REST API v3
 * reference (https://developer.atlassian.com/cloud/jira/platform/rest/v3/, "Users", "User
 * search" and "Groups"); error bodies are Jira's `{"errorMessages": [...], "errors": {}}`, the
 * message texts cited next to each one.
 */
import { randomUUID } from 'node:crypto';
import type { EmuRequest, EmuResponse } from './base.js';
import { boolParam, intParam, isObject, jiraError, multiParam, type Json, type SiteRoute } from './jira/wire.js';

export interface EmuUser {
  accountId: string;
  emailAddress: string;
  displayName: string;
  active: boolean;
  accountType: 'atlassian' | 'app' | 'customer';
  timeZone: string;
  /**
   * The user's profile visibility hides the email: Jira leaves `emailAddress` out of the user
   * ("Depending on the user’s privacy setting, this may be returned as null", the User schema of
   * https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-users/).
   */
  emailHidden?: boolean;
}

export interface EmuGroup {
  groupId: string;
  name: string;
  /** Account ids, in the order they were added. */
  members: Set<string>;
}

export class AtlassianDirectory {
  readonly users = new Map<string, EmuUser>();
  readonly groups = new Map<string, EmuGroup>();

  /** `siteUrl`: the site's origin once it listens (for `self` links). */
  constructor(private readonly siteUrl: () => string) {}

  addUser(u: { email: string; displayName?: string; accountId?: string; active?: boolean; accountType?: EmuUser['accountType']; emailHidden?: boolean }): EmuUser {
    const user: EmuUser = {
      accountId: u.accountId ?? `712020:${randomUUID()}`,
      emailAddress: u.email,
      displayName: u.displayName ?? u.email.split('@')[0] ?? u.email,
      active: u.active ?? true,
      accountType: u.accountType ?? 'atlassian',
      timeZone: 'Etc/UTC',
      ...(u.emailHidden ? { emailHidden: true } : {}),
    };
    this.users.set(user.accountId, user);
    return user;
  }

  userByEmail(email: string): EmuUser | undefined {
    return [...this.users.values()].find((u) => u.emailAddress.toLowerCase() === email.toLowerCase());
  }

  addGroup(g: { name: string; groupId?: string; members?: string[] }): EmuGroup {
    const group: EmuGroup = { groupId: g.groupId ?? randomUUID(), name: g.name, members: new Set(g.members ?? []) };
    this.groups.set(group.groupId, group);
    return group;
  }

  /** The group with this id or name. */
  group(idOrName: string): EmuGroup | undefined {
    return this.groups.get(idOrName) ?? [...this.groups.values()].find((g) => g.name === idOrName);
  }

  /** Account ids of the group's members, in the order they were added. */
  groupMembers(idOrName: string): string[] {
    const g = this.group(idOrName);
    if (!g) throw new Error(`atlassian directory: no group ${idOrName}`);
    return [...g.members];
  }

  userJson(u: EmuUser): Json {
    return {
      self: `${this.siteUrl()}/rest/api/3/user?accountId=${encodeURIComponent(u.accountId)}`,
      accountId: u.accountId,
      accountType: u.accountType,
      ...(u.emailHidden ? {} : { emailAddress: u.emailAddress }),
      avatarUrls: { '48x48': `https://avatar-management.example/${u.accountId}/48` },
      displayName: u.displayName,
      active: u.active,
      timeZone: u.timeZone,
    };
  }

  /** Registers the user and group routes on the site. */
  mount(on: SiteRoute): void {
    const api = '/rest/api/3';
    on('GET', `${api}/user/search`, (r) => this.userSearch(r));
    on('GET', `${api}/user`, (r) => {
      const u = this.users.get(r.query.get('accountId') ?? '');
      return u ? { body: this.userJson(u) } : jiraError(404, [`Specified user does not exist or you do not have required permissions`]);
    });

    on('GET', `${api}/group/bulk`, (r) => this.groupBulk(r));
    on('GET', `${api}/group/member`, (r) => this.groupMember(r));
    on('POST', `${api}/group/user`, (r) => this.addUserToGroup(r));
    on('DELETE', `${api}/group/user`, (r) => this.removeUserFromGroup(r));
  }

  /** GET /user/search: a plain array (not a page), matching email address or display name. */
  private userSearch(req: EmuRequest): EmuResponse {
    const query = (req.query.get('query') ?? '').toLowerCase();
    const accountId = req.query.get('accountId');
    if (!query && !accountId) return jiraError(400, ['One of the query parameters query, accountId or property is required.']);
    const startAt = Math.max(0, intParam(req.query, 'startAt', 0));
    const maxResults = Math.min(1000, Math.max(1, intParam(req.query, 'maxResults', 50)));
    const found = [...this.users.values()].filter((u) => {
      if (accountId) return u.accountId === accountId;
      return u.emailAddress.toLowerCase().includes(query) || u.displayName.toLowerCase().includes(query);
    });
    return { body: found.slice(startAt, startAt + maxResults).map((u) => this.userJson(u)) };
  }

  /** GET /group/bulk: a page of `{name, groupId}`; unknown ids are simply absent. */
  private groupBulk(req: EmuRequest): EmuResponse {
    const ids = multiParam(req.query, 'groupId');
    const names = multiParam(req.query, 'groupName');
    const startAt = Math.max(0, intParam(req.query, 'startAt', 0));
    const maxResults = Math.min(50, Math.max(1, intParam(req.query, 'maxResults', 50)));
    const all = [...this.groups.values()].filter((g) => (ids.length === 0 && names.length === 0) || ids.includes(g.groupId) || names.includes(g.name));
    const values = all.slice(startAt, startAt + maxResults).map((g) => ({ name: g.name, groupId: g.groupId }));
    return { body: { maxResults, startAt, total: all.length, isLast: startAt + values.length >= all.length, values } };
  }

  /** GET /group/member: a page (`maxResults` 1..50, default 50) of active users unless includeInactiveUsers. */
  private groupMember(req: EmuRequest): EmuResponse {
    const { group, error } = this.findGroup(req);
    if (!group) return error as EmuResponse;
    const includeInactive = boolParam(req.query, 'includeInactiveUsers');
    const startAt = Math.max(0, intParam(req.query, 'startAt', 0));
    const maxResults = Math.min(50, Math.max(1, intParam(req.query, 'maxResults', 50)));
    const members = [...group.members]
      .map((id) => this.users.get(id))
      .filter((u): u is EmuUser => u !== undefined && (includeInactive || u.active));
    const values = members.slice(startAt, startAt + maxResults);
    const isLast = startAt + values.length >= members.length;
    const page = (at: number): string => `${this.siteUrl()}/rest/api/3/group/member?groupId=${group.groupId}&includeInactiveUsers=${includeInactive}&maxResults=${maxResults}&startAt=${at}`;
    const out: Json = { self: page(startAt), maxResults, startAt, total: members.length, isLast, values: values.map((u) => this.userJson(u)) };
    if (!isLast) out['nextPage'] = page(startAt + maxResults);
    return { body: out };
  }

  /**
   * POST /group/user: 201 with the group. A user already in the group gets
   * 400 "Cannot add user. User is already a member of '<group>'" — the wording clients match on
   * (e.g. pycontribs-based sync scripts, Atlassian Cloud admin tools). An unknown account gets
   * 404 "Specified user does not exist or you do not have required permissions" (pycontribs/jira#975).
   */
  private addUserToGroup(req: EmuRequest): EmuResponse {
    const { group, error } = this.findGroup(req);
    if (!group) return error as EmuResponse;
    const body = isObject(req.body) ? req.body : {};
    const accountId = typeof body['accountId'] === 'string' ? body['accountId'] : '';
    if (!accountId) return jiraError(400, ['You must specify the accountId of the user to add.']);
    if (!this.users.has(accountId)) return jiraError(404, ['Specified user does not exist or you do not have required permissions']);
    if (group.members.has(accountId)) return jiraError(400, [`Cannot add user. User is already a member of '${group.name}'`]);
    group.members.add(accountId);
    return {
      status: 201,
      body: {
        name: group.name,
        groupId: group.groupId,
        self: `${this.siteUrl()}/rest/api/3/group?groupId=${group.groupId}`,
        users: { size: group.members.size, items: [], 'max-results': 50, 'start-index': 0, 'end-index': 0 },
        expand: 'users',
      },
    };
  }

  /**
   * DELETE /group/user: 200 with an empty body. Removing a non-member gets
   * 400 "Cannot remove user '<user>' from group '<group>' since user is not a member of '<group>'"
   * — Jira's own message (DefaultGroupService tests, and clients that match "since user is not a
   * member of"); confirmed for Server/DC, assumed identical on Cloud with the account id as <user>.
   */
  private removeUserFromGroup(req: EmuRequest): EmuResponse {
    const { group, error } = this.findGroup(req);
    if (!group) return error as EmuResponse;
    const accountId = req.query.get('accountId') ?? '';
    if (!accountId) return jiraError(400, ['You must specify the accountId of the user to remove.']);
    if (!this.users.has(accountId)) return jiraError(404, ['Specified user does not exist or you do not have required permissions']);
    if (!group.members.has(accountId)) {
      return jiraError(400, [`Cannot remove user '${accountId}' from group '${group.name}' since user is not a member of '${group.name}'`]);
    }
    group.members.delete(accountId);
    return { status: 200 };
  }

  private findGroup(req: EmuRequest): { group?: EmuGroup; error?: EmuResponse } {
    const id = req.query.get('groupId');
    const name = req.query.get('groupname') ?? req.query.get('groupName');
    if (!id && !name) return { error: jiraError(400, ['You must specify a group name or a group ID.']) };
    if (id && name) return { error: jiraError(400, ['You cannot specify both a group name and a group ID.']) };
    const group = id ? this.groups.get(id) : [...this.groups.values()].find((g) => g.name === name);
    // 404 "Returned if the group is not found" (Get users from group / Add / Remove user, API reference).
    if (!group) return { error: jiraError(404, [`Specified group does not exist.`]) };
    return { group };
  }
}
