/**
 * What the app needs from an identity provider, as small capabilities. A connector instance has
 * a name (what the catalog's `grant.connector` and `MANAGER_SOURCE` say) and the capabilities
 * its service offers; one that cannot do something does not have that capability, and the app
 * asks for it by name (`hasCapability`, app/connectors.ts) with a clear error when it is absent.
 *
 * Contract for implementers:
 * - `addMember` when the user is already a member, and `removeMember` when the user is not a
 *   member, resolve normally: every effect must be idempotent (ARCHITECTURE.md §1.3).
 * - Failures are thrown as `RetryableError` (429, 5xx, timeouts, connection errors; with the
 *   service's retry hint in `retryAfterMs`) or `PermanentError` (user or group not found,
 *   forbidden, bad request). Never throw anything else on purpose.
 * - No retries inside the connector: the outbox retries with backoff and keeps the record.
 * - Never put tokens or secrets in error messages or logs.
 */
import type { AccountStatus } from '../../domain/offboarding.js';

export interface IdpUser {
  /** The id this connector's group APIs take: Okta user id, Entra object id, Google primary email, Atlassian accountId. */
  id: string;
  email: string;
  displayName?: string;
}

export interface HealthReport {
  ok: boolean;
  /** One line per check, e.g. "credentials valid", "group 00g1 exists". */
  checks: { name: string; ok: boolean; detail?: string }[];
}

/** A direct member of a group, as the IdP lists it. */
export interface IdpMember {
  /** The same id as `IdpUser.id`. */
  id: string;
  /** Absent for members that are not people (a nested group, a device) or whose email is hidden. */
  email?: string;
  displayName?: string;
  /** Profile facts a review shows, when the listing carries them (Okta's does). */
  profile?: MemberProfile;
  /**
   * The member's last sign-in, when the listing carries it: a time (ms), or null for never.
   * Absent: this listing does not say (the connector's `lastLoginOf` may).
   */
  lastLoginAt?: number | null;
}

export interface MemberProfile {
  title?: string;
  department?: string;
  /** The manager as the IdP names them (a display name, a login or an email). */
  manager?: string;
}

export interface MemberPage {
  members: IdpMember[];
  /** Pass back as `cursor` for the next page; absent on the last page. Opaque. */
  next?: string;
}

export interface UserDirectory {
  /** Finds a user by email. Resolves `undefined` when there is no such user (not an error here: the caller decides). */
  findUserByEmail(email: string): Promise<IdpUser | undefined>;
}

/**
 * What `addMember` resolves when the service took the add but holds it until the person acts
 * (GitHub: someone outside the organization gets an emailed invitation, and the team membership is
 * `pending` until they accept it). The access has not started; the connector also has
 * `PendingMemberships`, through which the grant waits for it.
 */
export interface PendingAdd {
  /** For the record, in words: what was sent to whom, and what starts the access. */
  pending: string;
}

/** Direct membership: what the bot grants and revokes. */
export interface Memberships {
  /** Counts a pending membership (PendingAdd) as present, so that removing it cancels what the bot sent. */
  isMember(group: string, userId: string): Promise<boolean>;
  /** Resolves once the membership is in place, or with a PendingAdd when it waits for the person. */
  addMember(group: string, userId: string): Promise<void | PendingAdd>;
  /** Removes an active or a pending membership. */
  removeMember(group: string, userId: string): Promise<void>;
}

/** For services whose adds can be pending (PendingAdd). */
export interface PendingMemberships {
  /**
   * Resolves once a membership `addMember` reported pending is in force. While it is still
   * pending: a RetryableError saying when to look again; when it is gone (the invitation was
   * declined, cancelled or expired): a PermanentError saying so. It only reads: it never adds
   * again, which could send the person a second invitation.
   */
  confirmMembership(group: string, userId: string): Promise<void>;
}

export interface ManagerSource {
  /** The user's manager's email, when the IdP records one (used for `manager` approvers). */
  findManagerEmail(userId: string): Promise<string | undefined>;
}

export interface Health {
  /** Credentials valid, and each named group exists. Never throws: failures are in the report. */
  checkHealth(groups: string[]): Promise<HealthReport>;
}

/** For reviews: who is in a group now, page by page. */
export interface MemberListing {
  /**
   * One page of the group's direct members; a group that does not exist is a PermanentError.
   * `size` is a wish (each service caps it; some carry the first page's size in the cursor):
   * pass the same one with every cursor.
   */
  listMembers(group: string, page?: { cursor?: string; size?: number }): Promise<MemberPage>;
}

/** A group as the IdP lists it, for `access-bot catalog import`. */
export interface IdpGroup {
  /** What a grant's `group` takes for this connector. */
  id: string;
  name: string;
  description?: string;
  /** The group's own attributes beyond its name (Okta: the group profile's custom attributes), as the IdP gives them. */
  attributes?: Readonly<Record<string, unknown>>;
}

export interface GroupPage {
  groups: IdpGroup[];
  /** Pass back as `cursor` for the next page; absent on the last page. Opaque. */
  next?: string;
}

