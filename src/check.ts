/**
 * `access-bot check`: validates the environment and the catalog, then tests every connection the
 * bot will use (Slack token and scopes, the Jira project, each identity connector and every group
 * the catalog names, each on-call service and every schedule the rules name) and prints a
 * checklist with a precise fix under each failure; then, for a sample of people, which approval
 * rule each would meet now (check/sample.ts).
 *
 * Contract:
 * - Never throws for what it checks: a refused connection, a timeout or an error answer is a
 *   failing item naming the variable to look at.
 * - Never prints a secret: messages come from adapters that already keep tokens out, and every
 *   line is masked once more against each secret in the environment before it is written.
 * - `ok` is false when any item failed. Warnings (`!`) are things this check cannot confirm or
 *   that work but could be tighter; they do not fail the run.
 */
import { Buffer } from 'node:buffer';
import fs from 'node:fs';
import { connectorType } from './adapters/idp/index.js';
import { catalogItem, catalogSummary, envItem, envSummary, managerItems } from './check/config.js';
import { checkIdp, idpsToCheck, instanceTitle } from './check/idp.js';
import { checkJira } from './check/jira.js';
import { checkOnCall, ON_CALL_TITLES } from './check/onCall.js';
import { policySample } from './check/sample.js';
import { Checklist, item, redact, type CheckItem, type CheckResult } from './check/report.js';
import { checkSlack } from './check/slack.js';
import { loadCatalog } from './config/catalog.js';
import { DEFAULTS, SECRET_VARS, catalogOptionsOf, loadConfig } from './config/env.js';
import { secretsOf, type ConnectorConfig } from './config/types.js';
import type { Catalog } from './domain/catalog.js';

export { formatItem, type CheckItem, type CheckResult, type CheckStatus } from './check/report.js';
export { REQUIRED_BOT_SCOPES } from './check/slack.js';

export interface CheckOptions {
  /** Where checklist lines go; default stdout. */
  out?: (line: string) => void;
  /** Per network request. Default 5 s: a setup check should answer quickly. */
  fetchTimeoutMs?: number;
  /** For tests: how files (secrets given as NAME_FILE, the catalog) are read. */
  readFile?: (path: string) => string;
  /**
   * `--sample`: the people whose approval rule is shown for every role with rules. Default: a few
   * members of each such role's groups and whoever is on call in its schedules.
   */
  sample?: readonly string[];
}

const DEFAULT_TIMEOUT_MS = 5000;

/**
 * Runs every check and prints the checklist. Resolves `{ ok, items }`; never rejects for a
 * problem it was asked to find.
 */
export async function runCheck(env: Record<string, string | undefined>, opts: CheckOptions = {}): Promise<CheckResult> {
  const timeoutMs = opts.fetchTimeoutMs ?? DEFAULT_TIMEOUT_MS;
  const readFile = opts.readFile ?? ((p: string) => fs.readFileSync(p, 'utf8'));
  const rawOut = opts.out ?? ((line: string) => void process.stdout.write(`${line}\n`));
  const secrets = new Set<string>();
  // Variables holding secrets (loadConfig's list): masked in every line, never echoed.
  for (const name of SECRET_VARS) {
    const v = env[name]?.trim();
    if (v) secrets.add(v);
  }
  const out = (line: string): void => rawOut(redact(line, secrets));
  let instances: readonly ConnectorConfig[] = [];
  const checklist = new Checklist(out, (section) => ON_CALL_TITLES[section] ?? instanceTitle(section, instances));
  const report = (list: CheckItem[]): void => checklist.add(list);

  out('access-bot check');

  // 1. Environment.
  const cfg = loadConfig(env, readFile);
  if (!cfg.ok) {
    report(cfg.errors.map(envItem));
    // Without a valid environment the catalog is read against every connector, so its own
    // mistakes show now; "connector not configured" lines appear once the environment is fixed.
    const catalogPath = env.ACCESS_CATALOG?.trim() || DEFAULTS.catalogPath;
    const cat = loadCatalog(catalogPath, { configuredConnectors: undefined, readFile });
    report(cat.ok ? [catalogSummary(catalogPath, cat.catalog)] : cat.errors.map((e) => catalogItem(e, catalogPath)));
    report([item('connections', 'connections', 'skip', 'Slack, Jira and the identity providers are tested once the environment is valid')]);
    return checklist.finish();
  }
  const config = cfg.config;
  instances = config.connectors;
  for (const s of secretsOf(config)) secrets.add(s);
  secrets.add(Buffer.from(`${config.jira.email}:${config.jira.apiToken}`).toString('base64'));
  for (const i of config.connectors) for (const sec of connectorType(i.type)?.check.secretsIn?.(i.settings, readFile) ?? []) secrets.add(sec);
  report([envSummary(config)]);

  // 2. Catalog. A role on an unconfigured connector is reported, and the rest still checked.
  const strict = loadCatalog(config.catalogPath, { ...catalogOptionsOf(config), readFile });
  let catalog: Catalog | undefined;
  if (strict.ok) {
    catalog = strict.catalog;
    report([catalogSummary(config.catalogPath, catalog)]);
  } else {
    report(strict.errors.map((e) => catalogItem(e, config.catalogPath)));
    const lenient = loadCatalog(config.catalogPath, { configuredConnectors: undefined, readFile });
    if (lenient.ok) catalog = lenient.catalog;
  }
  if (catalog) report(managerItems(config, catalog));

  // 3-5. Connections (on-call services too), concurrently; printed in a fixed order.
  const slack = checkSlack(config, catalog, timeoutMs);
  const jira = checkJira(config, catalog, timeoutMs);
  const idps = idpsToCheck(config, catalog).map((c) => checkIdp(c, config, catalog, timeoutMs));
  const onCall = checkOnCall(config, catalog, timeoutMs);
  report(await slack);
  report(await jira);
  for (const idp of idps) report(await idp);
  for (const service of await onCall) report(service);

  // 6. Who would meet which approval rule, for a few people (the policy explain code).
  if (strict.ok && catalog) report(await policySample(config, catalog, { ...(opts.sample ? { emails: opts.sample } : {}), timeoutMs }));
  return checklist.finish();
}
