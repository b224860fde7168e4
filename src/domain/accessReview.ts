/**
 * Access reviews (certifications): an owner confirms, person by person, who still holds an
 * application's access, members access-bot never granted included. The rules, pure: what a
 * review is configured to do, what the bot recommends for each person, who reviews whom (nobody
 * reviews their own access), how the rows of one reviewer's message are paged within Slack's
 * limits, and when reminders, escalation, the due date and scheduled reviews fall.
 */
import { normalizeEmail } from './people.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** What happens to rows nobody decided by the due date. */
export type OnDue = 'keep' | 'revoke' | 'escalate';
export const ON_DUE: readonly OnDue[] = ['keep', 'revoke', 'escalate'];

/** Who reviews, before it is resolved to people: the application's owners, or a person by email. */
export type ReviewerRef = { kind: 'owners' } | { kind: 'email'; email: string };

/** Catalog `reviews:` on an application or a role, resolved with its defaults. */
export interface ReviewPolicy {
  /** Time between scheduled reviews; absent: reviews of this scope start from the CLI only. */
  everyMs?: number;
  /** How long a review runs, from its start to its due date. */
  dueMs: number;
  reviewers: ReviewerRef[];
  /** Emails: who reviews a reviewer's own access when their manager is not known, and who is escalated to when a reviewer's manager is not known. */
  fallback: string[];
  onDue: OnDue;
  /** Spans before the due date at which reviewers with undecided rows are reminded. */
  remindBeforeMs: number[];
  /** From the start: undecided rows are escalated to the reviewer's manager (absent: only as onDue says). */
  escalateAfterMs?: number;
  /** No login for longer than this: the bot recommends revoking. */
  inactiveAfterMs: number;
}

export const DEFAULT_REVIEW_POLICY: Readonly<Omit<ReviewPolicy, 'everyMs' | 'escalateAfterMs'>> = {
  dueMs: 14 * DAY,
  reviewers: [{ kind: 'owners' }],
  fallback: [],
  onDue: 'keep',
  remindBeforeMs: [3 * DAY, DAY],
  inactiveAfterMs: 90 * DAY,
};

/** Overdue reviews kept open (onDue: escalate) remind whoever still has rows, this often after the due date. */
export const OVERDUE_REMIND_EVERY_MS = DAY;

// ---- recommendation ---------------------------------------------------------------------------

/** What the IdP says about a person's last sign-in: unknown (it cannot say), never, or a time. */
export type LastLogin = { known: false } | { known: true; at: number | null };

export interface Recommendation {
  action: 'keep' | 'revoke';
  /** In words, for the reviewer and the record: "no login in 124 days". */
  why: string;
}

/** Whole days from `at` to `now` (never negative). */
export function daysSince(at: number, now: number): number {
  return Math.max(0, Math.floor((now - at) / DAY));
}

function days(n: number): string {
  return `${n} ${n === 1 ? 'day' : 'days'}`;
}

/**
 * The bot's advice for one row: revoke when the person never signed in, or not within
 * `inactiveAfterMs`; keep otherwise, and when the IdP cannot say (a reviewer decides either way).
 */
export function recommend(f: { lastLogin: LastLogin; now: number; inactiveAfterMs: number; source: string }): Recommendation {
  if (!f.lastLogin.known) return { action: 'keep', why: `last login not known (${f.source} cannot say)` };
  if (f.lastLogin.at === null) return { action: 'revoke', why: 'never logged in' };
  const idle = daysSince(f.lastLogin.at, f.now);
  if (f.now - f.lastLogin.at > f.inactiveAfterMs) return { action: 'revoke', why: `no login in ${days(idle)} (more than ${days(Math.floor(f.inactiveAfterMs / DAY))})` };
  return { action: 'keep', why: idle === 0 ? 'logged in today' : `last login ${days(idle)} ago` };
}

// ---- who reviews whom -------------------------------------------------------------------------

/** A person reviewing (resolved from the catalog's reviewers, a manager or the fallback). */
export interface ReviewerCandidate {
  email: string;
  /** Their user id in the reviewed group's IdP, when known: one person may sign in under another email there. */
  idpUserId?: string;
}

