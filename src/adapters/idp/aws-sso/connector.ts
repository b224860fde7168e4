/**
 * AWS IAM Identity Center connector: assigns a permission set in an AWS account to a user, through
 * `@aws-sdk/client-sso-admin` and `@aws-sdk/client-identitystore` (AWS JSON 1.1, SigV4). A grant's
 * "group" is `<account>/<permission set ARN>` (./target.ts).
 *
 * Calls (https://docs.aws.amazon.com/singlesignon/latest/APIReference/ and
 * https://docs.aws.amazon.com/singlesignon/latest/IdentityStoreAPIReference/):
 * - users: `GetUserId` with the unique attribute `emails.value` (then `userName`, which many
 *   directories set to the email), then `DescribeUser`. GetUserId's "only valid paths are
 *   userName and emails.value" (boto3 get_user_id); ListUsers' `UserName` filter is deprecated
 *   in favour of GetUserId (API_ListUsers.html), and it cannot filter by email.
 * - membership: `ListAccountAssignments` (account + permission set, paged) filtered to the user;
 *   `CreateAccountAssignment` / `DeleteAccountAssignment`, which are asynchronous: each answers
 *   a request id, polled with `DescribeAccountAssignmentCreationStatus` /
 *   `…DeletionStatus` until SUCCEEDED or FAILED.
 * - listing: `ListAccountAssignments`, then `DescribeUser` for each user on the page (a few at a
 *   time: the identity store has no batch read), so each member comes with its email (the one
 *   marked `Primary` first) and name, as the other connectors list them.
 * - health: `ListInstances` (the instance and its identity store), `ListAccountAssignments`.
 *
 * Idempotency (ARCHITECTURE.md §1.3): add and remove look the assignment up first, so "already
 * assigned" and "not assigned" succeed without a write whatever AWS would answer. Polling is
 * bounded: a request still IN_PROGRESS at the bound is a RetryableError, and its request id is
 * kept so the retry polls the same request instead of creating a second one. A ConflictException
 * (another operation on the assignment is running) is retryable, as AWS recommends.
 *
 * The SDK's own retries are off (`maxAttempts: 1`): retrying is the outbox's job. Credentials come
 * from the SDK's default chain (env vars, shared config, container and instance roles).
 */
import type * as SsoAdminSdk from '@aws-sdk/client-sso-admin';
import type { AccountAssignmentOperationStatus, SSOAdminClient, SSOAdminClientConfig } from '@aws-sdk/client-sso-admin';
import type * as IdentityStoreSdk from '@aws-sdk/client-identitystore';
import type { DescribeUserCommandOutput, IdentitystoreClient } from '@aws-sdk/client-identitystore';
import { lazyModule } from '../../lazyModule.js';
import { PermanentError, RetryableError, parseRetryAfter } from '../../../outbox/errors.js';
import { redactor } from '../../../redact.js';
import { runHealthChecks } from '../health.js';
import { nonEmpty } from '../http.js';
import { instanceIdOf, parseAssignmentGroup, type AssignmentTarget } from './target.js';
import type { HealthReport, IdpConnector, IdpMember, IdpUser, MemberPage, Health, MemberListing, Memberships, UserDirectory } from '../../../app/ports/idp.js';

/** The two AWS SDK clients (with @smithy and the credential providers): loaded when the first AWS connector is built (lazyModule.ts). */
const ssoAdminSdk = lazyModule<typeof SsoAdminSdk>('@aws-sdk/client-sso-admin');
const identityStoreSdk = lazyModule<typeof IdentityStoreSdk>('@aws-sdk/client-identitystore');

export interface AwsSsoConnectorConfig {
  /** The instance name (what grants name). Default the type. */
  name?: string;
  /** arn:aws:sso:::instance/ssoins-… */
  instanceArn: string;
  /** d-… */
  identityStoreId: string;
  /** The region Identity Center lives in. */
  region: string;
  /** Both clients' endpoint (an emulator); unset: AWS's. */
  endpoint?: string;
  /** Per request. Default 15 s. */
  timeoutMs?: number;
  /** Unset: the SDK's default chain. Tests give fixed keys. */
  credentials?: SSOAdminClientConfig['credentials'];
  /** How often (at most; the first reads come sooner) and how many times a request's status is read before giving up for this attempt. Default every 1 s, 12 times (~10 s). */
  poll?: { intervalMs: number; attempts: number };
}

