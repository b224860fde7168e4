/**
 * The inactivity warning (app/reclaim.ts) as the holder sees it: what looks unused, since when,
 * when it goes, and **Keep it**, which opens a modal asking why the access is still needed. Once
 * the warning is settled (kept, withdrawn after a sign-in, or reclaimed) the DM says so and loses
 * its button.
 */
import type { KnownBlock, ModalView } from '@slack/types';
import type { RequestRecord } from '../../app/ports/store.js';
import { MAX_REASON_LENGTH } from '../../domain/submission.js';
import { formatTime } from '../../domain/steps.js';
import { MIN_KEEP_REASON } from '../../app/keepAccess.js';
import { clip, escapeMrkdwn, LIMITS, plain } from './blocks.js';
import type { SlackMessage } from './client.js';

export const RECLAIM_IDS = { keep: 'reclaim_keep', keepModal: 'reclaim_keep_reason', reason: 'reason' } as const;

function what(r: RequestRecord): string {
  const key = r.jiraKey ? ` (${escapeMrkdwn(r.jiraKey)})` : '';
  return `*${escapeMrkdwn(r.appName)} / ${escapeMrkdwn(r.roleName)}*${key}`;
}

/** The warning (of `revokeAt`) with Keep it while it is in force; afterwards, how it ended. */
export function reclaimWarning(r: RequestRecord, revokeAt: number | null): SlackMessage {
  const standing = r.origin === 'standing' ? ' (you are in its group without a request through access-bot)' : '';
  const inForce = r.state === 'active' && r.reclaimWarnedAt !== null && revokeAt !== null && r.reclaimAt === revokeAt;
  const head = `:warning: Your access to ${what(r)}${standing} looks unused: no sign-in in ${escapeMrkdwn(r.connector)} for a long time.`;
  let text: string;
  if (inForce && revokeAt !== null) text = `${head} It will be removed on ${formatTime(revokeAt)} unless you use it or keep it. Keep it asks why you still need it; your answer goes on the Jira issue.`;
  else if (r.state === 'revoking' || r.state === 'revoked') text = `${head} It was removed on ${formatTime(r.revokedAt ?? r.revokeRequestedAt ?? r.updatedAt)}.`;
  else if (r.reclaimKeptAt !== null && r.reclaimKeptAt >= (r.reclaimWarnedAt ?? 0)) text = `${head} You kept it on ${formatTime(r.reclaimKeptAt)}.`;
  else text = `${head} A sign-in since the warning was seen: it stays.`;
  const blocks: KnownBlock[] = [{ type: 'section', block_id: `request:${r.id}`, text: { type: 'mrkdwn', text: clip(text, LIMITS.sectionText) } }];
  if (inForce) blocks.push({ type: 'actions', block_id: RECLAIM_IDS.keep, elements: [{ type: 'button', action_id: RECLAIM_IDS.keep, text: plain('Keep it'), style: 'primary', value: r.id }] });
  return { text: text.replace(/\*/g, ''), blocks };
}

/** Asks why the access is still needed (at least a few characters, like a deny reason). */
export function keepModal(r: RequestRecord): ModalView {
  return {
    type: 'modal',
    callback_id: RECLAIM_IDS.keepModal,
    private_metadata: r.id,
    title: plain('Keep access', LIMITS.modalTitle),
    submit: plain('Keep it', LIMITS.modalTitle),
    close: plain('Back', LIMITS.modalTitle),
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: clip(`Why do you still need ${what(r)}? Your answer is recorded on the Jira issue.`, LIMITS.sectionText) } },
      {
        type: 'input',
        block_id: RECLAIM_IDS.reason,
        label: plain('Reason'),
        element: { type: 'plain_text_input', action_id: RECLAIM_IDS.reason, multiline: true, min_length: MIN_KEEP_REASON, max_length: MAX_REASON_LENGTH },
      },
    ],
  };
}
