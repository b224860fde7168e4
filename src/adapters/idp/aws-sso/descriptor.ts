/**
 * The AWS IAM Identity Center connector type: `AWS_SSO_INSTANCE_ARN`, `AWS_SSO_IDENTITY_STORE_ID`
 * and `AWS_SSO_REGION` for the default instance. No secret: credentials come from the AWS SDK's
 * default chain (AWS_ACCESS_KEY_ID/…, AWS_PROFILE, a container or instance role).
 */
import { defineConnector } from '../descriptor.js';
import { AwsSsoConnector } from './connector.js';
import { assignmentGroup, GRANT_EXAMPLE, instanceIdOf, isIdentityStoreId } from './target.js';

export const awsSso = defineConnector({
  type: 'aws-sso',
  label: 'AWS IAM Identity Center',
  settings: {
    instanceArn: {
      env: 'AWS_SSO_INSTANCE_ARN',
      hint: 'the IAM Identity Center instance ARN, arn:aws:sso:::instance/ssoins-… (Identity Center → Settings)',
      validate: (v) => (instanceIdOf(v) ? undefined : `"${v}" is not an IAM Identity Center instance ARN (arn:aws:sso:::instance/ssoins-…, from Identity Center → Settings)`),
    },
    identityStoreId: {
      env: 'AWS_SSO_IDENTITY_STORE_ID',
      hint: 'the identity store id, d-… (Identity Center → Settings)',
      validate: (v) => (isIdentityStoreId(v) ? undefined : `"${v}" is not an identity store id (d- and 10 characters, from Identity Center → Settings)`),
    },
    region: {
      env: 'AWS_SSO_REGION',
      hint: 'the region Identity Center is enabled in, e.g. eu-west-1',
      validate: (v) => (/^[a-z]{2}(-[a-z]+)+-\d+$/.test(v) ? undefined : `"${v}" is not an AWS region (e.g. eu-west-1)`),
    },
    endpoint: { env: 'AWS_SSO_ENDPOINT', hint: "an endpoint for both APIs instead of AWS's (an emulator)", kind: 'url', example: 'http://127.0.0.1:4566', default: '' },
  },
  groups: { what: 'an AWS account and permission set' },
  grantKeys: {
    keys: ['account', 'permissionSet'],
    example: GRANT_EXAMPLE,
    required: ['account', 'permissionSet'],
    target: assignmentGroup,
  },
  check: {
    title: 'AWS IAM Identity Center',
    product: 'IAM Identity Center (sso and identitystore)',
    urls: ['region', 'endpoint'],
    credentialsFix: (from) =>
      `the AWS credentials the bot runs with (its role, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE) must be allowed sso:ListInstances, sso:ListAccountAssignments, sso:CreateAccountAssignment, sso:DeleteAccountAssignment, sso:DescribeAccountAssignment*Status and identitystore:GetUserId/DescribeUser (the README's policy), and ${from.instanceArn}, ${from.identityStoreId} and ${from.region} must name the organization's Identity Center instance`,
    groupHint: 'a 12-digit account id and a permission set ARN of this instance (arn:aws:sso:::permissionSet/ssoins-…/ps-…, from Identity Center → Permission sets)',
  },
  prototype: AwsSsoConnector.prototype,
  create: (s, deps) =>
    AwsSsoConnector.fromConfig({ name: deps.name, instanceArn: s.instanceArn, identityStoreId: s.identityStoreId, region: s.region, endpoint: s.endpoint || undefined }, deps),
});
