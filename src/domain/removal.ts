/**
 * Removal and change requests (issue 16). A removal asks to take away a role someone holds; a
 * change trades one role of an application (A) for another (B): it is approved as a request for
 * B, and on approval B is granted, then A removed. Both are routed by the role's policy like any
 * request, and the approval rules see their `kind`.
 *
 * What someone holds is what access-bot knows of: the active grants it made, and the standing
 * memberships the user sync listed (access the bot did not grant). An approved removal is the
 * authority to remove either: the bot ends its own grants of that membership and removes the
 * membership even when it did not add it, and the record says which it was.
 *
 * Pure: what someone holds, whether a removal or change form is valid, and what carrying out a
 * removal did.
 */
import { findRole, type Application, type Catalog, type RequestKind, type Role } from './catalog.js';
import type { Duration } from './duration.js';
import { reasonProblem } from './submission.js';

/** An active grant access-bot made, as the holder's list shows it. */
export interface HeldGrant {
  requestId: string;
  jiraKey: string | null;
  appId: string;
  roleId: string;
  expiresAt: number | null;
}

/** A membership the user sync saw, by the group it is in. */
export interface SeenMembership {
  connector: string;
  groupId: string;
}

/** A role someone holds: through a grant of access-bot's, or standing (the bot did not grant it). */
export interface Holding {
  appId: string;
  roleId: string;
  appName: string;
  roleName: string;
  source: 'grant' | 'standing';
  /** The grant, for source `grant`. */
  requestId?: string;
  jiraKey?: string | null;
  expiresAt?: number | null;
}

/** How a holding travels in a select's value: ids are lowercase letters, digits and dashes, so `/` separates them. */
export function holdingValue(h: Pick<Holding, 'appId' | 'roleId'>): string {
  return `${h.appId}/${h.roleId}`;
}

export function parseHoldingValue(v: string | undefined): { appId: string; roleId: string } | undefined {
  const m = /^([a-z0-9][a-z0-9-]*)\/([a-z0-9][a-z0-9-]*)$/.exec(v ?? '');
  return m ? { appId: m[1]!, roleId: m[2]! } : undefined;
}

/**
 * The roles a person holds, each once: their grants first (the bot's own), then the catalog roles
 * whose group the user sync saw them in. A role of a group the catalog no longer grants is not
 * listed (nothing could route its removal).
 */
export function holdingsOf(catalog: Catalog, grants: readonly HeldGrant[], seen: readonly SeenMembership[]): Holding[] {
  const out: Holding[] = [];
  const has = (appId: string, roleId: string) => out.some((h) => h.appId === appId && h.roleId === roleId);
  for (const g of grants) {
    const found = findRole(catalog, g.appId, g.roleId);
    if (!found || has(g.appId, g.roleId)) continue;
    out.push({ appId: g.appId, roleId: g.roleId, appName: found.app.name, roleName: found.role.name, source: 'grant', requestId: g.requestId, jiraKey: g.jiraKey, expiresAt: g.expiresAt });
  }
  for (const app of catalog.applications) {
    for (const role of app.roles) {
      const held = seen.some((m) => m.connector === role.grant.connector && m.groupId === role.grant.group);
      if (held && !has(app.id, role.id)) out.push({ appId: app.id, roleId: role.id, appName: app.name, roleName: role.name, source: 'standing' });
    }
  }
  return out;
}

export type RemovalField = 'holding' | 'reason';
export type ChangeField = 'holding' | 'role' | 'duration' | 'reason';

export interface RemovalForm {
  appId: string | undefined;
  roleId: string | undefined;
  reason: string | undefined;
}

export interface ChangeForm extends RemovalForm {
  /** The role wanted instead (B); `roleId` is the role left (A). */
  toRoleId: string | undefined;
  durationToken: string | undefined;
}

export type ValidatedRemoval = { ok: true; app: Application; role: Role; reason: string } | { ok: false; errors: Partial<Record<RemovalField, string>> };
export type ValidatedChange = { ok: true; app: Application; from: Role; role: Role; duration: Duration; reason: string } | { ok: false; errors: Partial<Record<ChangeField, string>> };

/**
 * The role to leave: in the catalog and, when `holdings` are given (a Slack form, which lists
 * them), held. Without holdings (a request raised elsewhere) it is not checked here: carrying out
 * the removal finds whether the membership is in place, and says so on the record.
 */