/** A member of a reviewed group. */
export interface Reviewee {
  email?: string | null;
  idpUserId: string;
}

/** Whether the reviewer is the reviewed person. */
export function isSelf(reviewer: ReviewerCandidate, member: Reviewee): boolean {
  if (member.email && normalizeEmail(member.email) === normalizeEmail(reviewer.email)) return true;
  return reviewer.idpUserId !== undefined && reviewer.idpUserId === member.idpUserId;
}

export type Assignment =
  | { via: 'reviewer'; reviewers: ReviewerCandidate[] }
  /** The member is a reviewer: someone else reviews them. */
  | { via: 'manager' | 'fallback' | 'co_reviewer'; reviewers: ReviewerCandidate[] }
  | { via: 'nobody'; reviewers: []; why: string };

/**
 * Who reviews one member. Everyone the review asks, except the member themselves: nobody reviews
 * their own access. A reviewer's own row goes to their manager (the owners' manager), else to the
 * review's fallback, else to the other reviewers; with none of those nobody can review it, and it
 * follows the due-date policy.
 */
export function reviewersFor(member: Reviewee, f: { reviewers: readonly ReviewerCandidate[]; managerOf: (reviewer: ReviewerCandidate) => ReviewerCandidate | undefined; fallback: readonly ReviewerCandidate[] }): Assignment {
  const others = f.reviewers.filter((r) => !isSelf(r, member));
  if (others.length === f.reviewers.length) {
    return others.length > 0 ? { via: 'reviewer', reviewers: [...others] } : { via: 'nobody', reviewers: [], why: 'the review has no reviewer who can be asked' };
  }
  const self = f.reviewers.find((r) => isSelf(r, member))!;
  const manager = f.managerOf(self);
  if (manager && !isSelf(manager, member)) return { via: 'manager', reviewers: [manager] };
  const fallback = f.fallback.filter((r) => !isSelf(r, member));
  if (fallback.length > 0) return { via: 'fallback', reviewers: fallback };
  if (others.length > 0) return { via: 'co_reviewer', reviewers: others };
  return { via: 'nobody', reviewers: [], why: 'they are the only reviewer, no manager is recorded for them and the review has no fallback' };
}

/**
 * Whom a reviewer's undecided rows are escalated to: their manager, else the fallback; never the
 * reviewer, and for each row never the reviewed person (the caller filters rows by `isSelf`).
 */
export function escalationTargets(reviewer: ReviewerCandidate, manager: ReviewerCandidate | undefined, fallback: readonly ReviewerCandidate[]): ReviewerCandidate[] {
  const notMe = (c: ReviewerCandidate) => normalizeEmail(c.email) !== normalizeEmail(reviewer.email);
  if (manager && notMe(manager)) return [manager];
  return fallback.filter(notMe);
}

// ---- paging within Block Kit's limits ---------------------------------------------------------

/** Slack accepts at most 50 blocks in a message (https://docs.slack.dev/reference/block-kit/blocks). */
export const MESSAGE_MAX_BLOCKS = 50;
/** A reviewer's message: a heading and a progress line, then the rows, then the page buttons. */
export const HEADER_BLOCKS = 2;
/** Each row: who and why (a section), then Keep / Revoke or the decision (actions or context). */
export const ROW_BLOCKS = 2;
export const FOOTER_BLOCKS = 1;
/** Rows on one page of a reviewer's message: as many as fit in 50 blocks with the heading and the page buttons. */
export const ROWS_PER_PAGE = Math.floor((MESSAGE_MAX_BLOCKS - HEADER_BLOCKS - FOOTER_BLOCKS) / ROW_BLOCKS);

export interface Page {
  /** 0-based, clamped to the pages there are. */
  index: number;
  count: number;
  /** Rows `from` (inclusive) to `to` (exclusive) of the reviewer's list. */
  from: number;
  to: number;
}

/** The page `wanted` of `rows` rows (a page out of range is the nearest one; no rows: one empty page). */
export function pageOf(rows: number, wanted: number, perPage = ROWS_PER_PAGE): Page {
  const count = Math.max(1, Math.ceil(rows / perPage));
  const index = Math.min(Math.max(0, Math.trunc(Number.isFinite(wanted) ? wanted : 0)), count - 1);
  const from = index * perPage;
  return { index, count, from, to: Math.min(rows, from + perPage) };
}

