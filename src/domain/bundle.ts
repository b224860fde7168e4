/**
 * Bundles (catalog `bundles:`, issue 19): several roles requested in one modal, approved once,
 * granted and revoked together, on one Jira issue. Pure rules; app/bundle.ts runs them.
 *
 * A bundle request is a request of its own (its approvers, votes and Jira issue); once approved,
 * each part becomes a request of its own too (`partOf`), granted through the ordinary grant path
 * with the ordinary ownership rules (domain/membership.ts), so a part that fails is retried alone.
 * The bundle's clock starts when its first part is in place: every part ends at that time, and
 * revoking the bundle, or any part of it, ends every part.
 */
import { findBundle, findRole, type ApprovalPolicy, type ApproverRef, type Bundle, type Catalog, type StagedPolicy } from './catalog.js';
import type { Duration } from './duration.js';
import type { RequestState } from './lifecycle.js';
import { policyNow } from './policy.js';
import type { CatalogNow } from './approval.js';
import { reasonProblem, type FormField, type Submission } from './submission.js';

/** The application select's value for a bundle: `bundle:<id>` (application ids have no colon). */
export const BUNDLE_PREFIX = 'bundle:';
/** The role select's one choice once a bundle is chosen: all of its parts. */
export const WHOLE_BUNDLE = 'bundle';

export function bundleChoice(id: string): string {
  return `${BUNDLE_PREFIX}${id}`;
}

/** The bundle id a select value names, if it names one. */
export function bundleIdOf(choice: string | undefined): string | undefined {
  return choice?.startsWith(BUNDLE_PREFIX) ? choice.slice(BUNDLE_PREFIX.length) : undefined;
}

/** A part as the bundle request records it at submission, so catalog edits don't rewrite history. */
export interface PartSnapshot {
  appId: string;
  roleId: string;
  appName: string;
  roleName: string;
  connector: string;
  group: string;
}

/** The bundle's parts as they are in the catalog now (parts the catalog lost are left out). */
export function partSnapshots(catalog: Catalog, bundle: Bundle): PartSnapshot[] {
  return bundle.parts.flatMap((p) => {
    const found = findRole(catalog, p.appId, p.roleId);
    return found ? [{ appId: p.appId, roleId: p.roleId, appName: found.app.name, roleName: found.role.name, connector: found.role.grant.connector, group: found.role.grant.group }] : [];
  });
}

export function partLabel(p: Pick<PartSnapshot, 'appName' | 'roleName'>): string {
  return `${p.appName} / ${p.roleName}`;
}

/** What a bundle request shows where a role name goes ("Payments on-call / Bundle of 3 parts"). */
export function bundleRoleName(parts: number): string {
  return `Bundle of ${parts} parts`;
}

/** Which part of its bundle a part request is: 1-based, of how many, and its label. */
export interface PartRef {
  index: number;
  count: number;
  name: string;
}

export function partRefOf(parts: readonly PartSnapshot[], part: { appId: string; roleId: string }): PartRef {
  const i = parts.findIndex((p) => p.appId === part.appId && p.roleId === part.roleId);
  const p = parts[i];
  return { index: i + 1, count: parts.length, name: p ? partLabel(p) : `${part.appId} / ${part.roleId}` };
}

// ----- approval ------------------------------------------------------------------------------

/** A part's policy with the owners its `owners` means (its application's). */
export interface PartPolicy {
  policy: ApprovalPolicy;
  owners: readonly string[];
}

/**
 * The strictest policy of a bundle's parts: what approving every part alone would ask, asked once.
 *
 * - A part that denies by policy denies the bundle (the first such part's reason).
 * - Auto-approved only if every part is auto-approved.
 * - Otherwise its stages are every stage of every part that needs approval, in part order, then
 *   stage order; `owners` becomes the emails of that part's application's owners (the bundle's
 *   owners are someone else). A stage that asks exactly the same approvers as an earlier one is
 *   merged into it with the larger quorum (`required`): the same people are asked once, never
 *   twice in a row, where one person may never satisfy two stages.
 * - `fallback` and `escalateTo`: every part's, in order, each approver once.
 * - `remindAfter`, `escalateAfter` and `timeout`: the shortest any part sets.
 */
export function strictestPolicy(parts: readonly PartPolicy[]): ApprovalPolicy {
  const denying = parts.find((p) => p.policy.kind === 'deny')?.policy;
  if (denying) return { kind: 'deny', reason: denying.kind === 'deny' ? denying.reason : 'denied by policy' };
  const staged = parts.flatMap((p) => (p.policy.kind === 'stages' ? [{ policy: p.policy, owners: p.owners }] : []));
  if (staged.length === 0) return { kind: 'auto' };
  const stages: StagedPolicy['stages'] = [];
  for (const { policy, owners } of staged) {
    for (const stage of policy.stages) {
      const approvers = expandOwners(stage.approvers, owners);
      const same = stages.find((s) => sameRefs(s.approvers, approvers));
      if (same) same.required = Math.max(same.required, stage.required);
      else stages.push({ approvers, required: stage.required });
    }
  }
  const out: StagedPolicy = {
    kind: 'stages',
    stages,
    fallback: union(staged.map((s) => expandOwners(s.policy.fallback, s.owners))),
    escalateTo: union(staged.map((s) => expandOwners(s.policy.escalateTo, s.owners))),
  };
  const shortest = (key: 'remindAfterMs' | 'escalateAfterMs' | 'timeoutMs') => {
    const set = staged.map((s) => s.policy[key]).filter((v): v is number => v !== undefined);
    if (set.length > 0) out[key] = Math.min(...set);
  };
  shortest('remindAfterMs');
  shortest('escalateAfterMs');
  shortest('timeoutMs');
  return out;
}

