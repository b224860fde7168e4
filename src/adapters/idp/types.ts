/**
 * The port every identity provider connector implements. The app layer knows only this.
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
import type { ConnectorName } from '../../domain/catalog.js';

export type { ConnectorName };

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

export interface IdpConnector {
  readonly name: ConnectorName;
  /** Finds a user by email. Resolves `undefined` when there is no such user (not an error here: the caller decides). */
  findUserByEmail(email: string): Promise<IdpUser | undefined>;
  isMember(group: string, userId: string): Promise<boolean>;
  addMember(group: string, userId: string): Promise<void>;
  removeMember(group: string, userId: string): Promise<void>;
  /** The user's manager's email, when the IdP records one (used for `manager` approvers). */
  findManagerEmail?(userId: string): Promise<string | undefined>;
  /** Credentials valid, and each named group exists. Never throws: failures are in the report. */
  checkHealth(groups: string[]): Promise<HealthReport>;
}
