/**
 * Starting an access review of an application's role (or of all its roles): from the CLI
 * (`access-bot review start`), or from a catalog schedule (`reviews: { every }`). One
 * transaction records the campaign with its settings as the catalog says now, the first step of
 * its story, its Jira issue and the listing of the first role's members; the bot does the rest
 * through its outbox (app/reviewList.ts, then app/reviewOpen.ts).
 */
import { randomBytes } from 'node:crypto';
import { DEFAULT_REVIEW_POLICY, type OnDue, type ReviewPolicy } from '../domain/accessReview.js';
import { reviewPolicyOf, type Application, type Role } from '../domain/catalog.js';
import { describeMs } from '../domain/duration.js';
import { normalizeEmail } from '../domain/people.js';
import type { Deps } from './context.js';
import { enqueue } from './effects.js';
import { hasCapability, type IdpConnector } from './ports/idp.js';
import type { CampaignPolicy, CampaignRecord, ReviewedRole } from './ports/reviews.js';
import { recordReviewStep } from './reviewRecord.js';

export interface StartReviewOpts {
  appId: string;
  /** Absent: every role of the application (a schedule on the application: those without their own). */
  roleId?: string;
  /** Overrides the catalog's `due`. */
  dueMs?: number;
  /** Overrides the catalog's `onDue`. */
  onDue?: OnDue;
  origin: 'cli' | 'schedule';
  /** Who started it, in words ("admin alice", "schedule (every 90 days)"). */
  by: string;
  /** Why the named connector cannot list a group's members; undefined when it can. */
  listingProblem: (connector: string) => string | undefined;
}

export type StartReviewResult = { ok: true; campaign: CampaignRecord } | { ok: false; error: string };

export type StartReviewDeps = Deps<'store' | 'reviews' | 'catalog' | 'now'>;

function campaignId(): string {
  return `rev_${randomBytes(9).toString('base64url')}`;
}

/** Why a configured connector instance cannot list members, for `listingProblem`. */
export function listingProblemIn(connectors: Readonly<Record<string, IdpConnector>>): (name: string) => string | undefined {
  return (name) => {
    const c = Object.hasOwn(connectors, name) ? connectors[name] : undefined;
    if (!c) return `the ${name} connector is not configured`;
    return hasCapability(c, 'memberListing') ? undefined : `the ${name} connector (${c.type}) cannot list the members of a group`;
  };
}

/** The settings a campaign runs with: the scope's `reviews:` (or the defaults), the options over them. */
function campaignPolicy(app: Application, p: ReviewPolicy, dueMs: number, onDue: OnDue): CampaignPolicy | { error: string } {
  const reviewers: string[] = [];
  for (const ref of p.reviewers) {
    for (const email of ref.kind === 'owners' ? app.owners : [ref.email]) {
      const e = normalizeEmail(email);
      if (!reviewers.includes(e)) reviewers.push(e);
    }
  }
  if (reviewers.length === 0) return { error: `${app.name} has no owners, and its reviews: names no reviewers (add owners: [...] or reviews: { reviewers: [...] })` };
  const policy: CampaignPolicy = {
    reviewers,
    fallback: p.fallback.map(normalizeEmail),
    onDue,
    // Spans the campaign is too short for are dropped (a due date set shorter on the command line).
    remindBeforeMs: p.remindBeforeMs.filter((b) => b < dueMs),
    inactiveAfterMs: p.inactiveAfterMs,
  };
  if (p.escalateAfterMs !== undefined && p.escalateAfterMs < dueMs) policy.escalateAfterMs = p.escalateAfterMs;
  return policy;
}

export function startReview(deps: StartReviewDeps, opts: StartReviewOpts): StartReviewResult {
  const catalog = deps.catalog();
  const app = catalog.applications.find((a) => a.id === opts.appId);
  if (!app) return { ok: false, error: `no application ${opts.appId} in the catalog (applications: ${catalog.applications.map((a) => a.id).join(', ')})` };
  let roles: Role[];
  if (opts.roleId !== undefined) {
    const role = app.roles.find((r) => r.id === opts.roleId);
    if (!role) return { ok: false, error: `${app.name} has no role ${opts.roleId} (roles: ${app.roles.map((r) => r.id).join(', ')})` };
    roles = [role];
  } else {
    roles = opts.origin === 'schedule' ? app.roles.filter((r) => !r.reviews) : app.roles;
    if (roles.length === 0) return { ok: false, error: `${app.name} has no role to review` };
  }
  const configured = (opts.roleId !== undefined ? reviewPolicyOf(app, roles[0]!) : app.reviews) ?? { ...DEFAULT_REVIEW_POLICY };
  const dueMs = opts.dueMs ?? configured.dueMs;
  const policy = campaignPolicy(app, configured, dueMs, opts.onDue ?? configured.onDue);
  if ('error' in policy) return { ok: false, error: policy.error };
  for (const r of roles) {
    const problem = opts.listingProblem(r.grant.connector);
    if (problem) return { ok: false, error: `${app.name} / ${r.name} cannot be reviewed: ${problem}` };
  }
  const reviewed: ReviewedRole[] = roles.map((r) => ({ id: r.id, name: r.name, connector: r.grant.connector, group: r.grant.group }));
  const scope = opts.roleId !== undefined ? `${app.name} / ${roles[0]!.name}` : `${app.name} (${roles.length === 1 ? 'role' : 'roles'} ${roles.map((r) => r.name).join(', ')})`;

  return deps.store.tx((store) => {
    const ctx = { ...deps, store };
    const busy = deps.reviews.openCampaignsOver(reviewed.map((r) => ({ connector: r.connector, group: r.group })));
    if (busy.length > 0) {
      const b = busy[0]!;
      return { ok: false, error: `a review of ${b.scope} (${b.jiraKey ?? b.id}) is still open over the same group; it must close first` };
    }
    const now = deps.now();
    const id = campaignId();
    deps.reviews.insertCampaign({ id, appId: app.id, appName: app.name, roleId: opts.roleId ?? null, scope, roles: reviewed, origin: opts.origin, startedBy: opts.by, policy, createdAt: now, dueAt: now + dueMs });
    // The issue first, and a sync behind it: its comments wait for it in the same queue.
    enqueue(store, { kind: 'review.jiraCreate', campaignId: id });
    enqueue(store, { kind: 'review.jiraSync', campaignId: id });
    recordReviewStep(ctx, id, {
      type: 'review_started',
      by: opts.by,
      scope,
      groups: reviewed.map((r) => `${r.connector} group ${r.group}`),
      reviewers: policy.reviewers,
      dueAt: now + dueMs,
      onDue: policy.onDue,
    });
    enqueue(store, { kind: 'review.list', campaignId: id, role: 0 });
    return { ok: true, campaign: deps.reviews.getCampaign(id)! };
  });
}

/** How a schedule names itself as the starter of its reviews. */
export function scheduleStarter(everyMs: number): string {
  return `schedule (every ${describeMs(everyMs)})`;
}
