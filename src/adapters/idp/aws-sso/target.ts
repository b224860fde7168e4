/**
 * What an `aws-sso` grant is: a permission set assigned in one AWS account. The catalog writes it
 * as `{ account, permissionSet }`; the bot keys the membership by one string, `<account>/<ARN>`.
 *
 * Shapes from the IAM Identity Center API reference (CreateAccountAssignment's request
 * parameters, https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_CreateAccountAssignment.html):
 * TargetId `\d{12}`; PermissionSetArn
 * `arn:aws(-[a-z]{1,5}){0,3}:sso:::permissionSet/(sso)?ins-[a-zA-Z0-9-.]{16}/ps-[a-zA-Z0-9-./]{16}`;
 * InstanceArn `arn:aws(-[a-z]{1,5}){0,3}:sso:::instance/(sso)?ins-[a-zA-Z0-9-.]{16}`.
 */

const ACCOUNT_RE = /^\d{12}$/;
const PERMISSION_SET_RE = /^arn:aws(-[a-z]{1,5}){0,3}:sso:::permissionSet\/((?:sso)?ins-[a-zA-Z0-9-.]{16})\/ps-[a-zA-Z0-9-./]{16}$/;
const INSTANCE_RE = /^arn:aws(-[a-z]{1,5}){0,3}:sso:::instance\/((?:sso)?ins-[a-zA-Z0-9-.]{16})$/;
/** IdentityStoreId, from the Identity Store API reference (e.g. API_GetUserId.html). */
const IDENTITY_STORE_RE = /^(d-[0-9a-f]{10}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

export const GRANT_EXAMPLE = "{ connector: aws-sso, account: '123456789012', permissionSet: 'arn:aws:sso:::permissionSet/ssoins-…/ps-…' }";

export interface AssignmentTarget {
  account: string;
  permissionSetArn: string;
  /** The instance id in the permission set's ARN (ssoins-…). */
  instance: string;
}

/** The catalog's fields as the one group string, or what is wrong with them. */
export function assignmentGroup(fields: Readonly<Record<string, string>>): { group: string } | { error: string } {
  const account = fields.account ?? '';
  const ps = fields.permissionSet ?? '';
  if (!ACCOUNT_RE.test(account)) return { error: `account "${account}" is not an AWS account id (12 digits; quote it in YAML so leading zeros stay)` };
  if (!PERMISSION_SET_RE.test(ps)) return { error: `permissionSet "${ps}" is not a permission set ARN (arn:aws:sso:::permissionSet/ssoins-<16>/ps-<16>, from IAM Identity Center → Permission sets)` };
  return { group: `${account}/${ps}` };
}

/** The group string back as its parts; undefined when it is not one `assignmentGroup` made. */
export function parseAssignmentGroup(group: string): AssignmentTarget | undefined {
  const slash = group.indexOf('/');
  const account = group.slice(0, slash);
  const permissionSetArn = group.slice(slash + 1);
  const m = PERMISSION_SET_RE.exec(permissionSetArn);
  if (slash < 0 || !ACCOUNT_RE.test(account) || !m) return undefined;
  return { account, permissionSetArn, instance: m[2]! };
}

/** The instance id (ssoins-…) of an instance ARN; undefined when it is not one. */
export function instanceIdOf(instanceArn: string): string | undefined {
  return INSTANCE_RE.exec(instanceArn)?.[2];
}

export function isIdentityStoreId(id: string): boolean {
  return IDENTITY_STORE_RE.test(id);
}
