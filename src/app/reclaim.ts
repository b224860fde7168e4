/**
 * Inactivity reclaim (catalog `reclaim: { after, warn }`, domain/reclaim.ts): access its holder no
 * longer uses is taken back. Run by jobs/holderChecks.ts on `RECLAIM_SCHEDULE`:
 *
 *   1. `reclaimHoldings` lists what is looked at: the active grants of roles with reclaim, and
 *      standing access (members of those roles' groups, as the user sync listed them, whom no
 *      request holds);
 *   2. the job asks the role's connector for each holder's last sign-in (outside any transaction);
 *   3. `applyReclaim` decides and records, one holding per transaction: a warning (a Jira comment,
 *      and a DM with Keep it), a warning withdrawn (a sign-in since), or the revocation once the
 *      grace is over, through the outbox like any revocation ("Access revoked (reclaimed: …)").
 *
 * Standing access gets a record of its own when it is first warned: a request row of origin
 * `standing`, active, with a new Jira issue ("Standing access found …" first); from then on it is
 * reclaimed, kept or offboarded like a grant, and its revocation removes the membership whoever
 * added it (domain/membership.ts).
 */
import { findRole, type Application, type Catalog, type Role } from '../domain/catalog.js';
import { reclaimVerdict, type HeldSince, type ReclaimPolicy, type ReclaimVerdict } from '../domain/reclaim.js';
import { formatTime } from '../domain/steps.js';
import { mustGet, recordStep, type Deps, type Tx } from './context.js';
import { enqueue } from './effects.js';
import type { GroupListing } from './ports/groupMembers.js';
import type { RequestRecord } from './ports/store.js';
import { startRevocation } from './revoke.js';
import { newRequestId } from './submitRequest.js';

export type ReclaimDeps = Deps<'store' | 'catalog' | 'now' | 'people'>;

/** An active grant (or a standing record) of a role with reclaim. */
export interface GrantHolding {
  kind: 'grant';
  requestId: string;
  connector: string;
  idpUserId: string;
}

/** A member of a reclaimed role's group whom no request holds. */
export interface StandingHolding {
  kind: 'standing';
  appId: string;
  roleId: string;
  connector: string;
  group: string;
  idpUserId: string;
  email: string;
  name: string | null;
  firstSeenAt: number;
}

export type Holding = GrantHolding | StandingHolding;

/** What one holding came to: the verdict, or `stale` when it changed before it was decided. */
export type ReclaimOutcome = ReclaimVerdict['kind'] | 'stale';

const PAGE = 500;

/** For each (connector, group) a role with reclaim grants: the first such role, in catalog order. */
export function reclaimRolesByGroup(catalog: Catalog): Map<string, { app: Application; role: Role & { reclaim: ReclaimPolicy } }> {
  const out = new Map<string, { app: Application; role: Role & { reclaim: ReclaimPolicy } }>();
  for (const app of catalog.applications) {
    for (const role of app.roles) {
      const key = groupKey(role.grant.connector, role.grant.group);
      if (role.reclaim && !out.has(key)) out.set(key, { app, role: role as Role & { reclaim: ReclaimPolicy } });
    }
  }
  return out;
}

function groupKey(connector: string, group: string): string {
  return `${connector}\u0000${group}`;
}

/**
 * What reclaim looks at now. Standing members need an email (whom to warn) and a listing of their
 * group; members the listing gives no email for are counted in `unreachable`.
 */
export function reclaimHoldings(ctx: Deps<'store' | 'catalog'>, groups: GroupListing): { holdings: Holding[]; unreachable: number } {
  const catalog = ctx.catalog();
  const holdings: Holding[] = [];
  for (let after = ''; ; ) {
    const page = ctx.store.holdings(after, PAGE);
    for (const r of page) {
      if (r.state === 'active' && r.idpUserId && findRole(catalog, r.appId, r.roleId)?.role.reclaim) holdings.push({ kind: 'grant', requestId: r.id, connector: r.connector, idpUserId: r.idpUserId });
    }
    if (page.length < PAGE) break;
    after = page.at(-1)!.id;
  }
  let unreachable = 0;
  for (const { app, role } of reclaimRolesByGroup(catalog).values()) {
    const { connector, group } = role.grant;
    if (!groups.lastSync(connector, group)) continue;
    for (const m of groups.currentMembers(connector, group)) {
      // Held by a request (or being given back by one): not standing access.
      if (ctx.store.anyRequestHolds(connector, group, m.idpUserId)) continue;
      if (!m.email) {
        unreachable += 1;
        continue;
      }
      holdings.push({ kind: 'standing', appId: app.id, roleId: role.id, connector, group, idpUserId: m.idpUserId, email: m.email, name: m.displayName, firstSeenAt: m.firstSeenAt });
    }
  }
  return { holdings, unreachable };
}

/** Decides one holding with the last sign-in the IdP gave, and records what follows (one transaction). */
export function applyReclaim(deps: ReclaimDeps, h: Holding, lastLoginAt: number | null): ReclaimOutcome {
  return deps.store.tx((store) => {
    const ctx = { ...deps, store };
    return h.kind === 'grant' ? reclaimGrant(ctx, h.requestId, lastLoginAt) : reclaimStanding(ctx, h, lastLoginAt);
  });
}

