/**
 * Block Kit of access reviews: a reviewer's one message (a page of their rows, each with who the
 * person is, their last login, how they got the access and the bot's recommendation, and Keep /
 * Revoke, or the decision once made), its reminder, and the modal that asks why to revoke. A page
 * never holds more than Slack's 50 blocks (domain `ROWS_PER_PAGE`); outside text is escaped.
 */
import type { KnownBlock, ModalView } from '@slack/types';
import { daysSince, type Page } from '../../domain/accessReview.js';
import { describeOnDue } from '../../domain/reviewSteps.js';
import { formatTime } from '../../domain/steps.js';
import type { CampaignRecord, ReviewRow } from '../../app/ports/reviews.js';
import { clip, escapeMrkdwn, LIMITS, plain, reasonModal } from './blocks.js';
import type { SlackMessage } from './client.js';

export const REVIEW_IDS = {
  keep: 'review_keep',
  revoke: 'review_revoke',
  previous: 'review_page_prev',
  next: 'review_page_next',
  revokeModal: 'review_revoke_reason',
} as const;

/** Review ids as the bot mints them (app/reviewStart.ts); anything else in a button is refused unread. */
const CAMPAIGN_ID = /^rev_[A-Za-z0-9_-]{6,32}$/;

/** `<review id>:<number>` as a button value or a modal's private_metadata. */
export function reviewValue(campaignId: string, n: number): string {
  return `${campaignId}:${n}`;
}

/** Reads a value `reviewValue` wrote; undefined for anything else. */
export function parseReviewValue(v: unknown): { campaignId: string; n: number } | undefined {
  if (typeof v !== 'string') return undefined;
  const i = v.lastIndexOf(':');
  const campaignId = v.slice(0, i);
  const n = Number(v.slice(i + 1));
  return i > 0 && CAMPAIGN_ID.test(campaignId) && /^[0-9]{1,9}$/.test(v.slice(i + 1)) ? { campaignId, n } : undefined;
}

export interface ReviewMessageInput {
  campaign: CampaignRecord;
  rows: ReviewRow[];
  page: Page;
  /** The reviewer's rows, and how many of them are undecided. */
  counts: { rows: number; undecided: number };
  now: number;
}

function lastLogin(r: ReviewRow, now: number): string {
  if (!r.lastLoginKnown) return `last login not known (${escapeMrkdwn(r.connector)} cannot say)`;
  if (r.lastLoginAt === null) return 'never logged in';
  const d = daysSince(r.lastLoginAt, now);
  return `last login ${formatTime(r.lastLoginAt)} (${d === 0 ? 'today' : `${d} ${d === 1 ? 'day' : 'days'} ago`})`;
}

function howHeld(r: ReviewRow): string {
  const grant = r.grantRequestId
    ? `granted by access-bot (${r.grantJiraKey ? escapeMrkdwn(r.grantJiraKey) : 'request being recorded'}, ${r.grantExpiresAt === null ? 'permanent' : `expires ${formatTime(r.grantExpiresAt)}`})`
    : undefined;
  if (grant && r.standing) return `standing access, and ${grant}`;
  return grant ?? 'standing access (not granted by access-bot)';
}

function rowText(r: ReviewRow, multiRole: boolean, now: number): string {
  const who = `*${escapeMrkdwn(r.name ?? r.email ?? r.idpUserId)}*${r.name && r.email ? ` · ${escapeMrkdwn(r.email)}` : ''}${multiRole ? ` · _${escapeMrkdwn(r.roleName)}_` : ''}`;
  const profile = [r.title, r.department, r.manager ? `manager: ${r.manager}` : undefined].filter((x): x is string => Boolean(x)).map(escapeMrkdwn).join(' · ');
  const advice = `${r.recommendation === 'revoke' ? ':warning: Recommendation: *revoke*' : 'Recommendation: keep'} — ${escapeMrkdwn(r.recommendationWhy)}`;
  return [who, profile, `${lastLogin(r, now)} · ${howHeld(r)}`, advice].filter((l) => l !== '').join('\n');
}

function outcome(r: ReviewRow): string {
  const by = escapeMrkdwn(r.decidedBy ?? 'someone');
  const when = r.decidedAt === null ? '' : ` on ${formatTime(r.decidedAt)}`;
  if (r.decision === 'keep') return `:white_check_mark: Kept by ${by}${when}.`;
  const removal =
    r.revokeState === 'removed'
      ? ` Removed${r.revokedAt === null ? '' : ` on ${formatTime(r.revokedAt)}`}.`
      : r.revokeState === 'kept'
        ? ' Not removed: a grant approved since still needs it.'
        : r.revokeState === 'failed'
          ? ' The removal failed; admins have been told.'
          : ' Being removed.';
  return `:no_entry: Revoked by ${by}${when}${r.reason ? `: ${escapeMrkdwn(r.reason)}` : ''}.${removal}`;
}