export interface AwsSsoConnectorDeps {
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

const DEFAULT_TIMEOUT_MS = 15_000;
const DEFAULT_POLL = { intervalMs: 1000, attempts: 12 };
/** Most assignments end within seconds: the first status read comes after this, each next one twice as late, up to the interval. */
const FIRST_POLL_MS = 200;
/** ListAccountAssignments' MaxResults range is 1–100 (API_ListAccountAssignments.html). */
const MAX_PAGE = 100;
/** A runaway chain of pages is cut off here. */
const MAX_PAGES = 100;
/** When a request is still in progress at the bound, come back after this long. */
const IN_PROGRESS_RETRY_MS = 5000;
/** DescribeUser calls in flight while a page of members is listed. */
const DESCRIBE_CONCURRENCY = 4;

type Op = 'create' | 'delete';

interface CallContext {
  what: string;
  /** What a ResourceNotFoundException means in this call. */
  notFound?: string;
}

/** What the SDK throws for a service error (ServiceException) and for transport failures. */
interface AwsErrorLike {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  $fault?: unknown;
  $metadata?: { httpStatusCode?: number };
  $response?: { headers?: Record<string, string | undefined> };
  $retryable?: { throttling?: boolean };
  RetryAfterSeconds?: unknown;
}

const THROTTLING = new Set(['ThrottlingException', 'TooManyRequestsException', 'Throttling', 'RequestLimitExceeded', 'SlowDown']);
/** The credentials themselves were refused (Common Errors, https://docs.aws.amazon.com/singlesignon/latest/APIReference/CommonErrors.html). */
const BAD_CREDENTIALS = new Set(['UnrecognizedClientException', 'InvalidClientTokenId', 'InvalidSignatureException', 'SignatureDoesNotMatch', 'ExpiredTokenException', 'IncompleteSignature', 'MissingAuthenticationTokenException', 'MissingAuthenticationToken']);

export class AwsSsoConnector implements IdpConnector, UserDirectory, Memberships, Health, MemberListing {
  readonly type = 'aws-sso';

  /** Requests still IN_PROGRESS when an attempt gave up, by operation, group and user: the retry polls them. */
  private readonly pending = new Map<string, string>();
  private readonly redact = redactor([]);

  private constructor(
    readonly name: string,
    private readonly instanceArn: string,
    private readonly identityStoreId: string,
    private readonly admin: SSOAdminClient,
    private readonly store: IdentitystoreClient,
    private readonly poll: { intervalMs: number; attempts: number },
    private readonly timeoutMs: number,
    private readonly now: () => number,
    private readonly sleep: (ms: number) => Promise<void>,
  ) {}

