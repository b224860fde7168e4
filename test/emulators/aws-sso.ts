/**
 * A local IAM Identity Center: the SSO Admin API and the Identity Store API on one endpoint, in
 * the AWS JSON 1.1 protocol that `@aws-sdk/client-sso-admin` and `@aws-sdk/client-identitystore`
 * speak, for the aws-sso connector and the integration tests.
 *
 * What it models, and where it comes from:
 * - Wire: every call is `POST /` with `Content-Type: application/x-amz-json-1.1` and
 *   `X-Amz-Target: SWBExternalService.<Operation>` (sso-admin) or `AWSIdentityStore.<Operation>`
 *   (identitystore): the targets are the SDKs' own (`serviceTarget` in
 *   node_modules/@aws-sdk/client-sso-admin/dist-cjs/index.js and client-identitystore's), and
 *   the protocol is https://smithy.io/2.0/aws/protocols/aws-json-1_1-protocol.html. Timestamps
 *   are epoch seconds. Answers carry `x-amzn-RequestId`.
 * - Errors: `{"__type": "<Name>Exception", "Message": "…"}` (the members are `Message`/`Reason`
 *   in the SDKs' error schemas); the client errors of the operations (AccessDenied, Conflict,
 *   ResourceNotFound, Throttling, Validation) are HTTP 400 and InternalServerException 500, as the
 *   API reference lists them under each operation's Errors
 *   (https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_CreateAccountAssignment.html#API_CreateAccountAssignment_Errors).
 *   The identity store's ThrottlingException carries `Retry-After` (its RetryAfterSeconds member is
 *   bound to that header in the SDK schema); SSO Admin's documents no hint.
 * - Auth: SigV4. The signature is NOT verified (the emulator has no reason to hold the secret);
 *   a request without an `AWS4-HMAC-SHA256 Credential=<key id>/…` Authorization header is 403
 *   MissingAuthenticationTokenException and an unknown key id 403 UnrecognizedClientException
 *   (Common Errors, https://docs.aws.amazon.com/singlesignon/latest/APIReference/CommonErrors.html).
 * - Account assignments: CreateAccountAssignment / DeleteAccountAssignment answer a request id
 *   with Status IN_PROGRESS; DescribeAccountAssignmentCreationStatus / …DeletionStatus answer
 *   IN_PROGRESS `settleAfter` times (or until `settleMs` passed), then SUCCEEDED (the change is made then) or FAILED with a
 *   FailureReason (API_DescribeAccountAssignmentCreationStatus.html). A second write to an
 *   assignment while one is in progress is a ConflictException ("a conflict with a previous
 *   successful write", API_CreateAccountAssignment.html). Creating an assignment that exists, or
 *   deleting one that does not, is accepted and succeeds: AWS documents no error for either, and
 *   the connector looks the assignment up first, so it never depends on this.
 * - ListAccountAssignments (API_ListAccountAssignments.html): MaxResults 1–100, an opaque
 *   NextToken; an unknown permission set is ResourceNotFoundException. ListInstances.
 * - Identity store: GetUserId with `UniqueAttribute` on `userName` or `emails.value` (the only
 *   valid paths, boto3 get_user_id), ResourceNotFoundException when no user has it; DescribeUser;
 *   ListUsers with the (deprecated) `UserName` filter (API_ListUsers.html).
 *
 * Test helpers: users, permission sets and assignments are set directly; `throttle`,
 * `failNext` and `settleAfter` shape what AWS answers.
 */
import { createHash, randomUUID } from 'node:crypto';
import { EmulatorServer, type EmuRequest, type EmuResponse, type RecordedCall } from './base.js';

export const ACCESS_KEY_ID = 'AKIAEMULATOR00000001';
export const SECRET_ACCESS_KEY = 'emulator-secret-access-key-0000000000000';
export const INSTANCE_ID = 'ssoins-72230000aaaa0001';
export const INSTANCE_ARN = `arn:aws:sso:::instance/${INSTANCE_ID}`;
export const IDENTITY_STORE_ID = 'd-9067000001';

export function permissionSetArn(suffix: string): string {
  return `arn:aws:sso:::permissionSet/${INSTANCE_ID}/ps-${suffix.padEnd(16, '0').slice(0, 16)}`;
}

interface User {
  UserId: string;
  UserName: string;
  DisplayName: string;
  /** What `GetUserId` on `emails.value` finds the user by. */
  Email: string;
  /** What DescribeUser answers: `Emails`, each `{Primary, Type, Value}` (IdentityStoreAPIReference/API_DescribeUser.html). */
  Emails: { Value: string; Type: string; Primary: boolean }[];
}

