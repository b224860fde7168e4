/**
 * Evidence for auditors (issue 19), from the database file (DATABASE_PATH), read-only and safe
 * beside the running bot:
 *   access-bot export requests --from <day> --to <day> [--format csv|jsonl] [--out <file>]
 *   access-bot export review <campaign> [--format csv|jsonl] [--out <file>]
 *   access-bot audit verify [--head <seq>:<sha256> | --export <file>]
 * Exit codes: 0 done (verify: the chain holds), 1 could not (verify: tampering found), 2 usage.
 */
import fs from 'node:fs';
import { exportRequests, requestsScope } from './app/exportRequests.js';
import { exportReview } from './app/exportReview.js';
import { openStorage, type Storage } from './compose.js';
import { databaseTarget } from './config/env.js';
import type { DatabaseTarget } from './storage.js';
import type { AuditHead } from './domain/audit.js';
import { dayRange, EXPORT_FORMATS, headFromTrailer, type ExportFormat } from './domain/evidence.js';
import { formatTime } from './domain/steps.js';

export const EXPORT_USAGE = `Usage: access-bot export requests --from <YYYY-MM-DD> --to <YYYY-MM-DD> [--format csv|jsonl] [--out <file>]
       access-bot export review <campaign> [--format csv|jsonl] [--out <file>]

requests: one row per request created from --from to --to (whole UTC days, both included),
with requester, approvers and times, grant and revocation times, Jira key and outcome; the last
line records the audit log's head (check it later with access-bot audit verify --export <file>).
Columns: README, "Evidence export". Default format csv; default output stdout.`;

export const AUDIT_USAGE = `Usage: access-bot audit verify [--head <seq>:<sha256> | --export <file>]

Recomputes the hash chain of the audit log and reports the first broken link (the event and what
differs), or OK with the head. --head, or the trailer of an export (--export), names a head
recorded earlier: it must still be in the log with that hash (events deleted from the end show).
Exit code: 0 intact, 1 broken (or the database cannot be read), 2 usage error.`;

type Line = (line: string) => void;

interface Flags {
  positional: string[];
  flags: Map<string, string>;
}

/** `--name value` pairs and positional words; a flag without a value or given twice is an error. */
function parseFlags(args: string[], known: readonly string[]): Flags | { error: string } {
  const positional: string[] = [];
  const flags = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const [name, inline] = a.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    if (!known.includes(name)) return { error: `unknown option --${name}` };
    const value = inline ?? args[++i];
    if (value === undefined || value.startsWith('--')) return { error: `--${name} needs a value` };
    if (flags.has(name)) return { error: `--${name} is given twice` };
    flags.set(name, value);
  }
  return { positional, flags };
}

function databaseOf(env: Record<string, string | undefined>, err: Line): DatabaseTarget | undefined {
  let target: DatabaseTarget;
  try {
    target = databaseTarget(env);
  } catch (e) {
    err(`access-bot: ${(e as Error).message}`);
    return undefined;
  }
  if (target.databaseUrl || fs.existsSync(target.databasePath)) return target;
  err(`access-bot: database ${target.databasePath} does not exist (set DATABASE_PATH to the bot's database, or DATABASE_URL)`);
  return undefined;
}

/**
 * `access-bot export ...`. Data go to `write` (stdout) or to --out (created 0600: it names people
 * and their access); what was exported is said on `err` (stderr), so stdout holds only the export.
 */
export function runExport(args: string[], env: Record<string, string | undefined>, write: (chunk: string) => void, err: Line, now: () => number = Date.now): number {
  const [what, ...rest] = args;
  const parsed = parseFlags(rest, ['from', 'to', 'format', 'out']);
  if ('error' in parsed) return usage(err, parsed.error);
  const format = (parsed.flags.get('format') ?? 'csv') as ExportFormat;
  if (!EXPORT_FORMATS.includes(format)) return usage(err, `--format ${parsed.flags.get('format')} is not one of ${EXPORT_FORMATS.join(', ')}`);
  if (what === 'review') {
    if (parsed.positional.length !== 1) return usage(err, 'export review takes one campaign (its id, rev_…, or its Jira key)');
    if (parsed.flags.has('from') || parsed.flags.has('to')) return usage(err, 'export review takes no --from or --to: the campaign says what is exported');
    const target = databaseOf(env, err);
    if (!target) return 1;
    return withOutput(parsed.flags.get('out'), write, err, target, (sink, store, reviews) => {
      const r = exportReview({ evidence: store, reviews, now }, { campaign: parsed.positional[0]!, format }, sink);
      if (!r) {
        err(`access-bot export review: no access review ${parsed.positional[0]} (access-bot review list shows them)`);
        return 1;
      }
      err(`access-bot export: ${r.rows} ${r.rows === 1 ? 'person' : 'people'} of access review ${r.campaign.id}${r.campaign.jiraKey ? ` (${r.campaign.jiraKey})` : ''} exported as ${format}${parsed.flags.get('out') ? ` to ${parsed.flags.get('out')}` : ''}; audit head seq ${r.head.seq}, sha256 ${r.head.hash}.`);
      return 0;
    });
  }
  if (what !== 'requests') return usage(err, what === undefined ? 'say what to export: requests or review' : `cannot export "${what}" (requests or review)`);
  if (parsed.positional.length > 0) return usage(err, `unexpected argument "${parsed.positional[0]}"`);
  const from = parsed.flags.get('from');
  const to = parsed.flags.get('to');
  if (!from || !to) return usage(err, 'export requests needs --from and --to');
  const range = dayRange(from, to);
  if ('error' in range) return usage(err, range.error);
  const target = databaseOf(env, err);
  if (!target) return 1;
  return withOutput(parsed.flags.get('out'), write, err, target, (sink, store) => {
    const r = exportRequests({ evidence: store, now }, { fromMs: range.fromMs, toMs: range.toMs, format, scope: requestsScope(from, to) }, sink);
    err(`access-bot export: ${r.rows} request${r.rows === 1 ? '' : 's'} created ${from}..${to} (UTC) exported as ${format}${parsed.flags.get('out') ? ` to ${parsed.flags.get('out')}` : ''}; audit head seq ${r.head.seq}, sha256 ${r.head.hash}.`);
    return 0;
  });
}

