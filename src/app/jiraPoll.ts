/**
 * The Jira poll: webhooks are best-effort (Jira retries a failed delivery for a while, then gives
 * up, and a delivery can be lost on the way), so once a minute the issues of the catalog's project
 * updated since the last change seen are read and fed to intake, the same handler the webhook
 * feeds (app/jiraIntake.ts), which recognises what it has already taken in.
 *
 * The mark (`updated` in jira_poll) is the latest `updated` time of an issue handled; the next
 * poll asks from a little before it (`POLL_OVERLAP_MS`), because Jira's search index lags behind
 * its writes and its clock is not ours. An issue that could not be handled holds the mark back
 * so it is read again. When Jira is down the mark stays and the next poll asks for the longer span.
 */
import type { Deps } from './context.js';
import { INTAKE_GRACE_MS, intakeSince, receiveIssue, type IntakeResult, type JiraIntakeDeps } from './jiraIntake.js';
import type { IssueFeed } from './ports/issueFeed.js';

/** How far before the mark each poll reads again. */
export const POLL_OVERLAP_MS = 2 * 60_000;
export const POLL_MARK = 'updated';

export type JiraPollDeps = JiraIntakeDeps & Deps<'logger'>;

export interface PollOutcome {
  /** Issues read. */
  read: number;
  /** Outcome of each issue handled, counted. */
  results: Partial<Record<IntakeResult, number>>;
  /** Issues whose handling failed (logged); they are read again next time. */
  failed: number;
}

/** One poll. Resolves with what it did; rejects when Jira could not be read (the caller logs it). */
export async function pollJira(deps: JiraPollDeps, feed: IssueFeed): Promise<PollOutcome> {
  const out: PollOutcome = { read: 0, results: {}, failed: 0 };
  const catalog = deps.catalog();
  // Intake's issues, and the status changes of every request's issue (jira.statuses).
  if (!catalog.jira.intake && !catalog.jira.statuses) return out;
  const { since, mark } = deps.store.tx((store) => ({ since: intakeSince({ store, now: deps.now }), mark: store.pollMark(POLL_MARK) }));
  const from = Math.max(mark ?? 0, since - INTAKE_GRACE_MS) - POLL_OVERLAP_MS;
  const issues = await feed.updatedSince(catalog.jira.project, from);
  out.read = issues.length;
  let newest = mark ?? 0;
  let firstFailed: number | undefined;
  for (const issue of issues) {
    try {
      const result = receiveIssue(deps, issue);
      out.results[result] = (out.results[result] ?? 0) + 1;
      newest = Math.max(newest, issue.updated);
    } catch (err) {
      out.failed += 1;
      firstFailed = Math.min(firstFailed ?? issue.updated, issue.updated);
      deps.logger.error({ issue: issue.key, err: (err as Error).message }, 'the Jira poll could not handle an issue; it is read again next time');
    }
  }
  const next = firstFailed === undefined ? newest : Math.min(newest, firstFailed - 1);
  if (Number.isFinite(next) && next > (mark ?? 0)) deps.store.tx((store) => store.setPollMark(POLL_MARK, next));
  return out;
}