function refKey(r: ApproverRef): string {
  return r.kind === 'email' ? `email:${r.email.toLowerCase()}` : r.kind === 'slackGroup' ? `slack-group:${r.group}` : r.kind;
}

function sameRefs(a: readonly ApproverRef[], b: readonly ApproverRef[]): boolean {
  const ka = new Set(a.map(refKey));
  const kb = new Set(b.map(refKey));
  return ka.size === kb.size && [...ka].every((k) => kb.has(k));
}

/** `owners` as the emails it means for this part, each approver once. */
function expandOwners(refs: readonly ApproverRef[], owners: readonly string[]): ApproverRef[] {
  const out: ApproverRef[] = [];
  for (const r of refs) {
    // An application without owners cannot name them (the catalog refuses it); keep the ref then.
    const expanded: ApproverRef[] = r.kind === 'owners' && owners.length > 0 ? owners.map((email) => ({ kind: 'email', email })) : [r];
    for (const e of expanded) if (!out.some((o) => refKey(o) === refKey(e))) out.push(e);
  }
  return out;
}

function union(lists: readonly ApproverRef[][]): ApproverRef[] {
  const out: ApproverRef[] = [];
  for (const r of lists.flat()) if (!out.some((o) => refKey(o) === refKey(r))) out.push(r);
  return out;
}

/** The policies of a bundle's parts, as the catalog has them (for `strictestPolicy`). */
export function partPolicies(catalog: Catalog, bundle: Pick<Bundle, 'parts'>): PartPolicy[] {
  return bundle.parts.flatMap((p) => {
    const found = findRole(catalog, p.appId, p.roleId);
    return found ? [{ policy: found.role.approval, owners: found.app.owners }] : [];
  });
}

/**
 * The catalog as it is now for one request, for click-time checks (domain/approval.ts
 * `stillListed`, `canRevoke`): a bundle request answers to its bundle's policy and owners now,
 * any other to its role's.
 */
export function catalogNowOf(catalog: Catalog, r: { appId: string; roleId: string; policy: ApprovalPolicy; bundleParts: readonly PartSnapshot[] | null }): CatalogNow {
  if (r.bundleParts) {
    const b = findBundle(catalog, r.appId);
    return { policy: b?.approval, owners: b?.owners ?? [] };
  }
  const found = findRole(catalog, r.appId, r.roleId);
  return { policy: policyNow(found?.role, r.policy), owners: found?.app.owners ?? [] };
}

/** Whom `owners` means for a request of this application or bundle. */
export function ownersOf(catalog: Catalog, appId: string): readonly string[] {
  return catalog.applications.find((a) => a.id === appId)?.owners ?? findBundle(catalog, appId)?.owners ?? [];
}

// ----- the request form ----------------------------------------------------------------------

export type ValidatedBundle = { ok: true; bundle: Bundle; parts: PartSnapshot[]; duration: Duration; reason: string } | { ok: false; errors: Partial<Record<FormField, string>> };

/** A request form that chose a bundle (`bundle:<id>` as its application), checked against the catalog. */
export function validateBundleSubmission(catalog: Catalog, s: Submission): ValidatedBundle {
  const errors: Partial<Record<FormField, string>> = {};
  const id = bundleIdOf(s.appId);
  const bundle = id === undefined ? undefined : findBundle(catalog, id);
  const parts = bundle ? partSnapshots(catalog, bundle) : [];
  if (!bundle || parts.length !== bundle.parts.length) errors.application = 'This bundle is no longer in the catalog. Choose another.';
  else if (s.roleId !== WHOLE_BUNDLE) errors.role = `A bundle is requested whole: choose "${wholeBundleText(bundle.parts.length)}".`;
  const duration = bundle?.durations.find((d) => d.token === s.durationToken);
  if (bundle && !s.durationToken) errors.duration = 'Choose a duration.';
  else if (bundle && !duration) errors.duration = `This duration is not allowed for ${bundle.name}.`;
  const reason = (s.reason ?? '').trim();
  const problem = reasonProblem(reason);
  if (problem) errors.reason = problem;
  if (Object.keys(errors).length > 0 || !bundle || !duration) return { ok: false, errors };
  return { ok: true, bundle, parts, duration, reason };
}

/** The role select's one option for a bundle. */
export function wholeBundleText(parts: number): string {
  return `All ${parts} parts`;
}

// ----- progress --------------------------------------------------------------------------------

/** What a bundle request does next, given its parts' states. */
export interface BundleProgress {
  /** Its first part is in place: the bundle becomes active and its clock starts. */
  activate: boolean;
  /** Every part is in place. */
  complete: boolean;
  /** No part could be granted: the bundle fails. */
  fail: boolean;
  /** Being revoked, and no part holds a membership any more: the bundle is revoked. */
  ended: boolean;
}

const HOLDING: readonly RequestState[] = ['approved', 'active', 'revoking'];

export function bundleProgress(bundle: RequestState, parts: readonly RequestState[]): BundleProgress {
  const some = parts.length > 0;
  return {
    activate: bundle === 'approved' && parts.includes('active'),
    complete: (bundle === 'approved' || bundle === 'active') && some && parts.every((p) => p === 'active'),
    fail: bundle === 'approved' && some && parts.every((p) => p === 'failed'),
    ended: bundle === 'revoking' && !parts.some((p) => HOLDING.includes(p)),
  };
}