/** A reviewer's message, showing one page of their rows. */
export function reviewMessage(v: ReviewMessageInput): SlackMessage {
  const c = v.campaign;
  const key = c.jiraKey ? ` (${escapeMrkdwn(c.jiraKey)})` : '';
  const scope = escapeMrkdwn(c.scope);
  const head =
    c.state === 'closed'
      ? `:lock: *Access review: ${scope}*${key} is closed. Thank you.`
      : `:clipboard: *Access review: ${scope}*${key}\nFor each person below, decide whether they keep this access. Due *${formatTime(c.dueAt)}*; undecided then: ${escapeMrkdwn(describeOnDue(c.policy.onDue))}.`;
  const decided = v.counts.rows - v.counts.undecided;
  const blocks: KnownBlock[] = [
    { type: 'section', block_id: 'review_head', text: { type: 'mrkdwn', text: clip(head, LIMITS.sectionText) } },
    { type: 'context', block_id: 'review_progress', elements: [{ type: 'mrkdwn', text: `Page ${v.page.index + 1} of ${v.page.count} · ${decided} of ${v.counts.rows} decided` }] },
  ];
  const multiRole = c.roles.length > 1;
  for (const r of v.rows) {
    blocks.push({ type: 'section', block_id: `review_row:${r.seq}`, text: { type: 'mrkdwn', text: clip(rowText(r, multiRole, v.now), LIMITS.sectionText) } });
    if (r.decision === null && c.state === 'open') {
      const value = reviewValue(c.id, r.seq);
      blocks.push({
        type: 'actions',
        block_id: `review_item:${r.seq}`,
        elements: [
          { type: 'button', action_id: REVIEW_IDS.keep, text: plain('Keep'), style: 'primary', value },
          { type: 'button', action_id: REVIEW_IDS.revoke, text: plain('Revoke'), style: 'danger', value },
        ],
      });
    } else {
      blocks.push({ type: 'context', block_id: `review_item:${r.seq}`, elements: [{ type: 'mrkdwn', text: clip(r.decision === null ? 'Not decided.' : outcome(r), LIMITS.sectionText) }] });
    }
  }
  if (v.page.count > 1) {
    const pager = [];
    if (v.page.index > 0) pager.push({ type: 'button' as const, action_id: REVIEW_IDS.previous, text: plain('◀ Previous'), value: reviewValue(c.id, v.page.index - 1) });
    if (v.page.index < v.page.count - 1) pager.push({ type: 'button' as const, action_id: REVIEW_IDS.next, text: plain('Next ▶'), value: reviewValue(c.id, v.page.index + 1) });
    blocks.push({ type: 'actions', block_id: 'review_pages', elements: pager });
  }
  const text = c.state === 'closed' ? `Access review: ${c.scope} is closed` : `Access review: ${c.scope} — ${v.counts.undecided} of ${v.counts.rows} people await your decision`;
  return { text: escapeMrkdwn(text), blocks };
}

/** The reminder, in the thread of the reviewer's message. */
export function reviewReminder(c: CampaignRecord, undecided: number): SlackMessage {
  const key = c.jiraKey ? ` (${escapeMrkdwn(c.jiraKey)})` : '';
  const text = `:bell: Reminder: ${undecided} ${undecided === 1 ? 'person still waits' : 'people still wait'} for your decision in the access review of *${escapeMrkdwn(c.scope)}*${key}, due ${formatTime(c.dueAt)}.`;
  return { text: text.replace(/\*/g, ''), blocks: [{ type: 'section', text: { type: 'mrkdwn', text: clip(text, LIMITS.sectionText) } }] };
}

/** Revoke asks why (the reason, `IDS.reason`, goes on the review's Jira issue). */
export function revokeReasonModal(c: CampaignRecord, r: Pick<ReviewRow, 'seq' | 'name' | 'email' | 'idpUserId' | 'roleName'>): ModalView {
  const who = escapeMrkdwn(r.name ?? r.email ?? r.idpUserId);
  const summary = `Revoke *${who}*'s access to *${escapeMrkdwn(c.roles.length > 1 ? `${c.appName} / ${r.roleName}` : c.scope)}*? access-bot removes it, and the decision and your reason are recorded on ${escapeMrkdwn(c.jiraKey ?? 'the review’s Jira issue')}.`;
  return reasonModal({ callbackId: REVIEW_IDS.revokeModal, metadata: reviewValue(c.id, r.seq), title: 'Revoke access', submit: 'Revoke', summary });
}
