/**
 * The Bitbucket Data Center connector type: `BITBUCKET_BASE_URL` with `BITBUCKET_TOKEN` (an HTTP
 * access token, sent as Bearer) or `BITBUCKET_USERNAME` and `BITBUCKET_PASSWORD` (Basic) for the
 * default instance. A grant names a group, or a project or repository permission.
 */
import { defineConnector } from '../descriptor.js';
import { BitbucketConnector, permissionTarget } from './connector.js';

export const bitbucketDc = defineConnector({
  type: 'bitbucket-dc',
  label: 'Bitbucket',
  settings: {
    // A URL, not an origin: Bitbucket often runs under a context path (https://example.com/bitbucket).
    baseUrl: { env: 'BITBUCKET_BASE_URL', hint: 'your Bitbucket Data Center, e.g. https://bitbucket.example.com', kind: 'url', example: 'https://bitbucket.example.com' },
    // Either credential may be left out; the connector refuses to start with neither (connector.ts).
    token: { env: 'BITBUCKET_TOKEN', hint: 'an HTTP access token with PROJECT_ADMIN or REPO_ADMIN (project and repository permissions only)', secret: true, default: '' },
    username: { env: 'BITBUCKET_USERNAME', hint: 'the username of a Bitbucket account with the ADMIN global permission', default: '' },
    password: { env: 'BITBUCKET_PASSWORD', hint: 'the password of BITBUCKET_USERNAME', secret: true, default: '' },
  },
  groups: { what: 'the Bitbucket group name' },
  grantKeys: {
    keys: ['group', 'project', 'repository', 'permission'],
    example: '{ connector: bitbucket-dc, group: payments-devs }, { connector: bitbucket-dc, project: PAY, permission: PROJECT_WRITE } or { connector: bitbucket-dc, project: PAY, repository: payments, permission: REPO_WRITE }',
    target: permissionTarget,
  },
  check: {
    title: 'Bitbucket Data Center',
    product: 'Bitbucket',
    urls: ['baseUrl'],
    credentialsFix: (from) =>
      `set ${from.username} and ${from.password} to a Bitbucket account with the ADMIN global permission (Administration → Global permissions), which group grants need (HTTP access tokens cannot change groups, BSERV-10482); for project or repository permissions only, ${from.token} with PROJECT_ADMIN (REPO_ADMIN) on each is enough`,
    groupHint: 'an existing Bitbucket group name (Administration → Groups), or project: with permission: for a project or repository permission',
  },
  prototype: BitbucketConnector.prototype,
  create: (s, deps) => BitbucketConnector.fromConfig({ name: deps.name, baseUrl: s.baseUrl, token: s.token, username: s.username, password: s.password }, deps),
});