/**
 * Opens the database and the output (--out: created 0600, it names people and their access; else
 * `write`, stdout), runs the export, and closes both whatever happens.
 */
function withOutput(outPath: string | undefined, write: (chunk: string) => void, err: Line, target: DatabaseTarget, run: (sink: (chunk: string) => void, store: Storage['store'], reviews: Storage['reviews']) => number): number {
  const storage = openStorage(target);
  let fd: number | undefined;
  try {
    fd = outPath === undefined ? undefined : fs.openSync(outPath, 'w', 0o600);
    const sink = fd === undefined ? write : (chunk: string) => fs.writeSync(fd!, chunk);
    return run(sink, storage.store, storage.reviews);
  } catch (e) {
    err(`access-bot export: ${(e as Error).message}`);
    return 1;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
    storage.close();
  }
}

/** `access-bot audit verify`. The verdict goes to `out`. */
export function runAudit(args: string[], env: Record<string, string | undefined>, out: Line, err: Line, readFile: (path: string) => string = (p) => fs.readFileSync(p, 'utf8')): number {
  const [sub, ...rest] = args;
  if (sub !== 'verify') return usage(err, sub === undefined ? 'say what to do: verify' : `unknown audit command "${sub}"`, AUDIT_USAGE);
  const parsed = parseFlags(rest, ['head', 'export']);
  if ('error' in parsed) return usage(err, parsed.error, AUDIT_USAGE);
  if (parsed.positional.length > 0) return usage(err, `unexpected argument "${parsed.positional[0]}"`, AUDIT_USAGE);
  if (parsed.flags.has('head') && parsed.flags.has('export')) return usage(err, 'give --head or --export, not both', AUDIT_USAGE);
  let expected: AuditHead | undefined;
  const head = parsed.flags.get('head');
  if (head !== undefined) {
    const m = /^(\d+):([0-9a-f]{64})$/.exec(head);
    if (!m) return usage(err, `--head ${head} is not <seq>:<sha256> (64 hex digits)`, AUDIT_USAGE);
    expected = { seq: Number(m[1]), hash: m[2]! };
  }
  const file = parsed.flags.get('export');
  if (file !== undefined) {
    let text: string;
    try {
      text = readFile(file);
    } catch (e) {
      err(`access-bot audit verify: cannot read ${file}: ${(e as Error).message}`);
      return 1;
    }
    expected = headFromTrailer(text);
    if (!expected) {
      err(`access-bot audit verify: ${file} has no audit-head trailer on its last line (is it an access-bot export, complete?)`);
      return 1;
    }
  }
  const target = databaseOf(env, err);
  if (!target) return 1;
  const storage = openStorage(target);
  const { store } = storage;
  try {
    const c = store.checkAuditChain(expected);
    if (c.ok) {
      const recorded = expected ? ` The head recorded ${file ? `in ${file}` : 'earlier'} (seq ${expected.seq}) is in the log with that hash.` : '';
      out(`OK: ${c.events} audit event${c.events === 1 ? '' : 's'}, the chain is intact. Head: seq ${c.head.seq}, sha256 ${c.head.hash}.${recorded}`);
      return 0;
    }
    const where = c.broken
      ? `audit event seq ${c.broken.seq} (${c.broken.type}${c.broken.requestId ? ` of request ${c.broken.requestId}` : ''}, at ${formatTime(c.broken.at)}): `
      : '';
    out(`BROKEN: ${where}${c.what}. ${c.events} event${c.events === 1 ? '' : 's'} before ${c.broken ? 'it' : 'that'} verified.`);
    return 1;
  } finally {
    storage.close();
  }
}

function usage(err: Line, problem: string, text = EXPORT_USAGE): number {
  err(`access-bot: ${problem}\n\n${text}`);
  return 2;
}