function heldRole(catalog: Catalog, f: RemovalForm, holdings: readonly Holding[] | undefined): { found?: { app: Application; role: Role }; error?: string } {
  if (!f.appId || !f.roleId) return { error: 'Choose the access to give up.' };
  const found = findRole(catalog, f.appId, f.roleId);
  if (!found) return { error: 'This application or role is no longer in the catalog.' };
  if (holdings && !holdings.some((h) => h.appId === f.appId && h.roleId === f.roleId)) {
    return { error: `You do not hold ${found.app.name} / ${found.role.name}, as far as access-bot knows.` };
  }
  return { found };
}

export function validateRemoval(catalog: Catalog, f: RemovalForm, holdings: readonly Holding[] | undefined): ValidatedRemoval {
  const errors: Partial<Record<RemovalField, string>> = {};
  const held = heldRole(catalog, f, holdings);
  if (held.error) errors.holding = held.error;
  const reason = (f.reason ?? '').trim();
  const reasonError = reasonProblem(reason);
  if (reasonError) errors.reason = reasonError;
  if (!held.found || Object.keys(errors).length > 0) return { ok: false, errors };
  return { ok: true, app: held.found.app, role: held.found.role, reason };
}

export function validateChange(catalog: Catalog, f: ChangeForm, holdings: readonly Holding[] | undefined): ValidatedChange {
  const errors: Partial<Record<ChangeField, string>> = {};
  const held = heldRole(catalog, f, holdings);
  if (held.error) errors.holding = held.error;
  const app = held.found?.app;
  const from = held.found?.role;
  const to = app && f.toRoleId ? app.roles.find((r) => r.id === f.toRoleId) : undefined;
  if (app && from) {
    if (!f.toRoleId) errors.role = 'Choose the role you want instead.';
    else if (!to) errors.role = `This role is not offered for ${app.name}. Choose another.`;
    else if (to.id === from.id) errors.role = `You hold ${from.name} already. Choose another role.`;
    else if (to.grant.connector === from.grant.connector && to.grant.group === from.grant.group) errors.role = `${from.name} and ${to.name} grant the same group: a change would remove what it grants.`;
    else if (to.breakGlass) errors.role = 'Emergency access is requested on its own (/access), not as a change.';
  }
  const duration = to?.durations.find((d) => d.token === f.durationToken);
  if (to && !errors.role && !f.durationToken) errors.duration = 'Choose a duration.';
  else if (to && !errors.role && !duration) errors.duration = `This duration is not allowed for ${to.name}.`;
  const reason = (f.reason ?? '').trim();
  const reasonError = reasonProblem(reason);
  if (reasonError) errors.reason = reasonError;
  if (!app || !from || !to || !duration || Object.keys(errors).length > 0) return { ok: false, errors };
  return { ok: true, app, from, role: to, duration, reason };
}

/** What carrying out a removal found, and so what the record says it was. */
export type RemovalOutcome =
  /** The membership was access-bot's own grant: the grant ended, the membership was removed. */
  | 'ended_grant'
  /** Standing access access-bot did not grant: removed on the authority of the approved removal. */
  | 'standing'
  /** The user was not a member (any grant of access-bot's for it ended all the same). */
  | 'not_member';

export function removalOutcome(f: { isMember: boolean; record: { owned: boolean } | undefined; activeGrants: number }): RemovalOutcome {
  if (!f.isMember) return 'not_member';
  return f.record?.owned && f.activeGrants > 0 ? 'ended_grant' : 'standing';
}

/** How a request of each kind is named: the Jira summary, the approver's card. */
export function requestTitle(kind: RequestKind): string {
  return kind === 'removal' ? 'Removal request' : kind === 'change' ? 'Change request' : 'Access request';
}

/** What a request asks for, in words: "Okta admin console / Read-only, 4 hours". */
export function describeAsk(a: { kind: RequestKind; appName: string; roleName: string; fromRoleName?: string | null; duration: string; subject?: string | null }): string {
  switch (a.kind) {
    case 'removal':
      return `removal of ${a.appName} / ${a.roleName}${a.subject ? ` for ${a.subject}` : ''}`;
    case 'change':
      return `${a.appName}: change from ${a.fromRoleName ?? 'another role'} to ${a.roleName}, ${a.duration}`;
    case 'access':
      return `${a.appName} / ${a.roleName}, ${a.duration}`;
  }
}