/** Blocks a page of `rowsOnPage` rows takes, for a message of `pages` pages. */
export function blocksOnPage(rowsOnPage: number, pages: number): number {
  return HEADER_BLOCKS + rowsOnPage * ROW_BLOCKS + (pages > 1 ? FOOTER_BLOCKS : 0);
}

// ---- timers -----------------------------------------------------------------------------------

/** A review's clock: when it started and is due, what it does then, and what has been done. */
export interface ReviewClock {
  startedAt: number;
  dueAt: number;
  onDue: OnDue;
  remindBeforeMs: readonly number[];
  escalateAfterMs?: number;
  /** The last reminder, or null. */
  remindedAt: number | null;
  escalatedAt: number | null;
  /** When the due-date policy was applied, or null. */
  dueHandledAt: number | null;
}

export interface ReviewDue {
  /** Apply the due-date policy now. */
  due: boolean;
  escalate: boolean;
  remind: boolean;
}

/** Reminder points: spans before the due date after the start; after a due date kept open (escalate), once a day. */
function reminderPoints(c: ReviewClock, upTo: number): number[] {
  const points = c.remindBeforeMs.map((b) => c.dueAt - b).filter((at) => at > c.startedAt && at < c.dueAt);
  if (c.onDue === 'escalate' && c.dueHandledAt !== null) {
    for (let at = c.dueAt + OVERDUE_REMIND_EVERY_MS; at <= upTo + OVERDUE_REMIND_EVERY_MS; at += OVERDUE_REMIND_EVERY_MS) points.push(at);
  }
  return points.sort((a, b) => a - b);
}

function escalationAt(c: ReviewClock): number | undefined {
  if (c.escalateAfterMs === undefined || c.escalatedAt !== null) return undefined;
  const at = c.startedAt + c.escalateAfterMs;
  return at < c.dueAt ? at : undefined;
}

/**
 * What is due now. The due date wins over what falls before it (escalation and reminders are
 * moot once the due-date policy applies); reminders missed while the bot was down send one.
 */
export function reviewDue(now: number, c: ReviewClock): ReviewDue {
  if (c.dueHandledAt === null && now >= c.dueAt) return { due: true, escalate: false, remind: false };
  const esc = escalationAt(c);
  const since = c.remindedAt ?? c.startedAt;
  return {
    due: false,
    escalate: esc !== undefined && now >= esc,
    remind: reminderPoints(c, now).some((at) => at > since && at <= now),
  };
}

/** The next time something is due (in the past when it was missed), or null when nothing is left. */
export function nextReviewTimer(now: number, c: ReviewClock): number | null {
  const times: number[] = [];
  if (c.dueHandledAt === null) times.push(c.dueAt);
  const esc = escalationAt(c);
  if (esc !== undefined) times.push(esc);
  // A point missed while the bot was down is in the past: due at once.
  const since = c.remindedAt ?? c.startedAt;
  const next = reminderPoints(c, now).find((at) => at > since);
  if (next !== undefined) times.push(next);
  return times.length === 0 ? null : Math.min(...times);
}

/** A schedule (`every`) starts a review when none of its scope started within `everyMs`. */
export function scheduleDue(now: number, everyMs: number, lastStartedAt: number | undefined): boolean {
  return lastStartedAt === undefined || now >= lastStartedAt + everyMs;
}

// ---- the end ----------------------------------------------------------------------------------

export interface ReviewTally {
  total: number;
  undecided: number;
  kept: number;
  revoked: number;
  keptAtDue: number;
  revokedAtDue: number;
  /** Revocations whose removal has not settled yet. */
  removing: number;
  removed: number;
  /** Revocations that left the membership because a grant approved since still needs it. */
  keptMembership: number;
  failed: number;
}

/** A review is complete once every row is decided and every revocation has settled. */
export function isComplete(t: ReviewTally): boolean {
  return t.undecided === 0 && t.removing === 0;
}
