/**
 * The App Home as Block Kit (app/home.ts says what it shows). A Home tab holds at most 100
 * blocks (https://docs.slack.dev/reference/views/home-tab-views); each list shows at most its
 * share below and says "and N more" for the rest, so a long list never fails the publish. The
 * shares add up to 95 blocks at most (the unit test builds the largest Home and counts).
 *
 * Approve, Deny, Revoke now and Extend carry the action ids of the DM cards and the expiry
 * warning: the same handlers, and the same click-time authorisation, decide them.
 *
 * "Requests you made for others" is shown only to someone who made one (it is rare); the others
 * always show, empty or not, so everyone sees what the Home holds.
 */
import type { HomeView, KnownBlock } from '@slack/types';
import type { HomeList, HomeModel } from '../../app/home.js';
import { clip, decisionButtons, escapeMrkdwn, IDS, LIMITS, plain, revokeElement } from './blocks.js';

export const HOME_IDS = { requestAccess: 'home_request_access' } as const;

/** Items shown per list (blocks per item: waiting 2, active 2, others 1). */
export const HOME_SHOWN = { waitingForMe: 12, pending: 12, active: 10, approvedByMe: 10, ended: 10, forOthers: 6 } as const;

function header(text: string): KnownBlock {
  return { type: 'header', text: plain(text, 150) };
}

function note(text: string): KnownBlock {
  return { type: 'context', elements: [{ type: 'mrkdwn', text: clip(text, LIMITS.sectionText) }] };
}

function itemText(text: string): { type: 'mrkdwn'; text: string } {
  return { type: 'mrkdwn', text: clip(escapeMrkdwn(text), LIMITS.sectionText) };
}

/** A list's items (each rendered by `item`), then "and N more", or `empty` when there are none. */
function section(title: string, l: HomeList, shown: number, empty: string, item: (i: HomeList['items'][number]) => KnownBlock[]): KnownBlock[] {
  const out: KnownBlock[] = [header(title)];
  if (l.total === 0) return [...out, note(empty)];
  const items = l.items.slice(0, shown);
  for (const i of items) out.push(...item(i));
  if (l.total > items.length) out.push(note(`…and ${l.total - items.length} more.`));
  return out;
}

export function homeView(m: HomeModel): HomeView {
  // Block ids name the request, so each is unique within the view (Slack requires it).
  const blocks: KnownBlock[] = [
    {
      type: 'section',
      block_id: 'home:intro',
      text: { type: 'mrkdwn', text: 'What you have, what you are waiting for, and what is waiting for you.' },
      accessory: { type: 'button', action_id: HOME_IDS.requestAccess, text: plain('Request access'), style: 'primary', value: 'request' },
    },
    ...section('Waiting for you', m.waitingForMe, HOME_SHOWN.waitingForMe, 'Nothing is waiting for your decision.', ({ request: r, text }) => [
      { type: 'section', block_id: `home:ask:${r.id}`, text: itemText(text) },
      { type: 'actions', block_id: `home:decide:${r.id}`, elements: decisionButtons(r.id) },
    ]),
    ...section('Your pending requests', m.pending, HOME_SHOWN.pending, 'You have no pending requests.', ({ request: r, text }) => [
      { type: 'section', block_id: `home:pending:${r.id}`, text: itemText(text) },
    ]),
    ...section('Your access', m.active, HOME_SHOWN.active, 'You have no active access. Request access above.', ({ request: r, text }) => {
      const out: KnownBlock[] = [{ type: 'section', block_id: `home:grant:${r.id}`, text: itemText(text) }];
      const buttons = [
        ...(m.active.extendable.has(r.id) ? [{ type: 'button' as const, action_id: IDS.extend, text: plain('Extend'), value: r.id }] : []),
        ...(m.active.revocable.has(r.id) ? [revokeElement(r, 'Revoke now')] : []),
      ];
      if (buttons.length > 0) out.push({ type: 'actions', block_id: `home:grant-actions:${r.id}`, elements: buttons });
      return out;
    }),
    ...(m.forOthers.total === 0
      ? []
      : section('Requests you made for others', m.forOthers, HOME_SHOWN.forOthers, '', ({ request: r, text }) => [
          { type: 'section', block_id: `home:for-others:${r.id}`, text: itemText(text) },
        ])),
    ...section('Access you approved', m.approvedByMe, HOME_SHOWN.approvedByMe, 'No access you approved is active.', ({ request: r, text }) => [
      { type: 'section', block_id: `home:approved:${r.id}`, text: itemText(text) },
    ]),
    ...section('Recently ended', m.ended, HOME_SHOWN.ended, 'None of your requests has ended yet.', ({ request: r, text }) => [
      { type: 'context', block_id: `home:ended:${r.id}`, elements: [itemText(text)] },
    ]),
  ];
  return { type: 'home', blocks };
}
