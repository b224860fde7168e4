/**
 * The GitHub connector type: `GITHUB_ORG` and either `GITHUB_TOKEN` or the three `GITHUB_APP_*`
 * settings for the default instance. The App's private key and the email map are files, read at
 * start-up; the PEM's content is masked by check.
 */
import { createPrivateKey } from 'node:crypto';
import { errCode } from '../../../config/values.js';
import { defineConnector } from '../descriptor.js';
import { GitHubConnector, parseEmailMap, readFileText } from './connector.js';

export const github = defineConnector({
  type: 'github',
  label: 'GitHub',
  settings: {
    org: { env: 'GITHUB_ORG', hint: 'the GitHub organization whose SAML identities map emails to logins, e.g. acme' },
    token: { env: 'GITHUB_TOKEN', hint: 'a personal access token (or the GITHUB_APP_* settings instead)', secret: true, default: '' },
    appId: { env: 'GITHUB_APP_ID', hint: 'the GitHub App’s app id', default: '' },
    installationId: { env: 'GITHUB_APP_INSTALLATION_ID', hint: 'the id of the App’s installation on the organization', default: '' },
    privateKeyFile: { env: 'GITHUB_APP_PRIVATE_KEY_FILE', hint: 'path to the GitHub App’s private key (.pem)', default: '', validate: (path, readFile) => privateKeyProblem(path, readFile) },
    emailMapFile: { env: 'GITHUB_EMAIL_MAP_FILE', hint: 'path to an email,login CSV, used instead of SAML identities', default: '', validate: (path, readFile) => emailMapProblem(path, readFile) },
    baseUrl: { env: 'GITHUB_API_URL', hint: 'the REST API root', kind: 'url', example: 'https://github.example.com/api/v3', default: 'https://api.github.com' },
    graphqlUrl: {
      env: 'GITHUB_GRAPHQL_URL',
      hint: 'the GraphQL endpoint',
      kind: 'url',
      example: 'https://github.example.com/api/graphql',
      default: (s) => graphqlUrlFor(s.baseUrl ?? 'https://api.github.com'),
    },
  },
  groups: { what: 'the team, as <org>/<team-slug>' },
  check: {
    title: 'GitHub',
    product: 'GitHub',
    urls: ['baseUrl'],
    credentialsFix: (from) =>
      `check ${from.token} (a classic token with admin:org, or a fine-grained token with the organization permission Members: read and write), or ${from.appId}, ${from.installationId} and ${from.privateKeyFile} (an App installed on ${from.org}'s organization with the organization permission Members: read and write)`,
    groupHint: 'the team as <org>/<team-slug> (the slug is the last part of the team’s URL, github.com/orgs/<org>/teams/<team-slug>)',
    secretsIn: (s, readFile) => pemSecrets(s.privateKeyFile, readFile),
  },
  prototype: GitHubConnector.prototype,
  create: (s, deps) =>
    GitHubConnector.fromConfig(
      {
        name: deps.name,
        org: s.org,
        baseUrl: s.baseUrl,
        graphqlUrl: s.graphqlUrl,
        token: s.token,
        appId: s.appId,
        installationId: s.installationId,
        privateKeyPem: s.privateKeyFile ? readFileText(s.privateKeyFile) : undefined,
        emailMap: s.emailMapFile ? readFileText(s.emailMapFile) : undefined,
      },
      deps,
    ),
});

/** GitHub Enterprise Server serves GraphQL at `<host>/api/graphql` beside `<host>/api/v3`; github.com at `/graphql`. */
export function graphqlUrlFor(baseUrl: string): string {
  const base = baseUrl.replace(/\/+$/, '');
  return /\/api\/v3$/.test(base) ? base.replace(/\/api\/v3$/, '/api/graphql') : `${base}/graphql`;
}

function privateKeyProblem(path: string, readFile: (p: string) => string): string | undefined {
  let text: string;
  try {
    text = readFile(path);
  } catch (e) {
    return `cannot read "${path}" (${errCode(e)})`;
  }
  try {
    createPrivateKey(text);
  } catch {
    return `"${path}" is not a PEM private key (expected the .pem downloaded from the GitHub App's settings → Private keys)`;
  }
  return undefined;
}

function emailMapProblem(path: string, readFile: (p: string) => string): string | undefined {
  let text: string;
  try {
    text = readFile(path);
  } catch (e) {
    return `cannot read "${path}" (${errCode(e)})`;
  }
  const parsed = parseEmailMap(text);
  return 'error' in parsed ? `"${path}": ${parsed.error}` : undefined;
}

function pemSecrets(path: string, readFile: (p: string) => string): string[] {
  if (!path) return [];
  try {
    const pem = readFile(path);
    return [pem, ...pem.split('\n').filter((line) => line.length >= 16 && !line.startsWith('-----'))];
  } catch {
    return [];
  }
}
