/**
 * On-call services (approval rules' `when: { onCall: … }`), configured by environment variables
 * only: they are not identity connectors (nothing is granted through them), so the catalog's
 * `connectors:` block does not name them.
 *
 * - PagerDuty: `PAGERDUTY_TOKEN` (a REST API v2 key; read-only is enough) turns it on;
 *   `PAGERDUTY_URL` is the API origin (default https://api.pagerduty.com; EU accounts:
 *   https://api.eu.pagerduty.com; an emulator in tests).
 * - Jira Service Management Operations: `JSM_OPS_CLOUD_ID` (the site's cloud id) turns it on;
 *   `JSM_OPS_EMAIL` and `JSM_OPS_API_TOKEN` default to `JIRA_EMAIL` and `JIRA_API_TOKEN`;
 *   `JSM_OPS_URL` is the API origin (default https://api.atlassian.com). Responders come as
 *   Atlassian account ids, whose emails are read from the Jira site (`JIRA_HOST`).
 */
import type { OnCallServiceType } from '../domain/onCall.js';
import type { EnvReader } from './connectors.js';
import { EMAIL_RE, parseOrigin } from './values.js';

export type OnCallConfig =
  | { type: 'pagerduty'; token: string; url: string }
  | { type: 'jsm-ops'; cloudId: string; email: string; apiToken: string; url: string; siteUrl: string };

/** The variables holding on-call secrets (NAME_FILE works for them, they are masked everywhere). */
export const ON_CALL_SECRET_VARS = ['PAGERDUTY_TOKEN', 'JSM_OPS_API_TOKEN'] as const;

export const ON_CALL_DEFAULTS = { pagerdutyUrl: 'https://api.pagerduty.com', jsmOpsUrl: 'https://api.atlassian.com' } as const;

/** How to turn each service on, for "not configured" lines (the catalog's and check's). */
export const ON_CALL_SETUP: Record<OnCallServiceType, string> = {
  pagerduty: 'set PAGERDUTY_TOKEN to a PagerDuty REST API key (Integrations → API Access Keys; read-only is enough)',
  'jsm-ops': 'set JSM_OPS_CLOUD_ID to the site’s cloud id (https://<your-site>.atlassian.net/_edge/tenant_info), with JSM_OPS_EMAIL and JSM_OPS_API_TOKEN unless the Jira credentials may read the schedules',
};

/** A site's cloud id: a UUID. */
const CLOUD_ID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The on-call services the environment turns on; problems are reported through `env.fail`. */
export function onCallServices(env: EnvReader, jira: { host?: string; email?: string; apiToken?: string }): OnCallConfig[] {
  const out: OnCallConfig[] = [];
  const pdToken = env.secret('PAGERDUTY_TOKEN');
  const pdUrlRaw = env.plain('PAGERDUTY_URL');
  const pdUrl = pdUrlRaw === undefined ? ON_CALL_DEFAULTS.pagerdutyUrl : parseOrigin('PAGERDUTY_URL', pdUrlRaw, 'https://api.pagerduty.com', env.fail);
  if (pdToken !== undefined) {
    if (pdUrl) out.push({ type: 'pagerduty', token: pdToken, url: pdUrl });
  } else if (pdUrlRaw !== undefined && !env.isSet('PAGERDUTY_TOKEN', true)) {
    env.fail('PAGERDUTY_URL', `is set but PAGERDUTY_TOKEN is not (${ON_CALL_SETUP.pagerduty}, or unset PAGERDUTY_URL)`);
  }

  const cloudId = env.plain('JSM_OPS_CLOUD_ID');
  const opsVars = ['JSM_OPS_URL', 'JSM_OPS_EMAIL'].filter((n) => env.plain(n) !== undefined);
  if (env.isSet('JSM_OPS_API_TOKEN', true)) opsVars.push('JSM_OPS_API_TOKEN');
  if (cloudId === undefined) {
    for (const n of opsVars) env.fail(n, `is set but JSM_OPS_CLOUD_ID is not (${ON_CALL_SETUP['jsm-ops']}, or unset ${n})`);
    return out;
  }
  if (!CLOUD_ID_RE.test(cloudId)) env.fail('JSM_OPS_CLOUD_ID', `"${cloudId}" is not a cloud id (a UUID, shown at https://<your-site>.atlassian.net/_edge/tenant_info)`);
  const urlRaw = env.plain('JSM_OPS_URL');
  const url = urlRaw === undefined ? ON_CALL_DEFAULTS.jsmOpsUrl : parseOrigin('JSM_OPS_URL', urlRaw, 'https://api.atlassian.com', env.fail);
  const email = env.plain('JSM_OPS_EMAIL') ?? jira.email;
  if (env.plain('JSM_OPS_EMAIL') !== undefined && !EMAIL_RE.test(email ?? '')) env.fail('JSM_OPS_EMAIL', `"${email}" is not an email address (the Atlassian account that owns JSM_OPS_API_TOKEN)`);
  const apiToken = env.isSet('JSM_OPS_API_TOKEN', true) ? env.secret('JSM_OPS_API_TOKEN') : jira.apiToken;
  if (CLOUD_ID_RE.test(cloudId) && url && email && EMAIL_RE.test(email) && apiToken && jira.host) {
    out.push({ type: 'jsm-ops', cloudId: cloudId.toLowerCase(), email, apiToken, url, siteUrl: jira.host });
  }
  return out;
}
