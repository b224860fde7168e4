/**
 * The removal and change forms (issue 16), beside the request modal (blocks.ts): `/access remove`
 * and `/access change`, or the request modal's buttons, open them. Both list what the person
 * holds (domain/removal.ts `Holding`): access-bot's active grants, and the roles whose group the
 * user sync saw them in (standing access). The change form's new role and duration are
 * `external_select`s, served from the form's state like the request modal's.
 */
import type { KnownBlock, ModalView, PlainTextOption } from '@slack/types';
import type { Catalog } from '../../domain/catalog.js';
import { describeDuration } from '../../domain/duration.js';
import { holdingValue, parseHoldingValue, type Holding } from '../../domain/removal.js';
import { formatTime } from '../../domain/steps.js';
import { MAX_REASON_LENGTH } from '../../domain/submission.js';
import { IDS, LIMITS, clip, plain } from './blocks.js';

function holdingText(h: Holding): string {
  const how = h.source === 'grant' ? (h.expiresAt ? `until ${formatTime(h.expiresAt)}` : 'granted by access-bot') : 'standing access';
  return `${h.appName} / ${h.roleName} (${how})`;
}

function holdingOptions(holdings: readonly Holding[]): PlainTextOption[] {
  return holdings.slice(0, LIMITS.staticOptions).map((h) => ({ text: plain(holdingText(h)), value: holdingValue(h) }));
}

function reasonInput(placeholder: string): KnownBlock {
  return {
    type: 'input',
    block_id: IDS.reason,
    label: plain('Reason'),
    element: { type: 'plain_text_input', action_id: IDS.reason, multiline: true, max_length: MAX_REASON_LENGTH, placeholder: plain(placeholder) },
  };
}

/** Nothing to choose from: the form says so and offers no submit. */
function nothingHeld(callbackId: string, title: string): ModalView {
  return {
    type: 'modal',
    callback_id: callbackId,
    title: plain(title, LIMITS.modalTitle),
    close: plain('Close', LIMITS.modalTitle),
    blocks: [
      {
        type: 'section',
        text: { type: 'mrkdwn', text: 'access-bot knows of no access you hold: no active grant of yours, and no catalog group the last user sync saw you in. Use /access to request some.' },
      },
    ],
  };
}

/**
 * A form listing what the person holds: an explanation, the held role (`holdingLabel`), the
 * blocks of its kind, a reason. Holding nothing, the form says so and offers no submit.
 */
function holdingsForm(callbackId: string, title: string, holdings: readonly Holding[], f: { intro: string; holdingLabel: string; blocks: KnownBlock[]; reasonHint: string }): ModalView {
  if (holdings.length === 0) return nothingHeld(callbackId, title);
  return {
    type: 'modal',
    callback_id: callbackId,
    title: plain(title, LIMITS.modalTitle),
    submit: plain('Submit', LIMITS.modalTitle),
    close: plain('Cancel', LIMITS.modalTitle),
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: clip(f.intro, LIMITS.sectionText) } },
      {
        type: 'input',
        block_id: IDS.holding,
        label: plain(f.holdingLabel),
        element: { type: 'static_select', action_id: IDS.holding, placeholder: plain('Choose what you hold'), options: holdingOptions(holdings) },
      },
      ...f.blocks,
      reasonInput(f.reasonHint),
    ],
  };
}

/** An `external_select` input whose options follow the form's state. */
function servedSelect(id: string, label: string, hint: string, placeholder: string): KnownBlock {
  return { type: 'input', block_id: id, label: plain(label), hint: plain(hint, 150), element: { type: 'external_select', action_id: id, placeholder: plain(placeholder), min_query_length: 0 } };
}

export function removalModal(holdings: readonly Holding[]): ModalView {
  return holdingsForm(IDS.removalModal, 'Give up access', holdings, {
    intro: 'Removal is approved like a request for the role. Once approved, the membership is removed, whoever granted it.',
    holdingLabel: 'Access to give up',
    blocks: [],
    reasonHint: 'Why should this access go?',
  });
}

export function changeModal(holdings: readonly Holding[]): ModalView {
  return holdingsForm(IDS.changeModal, 'Change my role', holdings, {
    intro: 'A change is approved as a request for the new role. Once approved, the new role is granted, then the old one removed.',
    holdingLabel: 'Role you have',
    blocks: [
      servedSelect(IDS.toRole, 'Role you want instead', 'The other roles of the same application.', 'Choose a role'),
      servedSelect(IDS.changeDuration, 'Duration', 'The durations the new role allows.', 'Choose how long'),
    ],
    reasonHint: 'Why do you need the new role?',
  });
}

/** The roles a change from the held role may go to: the others of its application. */
export function toRoleOptions(catalog: Catalog, held: string | undefined, query = ''): PlainTextOption[] {
  const from = parseHoldingValue(held);
  const app = catalog.applications.find((a) => a.id === from?.appId);
  const q = query.trim().toLowerCase();
  return (app?.roles ?? [])
    .filter((r) => r.id !== from?.roleId && !r.breakGlass && (!q || r.name.toLowerCase().includes(q) || r.id.includes(q)))
    .slice(0, LIMITS.staticOptions)
    .map((r) => ({ text: plain(r.name), value: r.id }));
}

export function changeDurationOptions(catalog: Catalog, held: string | undefined, toRoleId: string | undefined): PlainTextOption[] {
  const from = parseHoldingValue(held);
  const role = catalog.applications.find((a) => a.id === from?.appId)?.roles.find((r) => r.id === toRoleId);
  return (role?.durations ?? []).slice(0, LIMITS.staticOptions).map((d) => ({ text: plain(describeDuration(d)), value: d.token }));
}