/**
 * Lists the IdP's groups that match its own filter language, page by page (`access-bot catalog
 * import`). Okta has it (a `search` expression). Entra, Google, Atlassian, Atlassian
 * organizations, GitHub, Bitbucket Data Center and AWS IAM Identity Center do not yet: the
 * import says so for them. A filter the IdP rejects is a PermanentError with the IdP's words.
 */
export interface GroupDirectory {
  listGroups(filter: string, page?: { cursor?: string }): Promise<GroupPage>;
}

/** A group a user is in, as the IdP names it (for `memberOf` rules). */
export interface UserGroup {
  id: string;
  name?: string;
}

/** For approval rules: what the IdP says about the requester. */
export interface UserGroups {
  /** The groups the user is a direct member of; a user that does not exist is a PermanentError. */
  groupsOf(userId: string): Promise<UserGroup[]>;
}

export interface UserProfile {
  /** Profile attributes rules may test (`department`, `title`); absent when not recorded. */
  profileOf(userId: string): Promise<{ department?: string; title?: string }>;
}

/**
 * For reviews and inactivity reclaim: when a user last signed in, as the IdP records it. Okta
 * (`lastLogin`), Google Workspace (`lastLoginTime`), Entra ID (`signInActivity`, which needs an
 * Entra ID P1 or P2 licence and AuditLog.Read.All: without them Graph refuses and this is a
 * PermanentError saying so) and Atlassian organizations (the latest of the per-product
 * last-active dates) have it. Atlassian site groups, GitHub, Bitbucket Data Center and AWS IAM
 * Identity Center do not: their APIs give no sign-in time for a member.
 */
export interface LoginActivity {
  /** The user's last sign-in (ms), or null when they never signed in; a user that does not exist is a PermanentError. */
  lastLoginOf(userId: string): Promise<number | null>;
}

/**
 * For offboarding: whether the user's account still lets them work. Okta (`status`), Google
 * Workspace (`suspended`, `archived`), Entra ID (`accountEnabled`) and Atlassian organizations
 * (`accountStatus`, `membershipStatus`) have it; the other connector types do not.
 */
export interface AccountStatuses {
  /**
   * The account's state. `deleted` only when the IdP says this user does not exist (its own
   * "not found" for the user); any other failure is thrown (Retryable or Permanent), never
   * reported as a departure.
   */
  accountStatus(userId: string): Promise<AccountStatus>;
}

export interface Capabilities {
  userDirectory: UserDirectory;
  memberships: Memberships;
  managerSource: ManagerSource;
  health: Health;
  memberListing: MemberListing;
  groupDirectory: GroupDirectory;
  userGroups: UserGroups;
  userProfile: UserProfile;
  pendingMemberships: PendingMemberships;
  loginActivity: LoginActivity;
  accountStatus: AccountStatuses;
}
export type Capability = keyof Capabilities;

/** The methods that make up each capability: a connector has a capability when it has all of them. */
export const CAPABILITY_METHODS: { readonly [C in Capability]: readonly (keyof Capabilities[C])[] } = {
  userDirectory: ['findUserByEmail'],
  memberships: ['isMember', 'addMember', 'removeMember'],
  managerSource: ['findManagerEmail'],
  health: ['checkHealth'],
  memberListing: ['listMembers'],
  groupDirectory: ['listGroups'],
  userGroups: ['groupsOf'],
  userProfile: ['profileOf'],
  pendingMemberships: ['confirmMembership'],
  loginActivity: ['lastLoginOf'],
  accountStatus: ['accountStatus'],
};

/** What each capability is for, in "cannot …" messages. */
export const CAPABILITY_WORDS: { readonly [C in Capability]: string } = {
  userDirectory: 'look users up by email',
  memberships: 'add people to groups and remove them',
  managerSource: 'tell who a user’s manager is',
  health: 'check its connection',
  memberListing: 'list the members of a group',
  groupDirectory: 'list its groups',
  userGroups: 'list the groups a user is in',
  userProfile: 'read a user’s department and title',
  pendingMemberships: 'tell when a pending membership comes into force',
  loginActivity: 'tell when a user last signed in',
  accountStatus: 'tell whether a user’s account is active',
};

/** A configured connector instance, with whichever capabilities its type has. */
export interface IdpConnector extends Partial<UserDirectory & Memberships & ManagerSource & Health & MemberListing & GroupDirectory & UserGroups & UserProfile & PendingMemberships & LoginActivity & AccountStatuses> {
  /** The instance name: the type for the default instances (okta, entra, …), or a name from the catalog's `connectors:`. */
  readonly name: string;
  /** The connector type: okta, entra, google, atlassian. */
  readonly type: string;
}

type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never;

/** A connector with the capabilities `C` (one or a union of them). */
export type IdpConnectorWith<C extends Capability> = IdpConnector & UnionToIntersection<Capabilities[C]>;

/**
 * Whether `c` has the capability. Works on a connector's prototype as well as on an instance, so
 * what a connector type can do is known before any instance exists.
 */
export function hasCapability<T extends object, C extends Capability>(c: T, capability: C): c is T & UnionToIntersection<Capabilities[C]> {
  return CAPABILITY_METHODS[capability].every((m) => typeof (c as Record<PropertyKey, unknown>)[m] === 'function');
}
