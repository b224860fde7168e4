#!/usr/bin/env node
/**
 * The `access-bot` command (package.json `bin`, compiled to dist/src/cli.js; `npm run check`
 * runs it from source with tsx). Exit codes: 0 all good, 1 a check failed, 2 usage error.
 */
const USAGE = `Usage: access-bot <command>

Commands:
  check [--sample <email>[,<email>…]]
               validate the environment and the catalog, then test every connection
               (Slack token and scopes, the Jira project, each identity provider and
               every catalog group, each on-call service and schedule); prints a
               checklist with a fix for each failure, and which approval rule a sample
               of people would meet now

  catalog import --connector <instance> --filter <filter> [--pattern <regex>]
                 [--owners-attribute <name>] [--diff]
               print the identity provider's groups as catalog YAML (or, with --diff,
               what would change against the catalog); never edits the catalog

  policy explain <email> <app>/<role> [--duration <d>]
               which approval rule that person would meet now, and why (read-only)

  jira sync-fields [--apply]
               write the catalog's applications, roles and durations as the options
               of the jira.intake select fields (dry run unless --apply)

  review start --app <app> [--role <role>] [--due <span>] [--on-due keep|revoke|escalate]
               start an access review: the running bot lists who holds the role and
               asks the reviewers in Slack, recording the review on a Jira issue
  review list  list the access reviews with their progress

  effects list             list dead effects (failed for good) with their cause
  effects retry <id>...    run dead effects again once their cause is fixed
  effects retry --all      run every dead effect again

  export requests --from <YYYY-MM-DD> --to <YYYY-MM-DD> [--format csv|jsonl] [--out <file>]
               one row per request created in those UTC days, with the audit log's head
  export review <campaign> [--format csv|jsonl] [--out <file>]
               one row per person reviewed (not in this build yet)
  audit verify [--head <seq>:<sha256> | --export <file>]
               recompute the audit log's hash chain; report the first broken link or OK

  migrate-store --from <sqlite file> --to postgres://…
               copy every table into an empty Postgres database (stop the bot first);
               checks row counts and the audit chain before committing

Options:
  -h, --help   show this help

The configuration comes from the environment (see README, "Configuration").
Exit code: 0 when every check passed, 1 when one failed, 2 for a usage error.`;

const CHECK_USAGE = `Usage: access-bot check [--sample <email>[,<email>…]]

Reads the environment and the catalog (ACCESS_CATALOG, default ./access-catalog.yaml) the
bot would start with, and tests each connection. Then, for every role with approval rules,
prints which rule each of a few people would meet if they asked now, and why: the emails
given with --sample (repeatable), or else a few members of the role's groups and whoever is
on call in its schedules. Makes no changes anywhere.
Exit code: 0 when every check passed, 1 when one failed.`;

/** `--sample a@x.com,b@y.com` (repeatable) into emails; a usage error as a string. */
function sampleArgs(args: string[]): string[] | string {
  const emails: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const value = a === '--sample' ? args[++i] : a.startsWith('--sample=') ? a.slice('--sample='.length) : undefined;
    if (value === undefined) return a === '--sample' ? '--sample needs an email (or a comma-separated list)' : `unexpected argument "${a}"`;
    for (const e of value.split(',').map((x) => x.trim()).filter(Boolean)) {
      if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(e)) return `--sample: "${e}" is not an email address`;
      emails.push(e.toLowerCase());
    }
  }
  return emails;
}

/** Writes, then exits once stdout has drained: a piped stdout would lose lines on a bare exit. */
function exit(code: number): void {
  process.stdout.write('', () => process.exit(code));
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === '-h' || command === '--help' || command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return exit(0);
  }
  if (command === 'check') {
    if (rest.some((a) => a === '-h' || a === '--help')) {
      process.stdout.write(`${CHECK_USAGE}\n`);
      return exit(0);
    }
    const sample = sampleArgs(rest);
    if (typeof sample === 'string') {
      process.stderr.write(`access-bot check: ${sample}\n\n${CHECK_USAGE}\n`);
      return exit(2);
    }
    // Loaded here, not at the top: the SDKs behind it take seconds to load, and --help should not wait.
    const { runCheck } = await import('./check.js');
    const result = await runCheck(process.env, sample.length ? { sample } : {});
    // Explicit exit: a service that never answered may still hold a socket open.
    return exit(result.ok ? 0 : 1);
  }
  if (command === 'catalog') {
    const { runCatalog } = await import('./catalog-cli.js');
    const r = await runCatalog(rest, process.env, (line) => process.stdout.write(`${line}\n`), (line) => process.stderr.write(`${line}\n`));
    return exit(r);
  }
  if (command === 'policy') {
    const { runPolicy, POLICY_USAGE } = await import('./policy-cli.js');
    if (rest.some((a) => a === '-h' || a === '--help')) {
      process.stdout.write(`${POLICY_USAGE}\n`);
      return exit(0);
    }
    return exit(await runPolicy(rest, process.env, (line) => process.stdout.write(`${line}\n`), (line) => process.stderr.write(`${line}\n`)));
  }
  if (command === 'jira') {
    const { runJira } = await import('./jira-cli.js');
    return exit(await runJira(rest, process.env, (line) => process.stdout.write(`${line}\n`), (line) => process.stderr.write(`${line}\n`)));
  }
  if (command === 'review') {
    const { runReview, REVIEW_USAGE } = await import('./review-cli.js');
    if (rest.some((a) => a === '-h' || a === '--help')) {
      process.stdout.write(`${REVIEW_USAGE}\n`);
      return exit(0);
    }
    return exit(runReview(rest, process.env, (line) => process.stdout.write(`${line}\n`), (line) => process.stderr.write(`${line}\n`)));
  }
  if (command === 'effects') {
    const { runEffects } = await import('./effects-cli.js');
    const r = runEffects(rest, process.env, (line) => process.stdout.write(`${line}\n`), (line) => process.stderr.write(`${line}\n`));
    return exit(r);
  }
  if (command === 'export' || command === 'audit') {
    const { runExport, runAudit, EXPORT_USAGE, AUDIT_USAGE } = await import('./evidence-cli.js');
    if (rest.some((a) => a === '-h' || a === '--help')) {
      process.stdout.write(`${command === 'export' ? EXPORT_USAGE : AUDIT_USAGE}\n`);
      return exit(0);
    }
    const err = (line: string) => process.stderr.write(`${line}\n`);
    if (command === 'export') return exit(runExport(rest, process.env, (chunk) => process.stdout.write(chunk), err));
    return exit(runAudit(rest, process.env, (line) => process.stdout.write(`${line}\n`), err));
  }
  if (command === 'migrate-store') {
    const { runMigrateStore, MIGRATE_STORE_USAGE } = await import('./migrate-store-cli.js');
    if (rest.some((a) => a === '-h' || a === '--help')) {
      process.stdout.write(`${MIGRATE_STORE_USAGE}\n`);
      return exit(0);
    }
    return exit(runMigrateStore(rest, process.env, (line) => process.stdout.write(`${line}\n`), (line) => process.stderr.write(`${line}\n`)));
  }
  process.stderr.write(`${command === undefined ? 'access-bot: no command given' : `access-bot: unknown command "${command}"`}\n\n${USAGE}\n`);
  return exit(2);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  // runCheck reports problems as items; reaching here is a bug, and its message has no secrets
  // (configuration values never travel in exceptions), but print only the message to be safe.
  process.stderr.write(`access-bot: internal error: ${err instanceof Error ? err.message : String(err)}\n`);
  exit(1);
});
