/**
 * `access-bot review start --app <app> [--role <role>] [--due 14d] [--on-due keep|revoke|escalate]`
 * and `access-bot review list`: starts an access review, or lists the reviews with their progress.
 *
 * Works on the bot's database beside the running bot, like `access-bot effects`: `start` records
 * the review, its first step and its first effects in one transaction (app/reviewStart.ts, the
 * same use case a catalog schedule runs), and the running bot's outbox picks them up within a
 * second: it lists the members, opens the Jira issue and asks the reviewers in Slack.
 * Exit codes: 0 done, 1 refused (the configuration, the catalog or the review says why), 2 usage.
 */
import fs from 'node:fs';
import { connectorType } from './adapters/idp/index.js';
import { hasCapability } from './app/ports/idp.js';
import { startReview } from './app/reviewStart.js';
import { openStorage } from './compose.js';
import { loadCatalog } from './config/catalog.js';
import { connectorsOf, loadConfig } from './config/env.js';
import type { Config } from './config/types.js';
import { ON_DUE, type OnDue } from './domain/accessReview.js';
import { parseDuration } from './domain/duration.js';
import { describeOnDue } from './domain/reviewSteps.js';
import { formatTime } from './domain/steps.js';

export const REVIEW_USAGE = `Usage: access-bot review start --app <app> [--role <role>] [--due <span>] [--on-due keep|revoke|escalate]
       access-bot review list

start   starts an access review of the application's role (without --role: of every role):
        the running bot lists who holds it (members it never granted included), opens a Jira
        issue and asks the reviewers (catalog reviews:, default the application's owners) in
        Slack. --due and --on-due override the catalog's reviews: (default 14d, keep).
list    lists the reviews, newest first, with their progress.
Exit code: 0 done, 1 refused (the reason is printed), 2 usage error.`;

export interface ReviewCliOptions {
  now?: () => number;
  readFile?: (path: string) => string;
}

type Parsed = { sub: 'list' } | { sub: 'start'; app: string; role?: string; dueMs?: number; onDue?: OnDue } | { error: string };

function parseArgs(args: string[]): Parsed {
  const [sub, ...rest] = args;
  if (sub === 'list') return rest.length === 0 ? { sub } : { error: `unexpected argument "${rest[0]}"` };
  if (sub !== 'start') return { error: sub === undefined ? 'no subcommand given' : `unknown subcommand "${sub}"` };
  const out: { sub: 'start'; app?: string; role?: string; dueMs?: number; onDue?: OnDue } = { sub };
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    const value = rest[i + 1];
    const need = (what: string): string | { error: string } => (value === undefined || value.startsWith('--') ? { error: `${a} needs ${what}` } : (i++, value));
    if (a === '--app' || a === '--role') {
      const v = need('an id');
      if (typeof v !== 'string') return v;
      if (a === '--app') out.app = v;
      else out.role = v;
    } else if (a === '--due') {
      const v = need('a span like 14d');
      if (typeof v !== 'string') return v;
      const d = parseDuration(v);
      if (!d || d.ms === null) return { error: `--due needs a span like 14d, not "${v}"` };
      out.dueMs = d.ms;
    } else if (a === '--on-due') {
      const v = need(ON_DUE.join(', '));
      if (typeof v !== 'string') return v;
      if (!(ON_DUE as readonly string[]).includes(v)) return { error: `--on-due is one of ${ON_DUE.join(', ')}, not "${v}"` };
      out.onDue = v as OnDue;
    } else return { error: `unknown option "${a}"` };
  }
  if (!out.app) return { error: '--app is required' };
  return { ...out, app: out.app };
}

/** Why a configured connector instance cannot list members, from its type (no instance is built). */
function listingProblem(config: Config): (name: string) => string | undefined {
  return (name) => {
    const instance = config.connectors.find((c) => c.name === name);
    if (!instance) return `the ${name} connector is not configured`;
    const d = connectorType(instance.type);
    return d && hasCapability(d.prototype, 'memberListing') ? undefined : `the ${name} connector (${instance.type}) cannot list the members of a group`;
  };
}

export function runReview(args: string[], env: Record<string, string | undefined>, out: (l: string) => void, err: (l: string) => void, opts: ReviewCliOptions = {}): number {
  const parsed = parseArgs(args);
  if ('error' in parsed) {
    err(`access-bot review: ${parsed.error}\n\n${REVIEW_USAGE}`);
    return 2;
  }
  const readFile = opts.readFile ?? ((p: string) => fs.readFileSync(p, 'utf8'));
  const now = opts.now ?? Date.now;
  const cfg = loadConfig(env, readFile);
  if (!cfg.ok) {
    err(`access-bot review: the environment is not valid (run access-bot check):\n${cfg.errors.map((e) => `  ${e}`).join('\n')}`);
    return 1;
  }
  const config = cfg.config;
  // DATABASE_URL (Postgres) or DATABASE_PATH, as the bot opens it.
  const storage = openStorage(config, now);
  const { store, reviews } = storage;
  try {
    if (parsed.sub === 'list') {
      const all = reviews.listCampaigns(100);
      if (all.length === 0) out('No access reviews.');
      for (const c of all) {
        const t = reviews.tally(c.id);
        out(`${c.id}\t${c.jiraKey ?? '-'}\t${c.scope}\t${c.state}\tdue ${formatTime(c.dueAt)}\t${t.total - t.undecided} of ${t.total} decided, ${t.revoked} revoked`);
      }
      return 0;
    }
    const cat = loadCatalog(config.catalogPath, { configuredConnectors: connectorsOf(config), readFile });
    if (!cat.ok) {
      err(`access-bot review: the catalog is not valid (run access-bot check):\n${cat.errors.map((e) => `  ${e}`).join('\n')}`);
      return 1;
    }
    const r = startReview(
      { store, reviews, catalog: () => cat.catalog, now },
      {
        appId: parsed.app,
        ...(parsed.role !== undefined ? { roleId: parsed.role } : {}),
        ...(parsed.dueMs !== undefined ? { dueMs: parsed.dueMs } : {}),
        ...(parsed.onDue !== undefined ? { onDue: parsed.onDue } : {}),
        origin: 'cli',
        by: env.USER ? `admin ${env.USER}` : 'an admin',
        listingProblem: listingProblem(config),
      },
    );
    if (!r.ok) {
      err(`access-bot review: ${r.error}`);
      return 1;
    }
    const c = r.campaign;
    out(`Started access review ${c.id}: ${c.scope} (${c.roles.map((x) => `${x.connector} group ${x.group}`).join(', ')}).`);
    out(`Due ${formatTime(c.dueAt)}; undecided then: ${describeOnDue(c.policy.onDue)}. Reviewers: ${c.policy.reviewers.join(', ')}.`);
    out(`The running bot lists the members, asks the reviewers in Slack and records the review on a Jira issue in ${cat.catalog.jira.project}.`);
    return 0;
  } finally {
    storage.close();
  }
}
