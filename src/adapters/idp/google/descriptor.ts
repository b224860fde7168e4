/** The Google Workspace connector type (domain-wide delegation): `GOOGLE_*` for the default instance. */
import { joinAnd, errCode } from '../../../config/values.js';
import { defineConnector } from '../descriptor.js';
import { GoogleConnector } from './connector.js';

export const google = defineConnector({
  type: 'google',
  label: 'Google',
  settings: {
    // Read at start-up (GoogleConnector.fromConfig): a key file is a path, not a secret; its private key is masked by check.
    saKeyFile: { env: 'GOOGLE_SA_KEY_FILE', hint: "path to the service account's JSON key", validate: (path, readFile) => serviceAccountKeyProblem(path, readFile) },
    adminSubject: { env: 'GOOGLE_ADMIN_SUBJECT', hint: 'the Workspace admin email the service account acts as', kind: 'email' },
    // The Google client ignores any path, and wants its root with the trailing slash.
    rootUrl: { env: 'GOOGLE_ROOT_URL', hint: 'the Directory API origin', kind: 'origin', example: 'https://admin.googleapis.com/', default: 'https://admin.googleapis.com/', normalise: (o) => `${o}/` },
    tokenUrl: { env: 'GOOGLE_TOKEN_URL', hint: 'the token endpoint URL', kind: 'url', example: 'https://oauth2.googleapis.com/token', default: 'https://oauth2.googleapis.com/token' },
  },
  groups: { what: 'the group email', email: true },
  check: {
    title: 'Google Workspace',
    product: 'Google Workspace',
    urls: ['tokenUrl', 'rootUrl'],
    credentialsFix: (from) =>
      `check ${from.saKeyFile} (an active key of the service account) and ${from.adminSubject} (an admin it acts as), and that domain-wide delegation gives the service account’s client id the scopes admin.directory.group.member, admin.directory.user.readonly and admin.directory.group.readonly`,
    groupHint: 'the group’s email address',
    secretsIn: (s, readFile) => privateKeyOf(s.saKeyFile, readFile),
  },
  prototype: GoogleConnector.prototype,
  create: (s, deps) => GoogleConnector.fromConfig({ name: deps.name, saKeyFile: s.saKeyFile, adminSubject: s.adminSubject, rootUrl: s.rootUrl, tokenUrl: s.tokenUrl }, deps),
});

/** The key must be readable JSON with the two fields the JWT needs; its content is never echoed. */
function serviceAccountKeyProblem(path: string, readFile: (p: string) => string): string | undefined {
  let text: string;
  try {
    text = readFile(path);
  } catch (e) {
    return `cannot read "${path}" (${errCode(e)})`;
  }
  let key: unknown;
  try {
    key = JSON.parse(text);
  } catch {
    return `"${path}" is not JSON (expected the service account key downloaded from Google Cloud)`;
  }
  const k = key as Record<string, unknown> | null;
  const missing = ['client_email', 'private_key'].filter((f) => typeof k?.[f] !== 'string' || !k[f]);
  if (typeof key !== 'object' || key === null || missing.length > 0) {
    return `"${path}" has no ${joinAnd(missing.length ? missing : ['client_email', 'private_key'])} (expected a service account JSON key)`;
  }
  return undefined;
}

/** The key's private key, and each base64 line of its PEM body, in case a message quotes part of it. */
function privateKeyOf(path: string, readFile: (p: string) => string): string[] {
  try {
    const key = JSON.parse(readFile(path)) as { private_key?: unknown };
    if (typeof key.private_key !== 'string') return [];
    return [key.private_key, ...key.private_key.split('\n').filter((line) => line.length >= 16 && !line.startsWith('-----'))];
  } catch {
    // The configuration already checked the file; nothing more to mask if it cannot be read now.
    return [];
  }
}