interface OpRequest {
  op: 'create' | 'delete';
  id: string;
  key: string;
  account: string;
  permissionSetArn: string;
  principalId: string;
  status: 'IN_PROGRESS' | 'FAILED' | 'SUCCEEDED';
  pollsLeft: number;
  failureReason?: string;
  created: number;
}

const SSO = 'SWBExternalService.';
const IDS = 'AWSIdentityStore.';

export class AwsSsoEmulator extends EmulatorServer {
  /** Describe calls answered IN_PROGRESS before a request ends… */
  settleAfter = 1;
  /** …or the time after which it has ended anyway, seen by any call (AWS carries requests out whether or not anyone asks). */
  settleMs = 500;
  private readonly users = new Map<string, User>();
  private readonly permissionSets = new Set<string>();
  /** `account|permissionSetArn` → principal ids (USER). */
  private readonly assignments = new Map<string, Set<string>>();
  private readonly requests = new Map<string, OpRequest>();
  private readonly failures: string[] = [];
  private readonly throttles: { target: string; left: number; retryAfterSec?: number }[] = [];
  /** 400 ThrottlingException answers sent. */
  throttled = 0;

  constructor() {
    super('aws-sso');
    this.route('POST', '/', (req) => this.handleCall(req));
  }

  /**
   * A user found by `email`; `emails` is what DescribeUser lists (default: `email` alone, work,
   * primary), in that order, e.g. a personal one before the primary, or none.
   */
  addUser(u: { email: string; displayName: string; userName?: string; id?: string; emails?: { value: string; type?: string; primary?: boolean }[] }): string {
    const id = u.id ?? userIdFor(u.email);
    const emails = (u.emails ?? [{ value: u.email, primary: true }]).map((e) => ({ Value: e.value, Type: e.type ?? 'work', Primary: e.primary ?? false }));
    this.users.set(id, { UserId: id, UserName: u.userName ?? u.email, DisplayName: u.displayName, Email: u.email, Emails: emails });
    return id;
  }

  /** The user is deleted from the identity store (its account assignments stay, as the tests set them). */
  removeUser(id: string): void {
    this.users.delete(id);
  }

  userIdOf(email: string): string {
    for (const u of this.users.values()) if (u.Email === email) return u.UserId;
    throw new Error(`aws-sso emulator: no user ${email}`);
  }

  addPermissionSet(arn: string): void {
    this.permissionSets.add(arn);
  }

  assign(account: string, psArn: string, userId: string): void {
    const key = `${account}|${psArn}`;
    if (!this.assignments.has(key)) this.assignments.set(key, new Set());
    this.assignments.get(key)!.add(userId);
  }

  isAssigned(account: string, psArn: string, userId: string): boolean {
    return this.assignments.get(`${account}|${psArn}`)?.has(userId) ?? false;
  }

  assigned(account: string, psArn: string): string[] {
    return [...(this.assignments.get(`${account}|${psArn}`) ?? [])];
  }

  /** The next `times` calls to `operation` (e.g. CreateAccountAssignment, GetUserId) answer 400 ThrottlingException. */
  throttle(times: number, operation: string, opts: { retryAfterSec?: number } = {}): void {
    this.throttles.push({ target: operation, left: times, retryAfterSec: opts.retryAfterSec });
  }

  /** The next create or delete request ends FAILED with this reason. */
  failNext(reason: string): void {
    this.failures.push(reason);
  }

  /** Recorded calls to one operation. */
  callsOf(operation: string): RecordedCall[] {
    return this.calls.filter((c) => targetOf(c.headers['x-amz-target']) === operation);
  }

