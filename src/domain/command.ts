/**
 * `/access` and what follows it. Anything the bot cannot read as a subcommand is answered with
 * the help (which names what was not understood), never an error: a typo deserves a hint.
 */
import { parseDuration, type Duration } from './duration.js';

/** A request as a person names it: its Jira key (`ACC-12`) or, before the issue exists, its id. */
export type RequestName = { jiraKey: string } | { requestId: string };

export type AccessCommand =
  | { kind: 'modal' }
  /** `/access remove`: the form to give up access one holds; `/access change`: to trade a role for another. */
  | { kind: 'removal_modal' }
  | { kind: 'change_modal' }
  | { kind: 'help'; notUnderstood?: string }
  | { kind: 'list' }
  | { kind: 'status'; request: RequestName }
  | { kind: 'cancel'; request: RequestName }
  | { kind: 'extend'; request: RequestName; duration: Duration };

const JIRA_KEY = /^[A-Z][A-Z0-9_]{0,49}-[1-9][0-9]{0,9}$/;
const REQUEST_ID = /^req_[A-Za-z0-9_-]{6,32}$/;

export function parseRequestName(word: string | undefined): RequestName | undefined {
  if (!word) return undefined;
  // Slack may turn a typed key into a link to the issue: `<https://…/browse/ACC-12|ACC-12>`.
  const link = /^<[^|>]*\|([^>]+)>$/.exec(word);
  const w = link ? link[1]! : word;
  if (REQUEST_ID.test(w)) return { requestId: w };
  const key = w.toUpperCase();
  return JIRA_KEY.test(key) ? { jiraKey: key } : undefined;
}

export function describeRequestName(n: RequestName): string {
  return 'jiraKey' in n ? n.jiraKey : n.requestId;
}

export function parseAccessCommand(text: string): AccessCommand {
  const words = text.trim().split(/\s+/).filter(Boolean);
  const [verb, ...args] = words;
  const help = (): AccessCommand => ({ kind: 'help', notUnderstood: text.trim().slice(0, 100) });
  switch (verb?.toLowerCase()) {
    case undefined:
    case 'request':
      return args.length === 0 ? { kind: 'modal' } : help();
    case 'help':
      return { kind: 'help' };
    case 'remove':
      return args.length === 0 ? { kind: 'removal_modal' } : help();
    case 'change':
      return args.length === 0 ? { kind: 'change_modal' } : help();
    case 'list':
      return args.length === 0 ? { kind: 'list' } : help();
    case 'status':
    case 'cancel': {
      const request = args.length === 1 ? parseRequestName(args[0]) : undefined;
      return request ? { kind: verb.toLowerCase() as 'status' | 'cancel', request } : help();
    }
    case 'extend': {
      const request = args.length === 2 ? parseRequestName(args[0]) : undefined;
      const duration = args[1] ? parseDuration(args[1].toLowerCase()) : undefined;
      return request && duration && duration.ms !== null ? { kind: 'extend', request, duration } : help();
    }
    default:
      return help();
  }
}

/** The help, in plain text (the Slack adapter escapes it). */
export function accessHelp(notUnderstood?: string): string {
  const lines = [
    ...(notUnderstood ? [`access-bot did not understand "${notUnderstood}".`, ''] : []),
    '/access: request access (opens a form)',
    '/access remove: give up access you hold (opens a form)',
    '/access change: trade a role you hold for another role of the same application',
    '/access list: your pending requests and active grants',
    '/access status ACC-12: where a request stands',
    '/access cancel ACC-12: withdraw a request that is still waiting for approval',
    '/access extend ACC-12 4h: ask for more time on an active grant',
    '/access help: this help',
  ];
  return lines.join('\n');
}
