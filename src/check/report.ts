/**
 * The checklist: its items, how each is printed, and the summary line. Every line goes through
 * `redact` before it is written.
 */
import { joinAnd } from '../config/values.js';

export type CheckStatus = 'pass' | 'fail' | 'warn' | 'skip';

export interface CheckItem {
  /** Or a connector instance's name. */
  section: 'environment' | 'catalog' | 'connections' | 'slack' | 'jira' | (string & {});
  /** What was checked, e.g. "slack scopes", "okta group 00g1readonly". */
  name: string;
  status: CheckStatus;
  /** False only for `fail`. */
  ok: boolean;
  /** What was found. */
  detail?: string;
  /** For failures (and some warnings): the action that fixes it. */
  fix?: string;
}

export interface CheckResult {
  ok: boolean;
  items: CheckItem[];
}

const SYMBOL: Record<CheckStatus, string> = { pass: '✔', fail: '✘', warn: '!', skip: '–' };
/** Titles of the fixed sections; a connector instance's section is titled by its descriptor. */
export const SECTION_TITLE: Record<string, string> = {
  environment: 'Environment',
  catalog: 'Catalog',
  connections: 'Connections',
  slack: 'Slack',
  jira: 'Jira',
  policy: 'Approval rules: which each would meet now (a sample)',
};

/** Collects items and prints them, with a section title whenever the section changes. */
export class Checklist {
  readonly items: CheckItem[] = [];
  private section: string | undefined;

  constructor(
    private readonly out: (line: string) => void,
    /** Titles the sections SECTION_TITLE does not know (connector instances). */
    private readonly titleOf: (section: string) => string,
  ) {}

  add(list: CheckItem[]): void {
    for (const it of list) {
      if (it.section !== this.section) {
        this.section = it.section;
        this.out('');
        this.out(SECTION_TITLE[it.section] ?? this.titleOf(it.section));
      }
      this.items.push(it);
      for (const line of formatItem(it)) this.out(line);
    }
  }

  /** Prints the summary line. */
  finish(): CheckResult {
    const { items, out } = this;
    const failed = items.filter((i) => i.status === 'fail').length;
    const warned = items.filter((i) => i.status === 'warn').length;
    out('');
    if (failed === 0) out(`All checks passed${warned ? ` (${warned} warning${warned === 1 ? '' : 's'})` : ''}.`);
    else out(`${failed} problem${failed === 1 ? '' : 's'} found${warned ? `, ${warned} warning${warned === 1 ? '' : 's'}` : ''}. Fix ${failed === 1 ? 'it' : 'them'} and run access-bot check again.`);
    return { ok: failed === 0, items };
  }
}

/** The lines printed for one item: the mark and name, then an indented fix for failures. */
export function formatItem(i: CheckItem): string[] {
  const lines = [`  ${SYMBOL[i.status]} ${i.name}${i.detail ? `: ${i.detail}` : ''}`];
  if (i.fix) lines.push(`      ${i.status === 'fail' ? 'fix' : 'hint'}: ${i.fix}`);
  return lines;
}

export function item(section: CheckItem['section'], name: string, status: CheckStatus, detail?: string, fix?: string): CheckItem {
  const i: CheckItem = { section, name, status, ok: status !== 'fail' };
  if (detail) i.detail = detail;
  if (fix) i.fix = fix;
  return i;
}

export function listShort(xs: string[]): string {
  const u = [...new Set(xs)];
  return u.length <= 3 ? joinAnd(u) : `${u.slice(0, 3).join(', ')} and ${u.length - 3} more`;
}

export function joinOr(xs: string[]): string {
  return xs.length <= 1 ? (xs[0] ?? '') : `${xs.slice(0, -1).join(', ')} or ${xs[xs.length - 1]}`;
}

/** The one redaction rule (src/redact.ts), for the checklist's lines. */
export { redact } from '../redact.js';
