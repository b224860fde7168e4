/**
 * What a connector type declares, in one place, so that adding one touches only its folder, its
 * emulator and the list in ./index.ts: its type name, its settings (the environment variable of
 * each for the default instance, which are secrets, defaults, hints for error lines), how
 * `access-bot check` explains a failure, and how an instance is built.
 *
 * The settings are read by config/connectors.ts, from the environment (one instance named after
 * the type) or from the catalog's `connectors:` block (named instances); compose.ts builds the
 * instances with `create`.
 */
import type { IdpConnector } from '../../app/ports/idp.js';

export interface SettingSpec {
  /** The environment variable that sets it for the default instance. */
  readonly env: string;
  /** What the value is, for "required (…)" lines, e.g. "an Okta API token". */
  readonly hint: string;
  /** Never written in the catalog, masked in output; may also be given as `<NAME>_FILE`. */
  readonly secret?: boolean;
  /** How the text is checked: an email, an http(s) URL, or an origin (scheme, host, port). Default: any text. */
  readonly kind?: 'text' | 'email' | 'url' | 'origin';
  /** For a URL or origin, the example in an error line. */
  readonly example?: string;
  /** Makes the setting optional. May depend on the other settings (Entra's token URL names the tenant). */
  readonly default?: string | ((settings: Readonly<Record<string, string>>) => string);
  /** Turns a valid value into the form the connector takes (applied to given values, not to defaults). */
  readonly normalise?: (value: string) => string;
  /** Checks what a valid value points at (a key file): the problem, or undefined. Never quote a secret. */
  readonly validate?: (value: string, readFile: (path: string) => string) => string | undefined;
}

export interface CheckSpec<K extends string> {
  /** Section title in the checklist, e.g. "Microsoft Entra ID". */
  readonly title: string;
  /** The product, in fixes: "the Entra ID API must be reachable". */
  readonly product: string;
  /** Settings that decide where requests go, in the order to suspect them. */
  readonly urls: readonly K[];
  /** The fix for refused credentials; `from` names where each setting came from (a variable or a catalog path). */
  credentialsFix(from: Readonly<Record<K, string>>): string;
  /** What a catalog `grant.group` must be, in a fix: "the group id (00g…, …)". */
  readonly groupHint: string;
  /** Checked only when the catalog grants through it (Atlassian's default instance is on whenever Jira is). */
  readonly onlyWhenUsed?: boolean;
  /** Secrets that live in files the settings name (a service account's private key), to mask in output. */
  secretsIn?(settings: Readonly<Record<K, string>>, readFile: (path: string) => string): string[];
}

export interface ConnectorDescriptor<K extends string = string> {
  /** What the catalog and MANAGER_SOURCE call it, and the name of its default instance. */
  readonly type: string;
  /** In environment lines: "to turn the Okta connector off". */
  readonly label: string;
  readonly settings: { readonly [P in K]: SettingSpec };
  /** What a catalog `grant.group` is for this type; email groups are lower-cased. */
  readonly groups: { readonly what: string; readonly email?: boolean };
  /**
   * For types whose grants are not a group: the keys a catalog grant of this type takes instead of
   * `group`, and how they make the one string the bot keys the membership by.
   */
  readonly grantKeys?: {
    readonly keys: readonly string[];
    /** Keys a grant of this type must give (each missing one is its own "required" line); the rest are optional. */
    readonly required?: readonly string[];
    /** For error lines, e.g. "{ connector: aws-sso, account: '123456789012', permissionSet: 'arn:aws:sso:::permissionSet/…' }". */
    readonly example: string;
    target(fields: Readonly<Record<string, string>>): { group: string } | { error: string };
  };
  readonly check: CheckSpec<K>;
  /**
   * The connector class's prototype: its methods are its capabilities (app/ports/idp.ts), known
   * before any instance exists, so MANAGER_SOURCE is checked at start-up.
   */
  readonly prototype: object;
  /** Builds an instance. May throw (an unreadable key file): start-up fails with the message. */
  create(settings: Readonly<Record<K, string>>, deps: { name: string; now?: () => number }): IdpConnector;
}

/** Typed in one place, so each descriptor's settings keys are checked against its `create` and fixes. */
export function defineConnector<K extends string>(d: { readonly settings: { readonly [P in K]: SettingSpec } } & ConnectorDescriptor<NoInfer<K>>): ConnectorDescriptor<K> {
  return d;
}