  private handleCall(req: EmuRequest): EmuResponse {
    const target = typeof req.headers['x-amz-target'] === 'string' ? req.headers['x-amz-target'] : '';
    if (!/^application\/x-amz-json-1\.1/.test(req.headers['content-type'] ?? '')) return err(400, 'SerializationException', 'Start of structure or map found where not expected.');
    const auth = req.headers.authorization ?? '';
    const key = /^AWS4-HMAC-SHA256 Credential=([^/]+)\//.exec(auth)?.[1];
    if (!key) return err(403, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
    if (key !== ACCESS_KEY_ID) return err(403, 'UnrecognizedClientException', 'The security token included in the request is invalid.');
    const op = targetOf(target);
    const t = this.throttles.find((x) => x.target === op && x.left > 0);
    if (t) {
      t.left -= 1;
      this.throttled += 1;
      const headers: Record<string, string> = t.retryAfterSec !== undefined ? { 'Retry-After': String(t.retryAfterSec) } : {};
      return err(400, 'ThrottlingException', 'Rate exceeded', headers);
    }
    const body = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as Record<string, unknown>;
    const now = Date.now();
    for (const r of this.requests.values()) if (r.status === 'IN_PROGRESS' && now - r.created >= this.settleMs) this.finish(r);
    if (target.startsWith(SSO)) {
      if (op !== 'ListInstances' && body.InstanceArn !== INSTANCE_ARN) return err(400, 'ValidationException', 'The request failed because it contains a syntax error.');
      return this.ssoAdmin(op, body);
    }
    if (target.startsWith(IDS)) {
      if (body.IdentityStoreId !== IDENTITY_STORE_ID) return err(400, 'ResourceNotFoundException', `Identity store ${String(body.IdentityStoreId)} not found.`);
      return this.identityStore(op, body);
    }
    return err(400, 'UnknownOperationException', `Unknown operation ${target}`);
  }

  private ssoAdmin(op: string, body: Record<string, unknown>): EmuResponse {
    switch (op) {
      case 'ListInstances':
        return ok({ Instances: [{ InstanceArn: INSTANCE_ARN, IdentityStoreId: IDENTITY_STORE_ID, OwnerAccountId: '111122223333', Name: 'emulator', Status: 'ACTIVE', CreatedDate: 1_700_000_000 }] });
      case 'ListAccountAssignments': {
        const ps = String(body.PermissionSetArn ?? '');
        const account = String(body.AccountId ?? '');
        if (!/^\d{12}$/.test(account)) return err(400, 'ValidationException', '1 validation error detected: Value at \'accountId\' failed to satisfy constraint');
        if (!this.permissionSets.has(ps)) return err(400, 'ResourceNotFoundException', `Could not find PermissionSet with ARN ${ps}`);
        const max = body.MaxResults === undefined ? 20 : Number(body.MaxResults);
        if (!Number.isInteger(max) || max < 1 || max > 100) return err(400, 'ValidationException', "1 validation error detected: Value at 'maxResults' failed to satisfy constraint");
        const all = this.assigned(account, ps).sort();
        let from = 0;
        if (body.NextToken !== undefined) {
          from = Number(Buffer.from(String(body.NextToken), 'base64url').toString('utf8').replace(/^offset:/, ''));
          if (!Number.isInteger(from) || from < 0) return err(400, 'ValidationException', 'Invalid pagination token');
        }
        const slice = all.slice(from, from + max).map((id) => ({ AccountId: account, PermissionSetArn: ps, PrincipalType: 'USER', PrincipalId: id }));
        const next = from + max < all.length ? Buffer.from(`offset:${from + max}`).toString('base64url') : undefined;
        return ok(next ? { AccountAssignments: slice, NextToken: next } : { AccountAssignments: slice });
      }
      case 'CreateAccountAssignment':
      case 'DeleteAccountAssignment': {
        const kind = op === 'CreateAccountAssignment' ? 'create' : 'delete';
        const ps = String(body.PermissionSetArn ?? '');
        const account = String(body.TargetId ?? '');
        const principal = String(body.PrincipalId ?? '');
        if (body.TargetType !== 'AWS_ACCOUNT' || body.PrincipalType !== 'USER' || !/^\d{12}$/.test(account)) return err(400, 'ValidationException', 'The request failed because it contains a syntax error.');
        if (!this.permissionSets.has(ps)) return err(400, 'ResourceNotFoundException', `Could not find PermissionSet with ARN ${ps}`);
        if (!this.users.has(principal)) return err(400, 'ResourceNotFoundException', `Could not find principal ${principal}`);
        const key = `${account}|${ps}|${principal}`;
        if ([...this.requests.values()].some((r) => r.key === key && r.status === 'IN_PROGRESS')) {
          return err(400, 'ConflictException', 'Request is already in progress for this account assignment.');
        }
        const r: OpRequest = { op: kind, id: randomUUID(), key, account, permissionSetArn: ps, principalId: principal, status: 'IN_PROGRESS', pollsLeft: this.settleAfter, created: Date.now() };
        const reason = this.failures.shift();
        if (reason) r.failureReason = reason;
        this.requests.set(r.id, r);
        return ok({ [kind === 'create' ? 'AccountAssignmentCreationStatus' : 'AccountAssignmentDeletionStatus']: statusJson(r) });
      }
      case 'DescribeAccountAssignmentCreationStatus':
      case 'DescribeAccountAssignmentDeletionStatus': {
        const kind = op === 'DescribeAccountAssignmentCreationStatus' ? 'create' : 'delete';
        const id = String(body[kind === 'create' ? 'AccountAssignmentCreationRequestId' : 'AccountAssignmentDeletionRequestId'] ?? '');
        const r = this.requests.get(id);
        if (!r || r.op !== kind) return err(400, 'ResourceNotFoundException', `Could not find request ${id}`);
        this.advance(r);
        return ok({ [kind === 'create' ? 'AccountAssignmentCreationStatus' : 'AccountAssignmentDeletionStatus']: statusJson(r) });
      }
      default:
        return err(400, 'UnknownOperationException', `Unknown operation ${op}`);
    }
  }

  /** One status read: the request ends after `settleAfter` reads. */
  private advance(r: OpRequest): void {
    if (r.status !== 'IN_PROGRESS') return;
    if (r.pollsLeft > 0) {
      r.pollsLeft -= 1;
      return;
    }
    this.finish(r);
  }

  private finish(r: OpRequest): void {
    if (r.failureReason) {
      r.status = 'FAILED';
      return;
    }
    r.status = 'SUCCEEDED';
    if (r.op === 'create') this.assign(r.account, r.permissionSetArn, r.principalId);
    else this.assignments.get(`${r.account}|${r.permissionSetArn}`)?.delete(r.principalId);
  }

  private identityStore(op: string, body: Record<string, unknown>): EmuResponse {
    switch (op) {
      case 'GetUserId': {
        const alt = (body.AlternateIdentifier ?? {}) as { UniqueAttribute?: { AttributePath?: unknown; AttributeValue?: unknown } };
        const path = alt.UniqueAttribute?.AttributePath;
        const value = alt.UniqueAttribute?.AttributeValue;
        if ((path !== 'userName' && path !== 'emails.value') || typeof value !== 'string') return err(400, 'ValidationException', 'Invalid AlternateIdentifier');
        const u = [...this.users.values()].find((x) => (path === 'userName' ? x.UserName === value : x.Email === value));
        return u ? ok({ IdentityStoreId: IDENTITY_STORE_ID, UserId: u.UserId }) : err(400, 'ResourceNotFoundException', 'USER not found.', {}, { ResourceType: 'USER' });
      }
      case 'DescribeUser': {
        const u = this.users.get(String(body.UserId ?? ''));
        return u ? ok(userJson(u)) : err(400, 'ResourceNotFoundException', 'USER not found.', {}, { ResourceType: 'USER', ResourceId: String(body.UserId) });
      }
      case 'ListUsers': {
        const filters = (Array.isArray(body.Filters) ? body.Filters : []) as { AttributePath?: unknown; AttributeValue?: unknown }[];
        if (filters.some((f) => f.AttributePath !== 'UserName')) return err(400, 'ValidationException', 'Only UserName is a valid filter attribute path.');
        const f = filters[0];
        return ok({ Users: [...this.users.values()].filter((u) => !f || u.UserName === f.AttributeValue).map(userJson) });
      }
      default:
        return err(400, 'UnknownOperationException', `Unknown operation ${op}`);
    }
  }
}

/**
 * The id the emulator gives the user with this email: the identity store's shape (a 10-character
 * prefix and a UUID, PrincipalId's pattern in API_CreateAccountAssignment.html), stable across runs.
 */
export function userIdFor(email: string): string {
  const h = createHash('sha256').update(email).digest('hex');
  return `9067000001-${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function targetOf(header: string | string[] | undefined): string {
  const t = typeof header === 'string' ? header : '';
  return t.slice(t.indexOf('.') + 1);
}

function statusJson(r: OpRequest): Record<string, unknown> {
  return {
    Status: r.status,
    RequestId: r.id,
    TargetId: r.account,
    TargetType: 'AWS_ACCOUNT',
    PermissionSetArn: r.permissionSetArn,
    PrincipalType: 'USER',
    PrincipalId: r.principalId,
    CreatedDate: r.created / 1000,
    ...(r.status === 'FAILED' ? { FailureReason: r.failureReason } : {}),
  };
}

function userJson(u: User): Record<string, unknown> {
  const [given, ...family] = u.DisplayName.split(' ');
  return {
    IdentityStoreId: IDENTITY_STORE_ID,
    UserId: u.UserId,
    UserName: u.UserName,
    DisplayName: u.DisplayName,
    Name: { GivenName: given, FamilyName: family.join(' ') },
    Emails: u.Emails,
  };
}

const JSON_11 = 'application/x-amz-json-1.1';

function ok(body: Record<string, unknown>): EmuResponse {
  return { status: 200, headers: { 'content-type': JSON_11, 'x-amzn-RequestId': randomUUID() }, body };
}

function err(status: number, type: string, message: string, headers: Record<string, string> = {}, extra: Record<string, string> = {}): EmuResponse {
  return { status, headers: { 'content-type': JSON_11, 'x-amzn-RequestId': randomUUID(), ...headers }, body: { __type: type, Message: message, ...extra } };
}
