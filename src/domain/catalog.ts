/**
 * The access catalog as the domain sees it: applications, their roles, what a role grants and
 * who approves it. Parsed and validated from YAML by `config/catalog.ts`; pure data here.
 */
import type { ReviewPolicy } from './accessReview.js';
import type { Duration } from './duration.js';
import type { Delegate } from './onBehalf.js';
import type { OnCallServiceType } from './onCall.js';
import type { ReclaimPolicy } from './reclaim.js';

/**
 * A configured connector instance's name: a connector type (okta, entra, google, atlassian) for
 * the instances the environment configures, or a name from the catalog's `connectors:` block.
 */
export type ConnectorName = string;

/** Who may approve, before it is resolved to people. */
export type ApproverRef =
  | { kind: 'owners' }
  | { kind: 'manager' }
  | { kind: 'email'; email: string }
  /** `slack-group:<handle or id>`: a Slack user group's members. */
  | { kind: 'slackGroup'; group: string };

export interface ApprovalStage {
  approvers: ApproverRef[];
  /** Distinct approvals needed to pass the stage (quorum); at least 1. */
  required: number;
}

export interface StagedPolicy {
  kind: 'stages';
  stages: ApprovalStage[];
  /** Asked when a stage resolves to nobody. Empty: the request fails at once. */
  fallback: ApproverRef[];
  remindAfterMs?: number;
  escalateAfterMs?: number;
  escalateTo: ApproverRef[];
  /** From submission; at the end the request is timed_out. */
  timeoutMs?: number;
  /** On a request: the 1-based rule of the role's `rules:` that chose this policy (absent: the role's default). */
  rule?: number;
}

/** Refused by policy: only a rule (or a ruled role's `default:`) says this. */
export interface DenyPolicy {
  kind: 'deny';
  reason: string;
  rule?: number;
}

export type ApprovalPolicy = { kind: 'auto'; rule?: number } | StagedPolicy | DenyPolicy;

export type RequestKind = 'access' | 'removal' | 'change';
export const REQUEST_KINDS: readonly RequestKind[] = ['access', 'removal', 'change'];
export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';
export const WEEKDAYS: readonly Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

/** `hours: { tz, from, to, days }`: minutes after local midnight; `to` before `from` spans midnight. */
export interface WorkingHours {
  tz: string;
  fromMin: number;
  toMin: number;
  days: Weekday[];
}

/** A rule's `when:`: every condition given must hold. None given: the rule always matches. */
export interface Conditions {
  /** IdP group ids or names (any one). */
  memberOf?: string[];
  /** IdP profile values (any one, case ignored). */
  department?: string[];
  title?: string[];
  /** The duration asked is longer than this (permanent is longer than anything). */
  durationOverMs?: number;
  kind?: RequestKind[];
  hours?: WorkingHours;
  /** The requester is on call now in one of these schedules of the service (domain/onCall.ts). */
  onCall?: OnCallCondition;
}

/** `onCall: { pagerduty: P1PAYMT }`: schedule ids of one on-call service (any one). */
export interface OnCallCondition {
  service: OnCallServiceType;
  schedules: string[];
}

export interface PolicyRule {
  name?: string;
  when: Conditions;
  policy: ApprovalPolicy;
  /** Slack channels (#name or id) or emails told of the request, with no vote. */
  notify: string[];
}

/** A role's `approval: { rules, default }`, evaluated in order, first match wins. */
export interface PolicyRules {
  rules: PolicyRule[];
  /** The connector whose directory gives the requester's groups and profile (the role's grant connector). */
  factsFrom: ConnectorName;
}

export interface GrantTarget {
  connector: ConnectorName;
  /** Group id (Okta, Entra, Atlassian), group email (Google). */
  group: string;
}

export interface BreakGlass {
  /** Channel name ("#security-alerts") or id. */
  notify: string;
  minReasonLength: number;
  /** Whose Reviewed click acknowledges the alert; the catalog's default is the application's owners. */
  reviewers: ApproverRef[];
}

export interface Role {
  id: string;
  name: string;
  grant: GrantTarget;
  /** In catalog order; offered in that order. */
  durations: Duration[];
  /** The plain policy; with `rules`, what applies when none matches (their `default:`). */
  approval: ApprovalPolicy;
  rules?: PolicyRules;
  breakGlass?: BreakGlass;
  /** How a grant of this role may be extended; absent: it may not (break-glass, permanent only). */
  extend?: Extension;
  /** Catalog `warnBefore`: how long before a grant ends its holder is warned (ms); absent: the defaults (domain/warnings.ts). */
  warnBefore?: number[];
  /** Catalog `reviews:` of this role (access reviews of its group); absent: the application's, if any. */
  reviews?: ReviewPolicy;
  /** Catalog `reclaim: { after, warn }` (the role's, else its application's): unused access is taken back. */
  reclaim?: ReclaimPolicy;
}