function reclaimGrant(ctx: Tx & Pick<ReclaimDeps, 'people'>, requestId: string, lastLoginAt: number | null): ReclaimOutcome {
  const r = ctx.store.getRequest(requestId);
  const policy = r && findRole(ctx.catalog(), r.appId, r.roleId)?.role.reclaim;
  if (!r || r.state !== 'active' || !policy) return 'stale';
  const heldSince: HeldSince = r.origin === 'standing' ? { firstSeen: r.grantedAt ?? r.createdAt } : { granted: r.grantedAt ?? r.createdAt };
  const v = reclaimVerdict({ policy, lastLoginAt, heldSince, keptAt: r.reclaimKeptAt, warnedAt: r.reclaimWarnedAt, revokeAt: r.reclaimAt, now: ctx.now() });
  act(ctx, r, v, policy, lastLoginAt);
  return v.kind;
}

function reclaimStanding(ctx: Tx & Pick<ReclaimDeps, 'people'>, h: StandingHolding, lastLoginAt: number | null): ReclaimOutcome {
  // A request may have come to hold it since the listing: then it is a grant, not standing access.
  if (ctx.store.anyRequestHolds(h.connector, h.group, h.idpUserId)) return 'stale';
  const found = findRole(ctx.catalog(), h.appId, h.roleId);
  const policy = found?.role.reclaim;
  if (!found || !policy) return 'stale';
  const v = reclaimVerdict({ policy, lastLoginAt, heldSince: { firstSeen: h.firstSeenAt }, keptAt: null, warnedAt: null, revokeAt: null, now: ctx.now() });
  // Only a warning makes standing access a matter of record; until then nothing is written.
  if (v.kind !== 'warn') return v.kind === 'none' ? 'none' : 'stale';
  act(ctx, recordStanding(ctx, h, found), v, policy, lastLoginAt);
  return v.kind;
}

function act(ctx: Tx, r: RequestRecord, v: ReclaimVerdict, policy: ReclaimPolicy, lastLoginAt: number | null): void {
  const now = ctx.now();
  switch (v.kind) {
    case 'none':
    case 'wait':
      return;
    case 'warn':
      ctx.store.updateRequest(r.id, { reclaimWarnedAt: now, reclaimAt: v.revokeAt }, now);
      recordStep(ctx, r, { type: 'reclaim_warned', connector: r.connector, lastLoginAt, idleSince: v.idleSince, afterMs: policy.afterMs, revokeAt: v.revokeAt }, 'access-bot', now);
      enqueue(ctx.store, { kind: 'slack.reclaimWarning', requestId: r.id, revokeAt: v.revokeAt });
      return;
    case 'clear':
      ctx.store.updateRequest(r.id, { reclaimWarnedAt: null, reclaimAt: null }, now);
      recordStep(ctx, r, { type: 'reclaim_cleared', connector: r.connector, activeAt: v.activeAt }, 'access-bot', now);
      enqueue(ctx.store, { kind: 'slack.reclaimWarningUpdate', requestId: r.id });
      return;
    case 'revoke': {
      const last = lastLoginAt === null ? `${r.connector} has no sign-in on record` : `last sign-in to ${r.connector} ${formatTime(lastLoginAt)}`;
      const warned = r.reclaimWarnedAt === null ? '' : `; warned ${formatTime(r.reclaimWarnedAt)}`;
      startRevocation(ctx, r.id, 'reclaimed', undefined, `unused since ${formatTime(v.idleSince)} (${last})${warned}`);
      return;
    }
  }
}

/** The record of standing access, opened with its own Jira issue: active, held since first listed. */
function recordStanding(ctx: Tx & Pick<ReclaimDeps, 'people'>, h: StandingHolding, found: { app: Application; role: Role }): RequestRecord {
  const now = ctx.now();
  const person = ctx.people.record(ctx.store, { email: h.email, ...(h.name ? { name: h.name } : {}) }, now);
  const id = newRequestId();
  ctx.store.insertRequest({
    id,
    submissionKey: null,
    appId: found.app.id,
    roleId: found.role.id,
    appName: found.app.name,
    roleName: found.role.name,
    connector: h.connector,
    groupId: h.group,
    durationToken: 'permanent',
    durationMs: null,
    reason: 'Standing access: a member of the group that no request through access-bot granted',
    policy: { kind: 'auto' },
    requesterId: person.id,
    createdAt: now,
    breakGlassNotify: null,
    nextTimerAt: null,
    origin: 'standing',
  });
  ctx.store.updateRequest(id, { state: 'active', requesterEmail: h.email.toLowerCase(), requesterName: h.name ?? h.email, idpUserId: h.idpUserId, grantedAt: h.firstSeenAt, decidedBy: 'standing access' }, now);
  ctx.store.setIdpUserId(person.id, h.connector, h.idpUserId, now);
  const r = mustGet(ctx, id);
  enqueue(ctx.store, { kind: 'jira.create', requestId: id });
  enqueue(ctx.store, { kind: 'jira.property', requestId: id });
  recordStep(ctx, r, { type: 'standing_found', connector: h.connector, group: h.group, idpUserId: h.idpUserId, email: h.email, firstSeenAt: h.firstSeenAt }, 'access-bot', now);
  return r;
}