  static fromConfig(config: AwsSsoConnectorConfig, deps: AwsSsoConnectorDeps = {}): AwsSsoConnector {
    if (!instanceIdOf(config.instanceArn)) throw new Error(`"${config.instanceArn}" is not an IAM Identity Center instance ARN (arn:aws:sso:::instance/ssoins-…)`);
    const timeoutMs = config.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const common = {
      region: config.region,
      ...(config.endpoint ? { endpoint: config.endpoint } : {}),
      ...(config.credentials ? { credentials: config.credentials } : {}),
      maxAttempts: 1,
      // Without throwOnRequestTimeout the handler only logs a warning and keeps waiting.
      requestHandler: { requestTimeout: timeoutMs, connectionTimeout: timeoutMs, throwOnRequestTimeout: true },
    };
    return new AwsSsoConnector(
      config.name ?? 'aws-sso',
      config.instanceArn,
      config.identityStoreId,
      new (ssoAdminSdk().SSOAdminClient)(common),
      new (identityStoreSdk().IdentitystoreClient)(common),
      config.poll ?? DEFAULT_POLL,
      timeoutMs,
      deps.now ?? Date.now,
      deps.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))),
    );
  }

  /** The identity store user whose email (or, failing that, user name) is `email`. */
  async findUserByEmail(email: string): Promise<IdpUser | undefined> {
    const wanted = email.trim();
    if (!wanted) return undefined;
    const userId = (await this.userIdBy('emails.value', wanted)) ?? (await this.userIdBy('userName', wanted));
    if (!userId) return undefined;
    const u = await this.describeUser(userId);
    const emails = emailsOf(u);
    const user: IdpUser = { id: userId, email: emails.find((e) => e.primary)?.value ?? emails.find((e) => e.value.toLowerCase() === wanted.toLowerCase())?.value ?? wanted };
    const name = displayNameOf(u);
    if (name) user.displayName = name;
    return user;
  }

  async isMember(group: string, userId: string): Promise<boolean> {
    const t = this.target(group);
    let token: string | undefined;
    for (let pages = 0; pages < MAX_PAGES; pages++) {
      const page = await this.listPage(t, group, token, MAX_PAGE);
      if (page.AccountAssignments?.some((a) => a.PrincipalType === 'USER' && a.PrincipalId === userId)) return true;
      token = page.NextToken;
      if (!token) return false;
    }
    throw new RetryableError(`listing the assignments of ${group} did not end after ${MAX_PAGES} pages`, undefined, 'aws_sso_paging');
  }

  async addMember(group: string, userId: string): Promise<void> {
    const t = this.target(group);
    const what = `assigning ${t.permissionSetArn} in account ${t.account} to user ${userId}`;
    await this.settle('create', group, userId, what, async () => {
      if (await this.isMember(group, userId)) return undefined;
      const out = await this.call({ what, notFound: notFound(t) }, () =>
        this.admin.send(
          new (ssoAdminSdk().CreateAccountAssignmentCommand)({ InstanceArn: this.instanceArn, TargetId: t.account, TargetType: 'AWS_ACCOUNT', PermissionSetArn: t.permissionSetArn, PrincipalType: 'USER', PrincipalId: userId }),
        ),
      );
      return out.AccountAssignmentCreationStatus;
    });
  }

  async removeMember(group: string, userId: string): Promise<void> {
    const t = this.target(group);
    const what = `removing the assignment of ${t.permissionSetArn} in account ${t.account} from user ${userId}`;
    await this.settle('delete', group, userId, what, async () => {
      if (!(await this.isMember(group, userId))) return undefined;
      const out = await this.call({ what, notFound: notFound(t) }, () =>
        this.admin.send(
          new (ssoAdminSdk().DeleteAccountAssignmentCommand)({ InstanceArn: this.instanceArn, TargetId: t.account, TargetType: 'AWS_ACCOUNT', PermissionSetArn: t.permissionSetArn, PrincipalType: 'USER', PrincipalId: userId }),
        ),
      );
      return out.AccountAssignmentDeletionStatus;
    });
  }

  /**
   * The users assigned the permission set in the account, each with its email (primary first) and
   * name from the identity store (groups assigned there are not people: left out). A user the
   * identity store no longer has is listed by id alone; any other failure to read one fails the
   * page, so a listing never drops an email it could have had.
   */
  async listMembers(group: string, page: { cursor?: string; size?: number } = {}): Promise<MemberPage> {
    const t = this.target(group);
    const out = await this.listPage(t, group, page.cursor, Math.min(Math.max(page.size ?? MAX_PAGE, 1), MAX_PAGE));
    const ids = [...new Set((out.AccountAssignments ?? []).filter((a) => a.PrincipalType === 'USER' && a.PrincipalId).map((a) => a.PrincipalId!))];
    const members = await inBatches(ids, DESCRIBE_CONCURRENCY, (id) => this.member(id));
    return out.NextToken ? { members, next: out.NextToken } : { members };
  }

  checkHealth(groups: string[]): Promise<HealthReport> {
    return runHealthChecks(
      {
        credentials: async () => {
          const instance = await this.findInstance();
          if (!instance) throw new PermanentError(`instance ${this.instanceArn} is not among this account's IAM Identity Center instances (ListInstances; check the ARN and the region)`, 'aws_sso_no_instance');
          if (instance.IdentityStoreId !== this.identityStoreId) {
            throw new PermanentError(`instance ${this.instanceArn} uses identity store ${instance.IdentityStoreId ?? '(none)'}, not ${this.identityStoreId}`, 'aws_sso_wrong_store');
          }
          return nonEmpty(instance.Name);
        },
        group: async (g) => {
          await this.listPage(this.target(g), g, undefined, 1);
          return undefined;
        },
        explain: (err) => this.redact(err instanceof Error ? err.message : String(err)),
        withoutCredentials: 'the credentials or the instance failed',
      },
      groups,
    );
  }

  // ---- internals ----------------------------------------------------------------------------

  private target(group: string): AssignmentTarget {
    const t = parseAssignmentGroup(group);
    if (!t) throw new PermanentError(`"${group}" is not an AWS account assignment (<12-digit account>/<permission set ARN>)`, 'aws_sso_bad_target');
    if (t.instance !== instanceIdOf(this.instanceArn)) {
      throw new PermanentError(`permission set ${t.permissionSetArn} belongs to instance ${t.instance}, not to ${this.instanceArn}`, 'aws_sso_other_instance');
    }
    return t;
  }

  private listPage(t: AssignmentTarget, group: string, token: string | undefined, size: number) {
    return this.call({ what: `listing the assignments of ${t.permissionSetArn} in account ${t.account}`, notFound: notFound(t) }, () =>
      this.admin.send(new (ssoAdminSdk().ListAccountAssignmentsCommand)({ InstanceArn: this.instanceArn, AccountId: t.account, PermissionSetArn: t.permissionSetArn, MaxResults: size, NextToken: token })),
    ).catch((err: unknown) => {
      if (err instanceof PermanentError && err.code === 'aws_sso_bad_token') throw new PermanentError(`not a page of ${group}'s assignments`, 'aws_sso_bad_cursor');
      throw err;
    });
  }

  private describeUser(userId: string): Promise<DescribeUserCommandOutput> {
    return this.call({ what: `reading identity store user ${userId}`, notFound: `identity store user ${userId} not found` }, () =>
      this.store.send(new (identityStoreSdk().DescribeUserCommand)({ IdentityStoreId: this.identityStoreId, UserId: userId })),
    );
  }

  private async member(userId: string): Promise<IdpMember> {
    let u: DescribeUserCommandOutput;
    try {
      u = await this.describeUser(userId);
    } catch (err) {
      if (err instanceof PermanentError && err.code === 'aws_sso_not_found') return { id: userId };
      throw err;
    }
    const m: IdpMember = { id: userId };
    const emails = emailsOf(u);
    const email = emails.find((e) => e.primary)?.value ?? emails[0]?.value;
    if (email) m.email = email;
    const name = displayNameOf(u);
    if (name) m.displayName = name;
    return m;
  }

  private async userIdBy(path: 'emails.value' | 'userName', value: string): Promise<string | undefined> {
    try {
      const out = await this.call({ what: `looking up the identity store user with ${path} ${value}`, notFound: 'no such user' }, () =>
        this.store.send(new (identityStoreSdk().GetUserIdCommand)({ IdentityStoreId: this.identityStoreId, AlternateIdentifier: { UniqueAttribute: { AttributePath: path, AttributeValue: value } } })),
      );
      return out.UserId;
    } catch (err) {
      if (err instanceof PermanentError && err.code === 'aws_sso_not_found') return undefined;
      throw err;
    }
  }

  private async findInstance() {
    let token: string | undefined;
    for (let pages = 0; pages < MAX_PAGES; pages++) {
      const out = await this.call({ what: 'listing the IAM Identity Center instances' }, () => this.admin.send(new (ssoAdminSdk().ListInstancesCommand)({ NextToken: token })));
      const found = out.Instances?.find((i) => i.InstanceArn === this.instanceArn);
      if (found) return found;
      token = out.NextToken;
      if (!token) return undefined;
    }
    return undefined;
  }

  /**
   * Starts the operation (unless an earlier attempt left its request in progress) and polls its
   * status until it ends or the bound is reached. `start` resolves undefined when there is
   * nothing to do.
   */
  private async settle(op: Op, group: string, userId: string, what: string, start: () => Promise<AccountAssignmentOperationStatus | undefined>): Promise<void> {
    const key = `${op} ${group} ${userId}`;
    let requestId = this.pending.get(key);
    const resumed = requestId !== undefined;
    let status: AccountAssignmentOperationStatus | undefined;
    if (!requestId) {
      status = await start();
      if (!status) return;
      requestId = status.RequestId;
      if (!requestId) throw new RetryableError(`AWS gave no request id while ${what}`, undefined, 'aws_sso_no_request_id');
    }
    try {
      for (let polls = 0; ; polls++) {
        if (status?.Status === 'SUCCEEDED') break;
        if (status?.Status === 'FAILED') {
          throw new PermanentError(this.redact(`AWS could not finish ${what}: ${status.FailureReason ?? 'no reason given'} (request ${requestId})`), 'aws_sso_failed');
        }
        if (polls >= this.poll.attempts) {
          this.pending.set(key, requestId);
          throw new RetryableError(`AWS is still ${what} after ${polls} status checks (request ${requestId}); its status is read again on the retry`, IN_PROGRESS_RETRY_MS, 'aws_sso_in_progress');
        }
        // A status just read from Create/Delete or an earlier attempt needs time; a resumed one is read at once.
        if (status) await this.sleep(Math.min(this.poll.intervalMs, FIRST_POLL_MS * 2 ** polls));
        status = await this.describe(op, requestId, what);
      }
      this.pending.delete(key);
    } catch (err) {
      if (err instanceof RetryableError) {
        this.pending.set(key, requestId);
        throw err;
      }
      this.pending.delete(key);
      // AWS no longer knows the request an earlier attempt left: the retry looks and starts afresh.
      if (resumed && err instanceof PermanentError && err.code === 'aws_sso_not_found') {
        throw new RetryableError(`AWS no longer knows request ${requestId} while ${what}; starting over`, undefined, 'aws_sso_request_gone');
      }
      throw err;
    }
  }

  private async describe(op: Op, requestId: string, what: string): Promise<AccountAssignmentOperationStatus | undefined> {
    const ctx = { what: `reading the status of request ${requestId} (${what})`, notFound: `request ${requestId} not found` };
    if (op === 'create') {
      const out = await this.call(ctx, () => this.admin.send(new (ssoAdminSdk().DescribeAccountAssignmentCreationStatusCommand)({ InstanceArn: this.instanceArn, AccountAssignmentCreationRequestId: requestId })));
      return out.AccountAssignmentCreationStatus ?? { Status: 'IN_PROGRESS' };
    }
    const out = await this.call(ctx, () => this.admin.send(new (ssoAdminSdk().DescribeAccountAssignmentDeletionStatusCommand)({ InstanceArn: this.instanceArn, AccountAssignmentDeletionRequestId: requestId })));
    return out.AccountAssignmentDeletionStatus ?? { Status: 'IN_PROGRESS' };
  }

  private async call<T>(ctx: CallContext, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw this.classify(err, ctx);
    }
  }

  private classify(err: unknown, ctx: CallContext): RetryableError | PermanentError {
    if (err instanceof RetryableError || err instanceof PermanentError) return err;
    const e = (err ?? {}) as AwsErrorLike;
    const name = typeof e.name === 'string' ? e.name : 'Error';
    const message = typeof e.message === 'string' ? e.message : String(err);
    const said = this.redact(`${name}: ${message}`);
    const status = e.$metadata?.httpStatusCode;
    if (status === undefined || e.$fault === undefined) return this.transportError(e, name, said, ctx);

    if (THROTTLING.has(name) || e.$retryable?.throttling) {
      return new RetryableError(`AWS throttled ${ctx.what} (${said})`, this.retryHint(e), 'aws_sso_throttled');
    }
    // AWS: "A retry (with appropriate backoff logic) is the recommended response to this exception."
    if (name === 'ConflictException') return new RetryableError(`another operation on the assignment is running while ${ctx.what} (${said})`, this.retryHint(e), 'aws_sso_conflict');
    if (e.$fault === 'server' || status >= 500 || status === 408) return new RetryableError(`AWS failed while ${ctx.what} (${said})`, this.retryHint(e), 'aws_sso_unavailable');
    if (BAD_CREDENTIALS.has(name)) return new PermanentError(`AWS credentials rejected while ${ctx.what} (${said})`, 'aws_sso_auth');
    if (name === 'AccessDeniedException') return new PermanentError(`forbidden: the AWS credentials may not do this while ${ctx.what} (${said})`, 'aws_sso_forbidden');
    if (name === 'ResourceNotFoundException') return new PermanentError(ctx.notFound ? `${ctx.notFound} (while ${ctx.what}: ${said})` : `AWS found nothing while ${ctx.what} (${said})`, 'aws_sso_not_found');
    if (name === 'ValidationException' && /token/i.test(message)) return new PermanentError(`AWS refused ${ctx.what} (${said})`, 'aws_sso_bad_token');
    return new PermanentError(`AWS refused ${ctx.what} (${said})`, 'aws_sso_rejected');
  }

  /** No answer from AWS: timeouts and connection failures are worth retrying; so is the unknown. No credentials at all is not. */
  private transportError(e: AwsErrorLike, name: string, said: string, ctx: CallContext): RetryableError | PermanentError {
    if (name === 'CredentialsProviderError') {
      return new PermanentError(`no AWS credentials found (env vars, shared config, container or instance role) while ${ctx.what}: ${said}`, 'aws_sso_no_credentials');
    }
    if (name === 'TimeoutError' || name === 'AbortError' || e.code === 'ETIMEDOUT') {
      return new RetryableError(`AWS did not answer within ${this.timeoutMs} ms while ${ctx.what}`, undefined, 'aws_sso_timeout');
    }
    if (typeof e.code === 'string' && /^E[A-Z]+$/.test(e.code)) return new RetryableError(`could not reach AWS while ${ctx.what} (${e.code})`, undefined, 'aws_sso_unreachable');
    return new RetryableError(`unexpected failure while ${ctx.what}: ${said}`, undefined, 'aws_sso_unexpected');
  }

  /** `Retry-After` (the identity store binds it to RetryAfterSeconds), else none: the outbox backs off. */
  private retryHint(e: AwsErrorLike): number | undefined {
    const header = e.$response?.headers?.['retry-after'];
    const fromHeader = parseRetryAfter(header, this.now());
    if (fromHeader !== undefined) return Math.max(1000, fromHeader);
    return typeof e.RetryAfterSeconds === 'number' ? Math.max(1000, e.RetryAfterSeconds * 1000) : undefined;
  }
}

/** A user's emails that have a value, in the identity store's order, with its `Primary` flag. */
function emailsOf(u: DescribeUserCommandOutput): { value: string; primary: boolean }[] {
  return (u.Emails ?? []).flatMap((e) => {
    const value = nonEmpty(e.Value?.trim());
    return value ? [{ value, primary: e.Primary === true }] : [];
  });
}

function displayNameOf(u: DescribeUserCommandOutput): string | undefined {
  return nonEmpty(u.DisplayName) ?? nonEmpty([u.Name?.GivenName, u.Name?.FamilyName].filter(Boolean).join(' '));
}

/** `fn` over `items`, at most `width` at a time, results in the items' order; the first failure fails the whole. */
async function inBatches<T, R>(items: readonly T[], width: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += width) out.push(...(await Promise.all(items.slice(i, i + width).map(fn))));
  return out;
}

function notFound(t: AssignmentTarget): string {
  return `AWS permission set ${t.permissionSetArn} or account ${t.account} not found`;
}