/** Catalog `extend: { max, approval: same | auto }`, resolved: more time, at most `maxMs`, approved by `policy`. */
export interface Extension {
  maxMs: number;
  policy: ApprovalPolicy;
}

export interface Application {
  id: string;
  name: string;
  /** Emails. */
  owners: string[];
  roles: Role[];
  /** Catalog `reviews:`: access reviews of the roles that have none of their own. */
  reviews?: ReviewPolicy;
}

/** The review settings in force for a role: its own, else its application's. */
export function reviewPolicyOf(app: Application, role: Role): ReviewPolicy | undefined {
  return role.reviews ?? app.reviews;
}

/** One part of a bundle: a role of the catalog, named by its application and role ids. */
export interface BundlePart {
  appId: string;
  roleId: string;
}

/**
 * Catalog `bundles:` (issue 19): several roles requested together in one request, approved once,
 * granted and revoked together on one Jira issue. Rules: domain/bundle.ts.
 */
export interface Bundle {
  /** Shares the /access menu with the applications: no application has this id. */
  id: string;
  name: string;
  /** Emails; `owners` in the bundle's own approval means them. Default: its parts' applications' owners. */
  owners: string[];
  /** At least two, each a different role granting a different group. */
  parts: BundlePart[];
  /** Offered in the modal; each is offered by every part. */
  durations: Duration[];
  /** The bundle's own `approval:`, or the strictest of its parts' policies (domain/bundle.ts `strictestPolicy`). */
  approval: ApprovalPolicy;
  /** Whether `approval` is the bundle's own (else derived from its parts at catalog load). */
  ownApproval: boolean;
}

export type JiraTransitionState = 'approved' | 'denied' | 'active' | 'revoked' | 'cancelled' | 'timed_out' | 'failed';

/** A request type of `jira.intake`: issues of it become requests of this kind. */
export interface IntakeRequestType {
  /** The JSM request type name, or the issue type name in a project without JSM; compared case-insensitively. */
  name: string;
  kind: RequestKind;
}

/** Custom field ids (`customfield_10050`) of the fields intake reads. */
export interface IntakeFields {
  /** Single select: the application's name or id. */
  application: string;
  /** Single select (JSM's "Access Type"): the role's name or id. */
  role: string;
  /** Single select: "4 hours" or "4h"; absent or empty: the role's shortest duration. */
  duration?: string;
  /** Change requests: the role being left (single select). */
  fromRole?: string;
  /** Removal requests: whose access (user picker); empty: the reporter's. */
  subject?: string;
}

/** Catalog `jira.intake`: requests raised in Jira, in the catalog's project. */
export interface JiraIntake {
  requestTypes: IntakeRequestType[];
  fields: IntakeFields;
}
/** What a Jira status means to the bot when a person moves a request's issue there (catalog `jira.statuses`). */
export type StatusMeaning = 'approved' | 'denied' | 'revoked' | 'cancelled';
export const STATUS_MEANINGS: readonly StatusMeaning[] = ['approved', 'denied', 'revoked', 'cancelled'];

export interface Catalog {
  jira: {
    project: string;
    issueType: string;
    /** Request state -> name of the Jira transition to apply when entering it. */
    transitions: Partial<Record<JiraTransitionState, string>>;
    /** Requests raised in Jira; absent: the bot only writes to Jira. */
    intake?: JiraIntake;
    /** Meaning -> the Jira status names that carry it (each name under one meaning only); absent: statuses mean nothing. */
    statuses?: Partial<Record<StatusMeaning, string[]>>;
  };
  applications: Application[];
  /** Catalog `delegates:`: who may request access for whom (domain/onBehalf.ts); absent: nobody but managers. */
  delegates?: Delegate[];
  /** Catalog `bundles:`; absent: none. */
  bundles?: Bundle[];
}

export function findRole(catalog: Catalog, appId: string, roleId: string): { app: Application; role: Role } | undefined {
  const app = catalog.applications.find((a) => a.id === appId);
  const role = app?.roles.find((r) => r.id === roleId);
  return app && role ? { app, role } : undefined;
}

export function findBundle(catalog: Catalog, id: string): Bundle | undefined {
  return catalog.bundles?.find((b) => b.id === id);
}
