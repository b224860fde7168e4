/**
 * Block Kit and text for every surface the bot shows in Slack. app/ hands over plain text (names,
 * reasons, causes, Jira display names, IdP error summaries: text from outside); it becomes mrkdwn
 * only here, through `escapeMrkdwn`, so `<!channel>`, `<@U123>` or `<https://evil|a link>` in it
 * is shown, never acted on.
 */
import type { Button, ExternalSelect, KnownBlock, ModalView, PlainTextOption, StaticSelect } from '@slack/types';
import type { ApproverRecord, RequestRecord } from '../../app/ports/store.js';
import type { RequesterNotice } from '../../app/effects.js';
import { bundleChoice, bundleIdOf, partLabel, WHOLE_BUNDLE, wholeBundleText } from '../../domain/bundle.js';
import { findBundle, type Catalog } from '../../domain/catalog.js';
import { describeDuration, type Duration } from '../../domain/duration.js';
import { describeState } from '../../domain/lifecycle.js';
import { describeBasis } from '../../domain/onBehalf.js';
import { requestTitle } from '../../domain/removal.js';
import { formatTime } from '../../domain/steps.js';
import { MAX_REASON_LENGTH } from '../../domain/submission.js';
import type { SlackMessage } from './client.js';
import { SLACK_USER_ID } from '../../domain/people.js';

export const IDS = {
  requestModal: 'access_request',
  denyModal: 'deny_reason',
  application: 'application',
  role: 'role',
  duration: 'duration',
  reason: 'reason',
  approve: 'approve',
  deny: 'deny',
  decision: 'decision',
  review: 'review_break_glass',
  revoke: 'revoke_access',
  extend: 'extend_access',
  onBehalf: 'on_behalf',
  // The removal and change forms (kindModals.ts), and the request modal's buttons that open them.
  removalModal: 'access_removal',
  changeModal: 'access_change',
  kinds: 'request_kinds',
  openRemoval: 'open_removal',
  openChange: 'open_change',
  holding: 'holding',
  toRole: 'to_role',
  changeDuration: 'change_duration',
} as const;

/** Slack's limits we stay inside. https://api.slack.com/reference/block-kit */
export const LIMITS = { staticOptions: 100, optionText: 75, sectionText: 3000, fieldText: 2000, modalTitle: 24 } as const;

/**
 * Plain text as mrkdwn: Slack's control characters `&`, `<` and `>` as HTML entities, and only
 * those ("There are three characters you must convert to HTML entities and only three",
 * https://api.slack.com/docs/message-formatting; now
 * https://docs.slack.dev/messaging/formatting-message-text#escaping). The one escaping function:
 * every piece of outside text reaches Slack through it.
 */
export function escapeMrkdwn(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function clip(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

export function plain(text: string, max: number = LIMITS.optionText) {
  return { type: 'plain_text' as const, text: clip(text, max), emoji: true };
}

function option(text: string, value: string): PlainTextOption {
  return { text: plain(text), value };
}

export function applicationOptions(catalog: Catalog, query = ''): PlainTextOption[] {
  const q = query.trim().toLowerCase();
  return catalog.applications
    .filter((a) => !q || a.name.toLowerCase().includes(q) || a.id.includes(q))
    .slice(0, LIMITS.staticOptions)
    .map((a) => option(a.name, a.id));
}

/** The catalog's bundles as menu options, marked as bundles (`bundle:<id>` values). */
export function bundleOptions(catalog: Catalog, query = ''): PlainTextOption[] {
  const q = query.trim().toLowerCase();
  return (catalog.bundles ?? [])
    .filter((b) => !q || b.name.toLowerCase().includes(q) || b.id.includes(q))
    .slice(0, LIMITS.staticOptions)
    .map((b) => option(`📦 ${b.name} (bundle of ${b.parts.length})`, bundleChoice(b.id)));
}

/**
 * The application menu: the applications, and beside them the bundles in a group of their own,
 * clearly marked. Without bundles, a plain list (as before bundles existed).
 */
export function applicationMenu(catalog: Catalog, query = ''): { options: PlainTextOption[] } | { option_groups: { label: ReturnType<typeof plain>; options: PlainTextOption[] }[] } {
  const apps = applicationOptions(catalog, query);
  if (!catalog.bundles?.length) return { options: apps };
  const bundles = bundleOptions(catalog, query);
  const groups = [
    { label: plain('Applications'), options: apps },
    { label: plain('Bundles: several roles, one request'), options: bundles },
  ];
  // Slack refuses an empty group.
  return { option_groups: groups.filter((g) => g.options.length > 0) };
}

export function roleOptions(catalog: Catalog, appId: string | undefined, query = ''): PlainTextOption[] {
  const bundle = bundleIdOf(appId);
  if (bundle !== undefined) {
    const b = findBundle(catalog, bundle);
    return b ? [option(wholeBundleText(b.parts.length), WHOLE_BUNDLE)] : [];
  }
  const app = catalog.applications.find((a) => a.id === appId);
  const q = query.trim().toLowerCase();
  return (app?.roles ?? [])
    .filter((r) => !q || r.name.toLowerCase().includes(q) || r.id.includes(q))
    .slice(0, LIMITS.staticOptions)
    .map((r) => option(r.breakGlass ? `${r.name} (emergency)` : r.name, r.id));
}

export function durationOptions(catalog: Catalog, appId: string | undefined, roleId: string | undefined): PlainTextOption[] {
  const bundle = bundleIdOf(appId);
  const durations = bundle !== undefined ? findBundle(catalog, bundle)?.durations : catalog.applications.find((a) => a.id === appId)?.roles.find((r) => r.id === roleId)?.durations;
  return (durations ?? []).slice(0, LIMITS.staticOptions).map((d) => option(describeDuration(d), d.token));
}

/**
 * The request modal. Role and duration are `external_select`s: their options are served from
 * the modal's current state (block_suggestion), so they always follow the chosen application and
 * role without a views.update round trip. The application is a `static_select` unless the
 * catalog has more than 100 applications, then an `external_select` with type-ahead.
 *
 * `forSomeoneElse`: an optional `users_select` for requesting on someone's behalf, offered when
 * anyone could (a MANAGER_SOURCE is configured, or the catalog lists delegates); who may is
 * checked on submission (app/onBehalf.ts).
 */
export function requestModal(catalog: Catalog, opts: { forSomeoneElse?: boolean } = {}): ModalView {
  const apps = catalog.applications;
  const appSelect: StaticSelect | ExternalSelect =
    apps.length <= LIMITS.staticOptions && (catalog.bundles?.length ?? 0) <= LIMITS.staticOptions
      ? { type: 'static_select' as const, action_id: IDS.application, placeholder: plain('Choose an application'), ...applicationMenu(catalog) }
      : { type: 'external_select' as const, action_id: IDS.application, placeholder: plain('Type to search applications'), min_query_length: 1 };
  return {
    type: 'modal',
    callback_id: IDS.requestModal,
    title: plain('Request access', LIMITS.modalTitle),
    submit: plain('Submit', LIMITS.modalTitle),
    close: plain('Cancel', LIMITS.modalTitle),
    blocks: [
      // The other two kinds of request, one click away (a form of their own each, kindModals.ts).
      {
        type: 'actions',
        block_id: IDS.kinds,
        elements: [
          { type: 'button', action_id: IDS.openRemoval, text: plain('Give up access I have') },
          { type: 'button', action_id: IDS.openChange, text: plain('Change my role') },
        ],
      },
      { type: 'input', block_id: IDS.application, label: plain('Application'), element: appSelect },
      {
        type: 'input',
        block_id: IDS.role,
        label: plain('Role'),
        hint: plain('The roles of the chosen application (a bundle is requested whole).', 150),
        element: { type: 'external_select', action_id: IDS.role, placeholder: plain('Choose a role'), min_query_length: 0 },
      },
      {
        type: 'input',
        block_id: IDS.duration,
        label: plain('Duration'),
        hint: plain('The durations the chosen role allows.', 150),
        element: { type: 'external_select', action_id: IDS.duration, placeholder: plain('Choose how long'), min_query_length: 0 },
      },
      {
        type: 'input',
        block_id: IDS.reason,
        label: plain('Reason'),
        element: { type: 'plain_text_input', action_id: IDS.reason, multiline: true, max_length: MAX_REASON_LENGTH, placeholder: plain('Why do you need this access?') },
      },
      ...(opts.forSomeoneElse
        ? [
            {
              type: 'input' as const,
              block_id: IDS.onBehalf,
              optional: true,
              label: plain('For someone else'),
              hint: plain('Leave empty to request for yourself. Their manager, or a delegate the access catalog lists, may request for someone else.', 2000),
              element: { type: 'users_select' as const, action_id: IDS.onBehalf, placeholder: plain('Choose a person') },
            },
          ]
        : []),
    ],
  };
}

export function denyModal(requestId: string, summary: string): ModalView {
  return reasonModal({ callbackId: IDS.denyModal, metadata: requestId, title: 'Deny request', submit: 'Deny', summary });
}

/** A modal that asks why (deny, a review's revoke): the summary, then a required reason (`IDS.reason`). */
export function reasonModal(o: { callbackId: string; metadata: string; title: string; submit: string; summary: string }): ModalView {
  return {
    type: 'modal',
    callback_id: o.callbackId,
    private_metadata: o.metadata,
    title: plain(o.title, LIMITS.modalTitle),
    submit: plain(o.submit, LIMITS.modalTitle),
    close: plain('Back', LIMITS.modalTitle),
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: clip(o.summary, LIMITS.sectionText) } },
      {
        type: 'input',
        block_id: IDS.reason,
        label: plain('Reason'),
        element: { type: 'plain_text_input', action_id: IDS.reason, multiline: true, min_length: 3, max_length: MAX_REASON_LENGTH },
      },
    ],
  };
}

function durationText(r: RequestRecord): string {
  return describeDuration({ token: r.durationToken, ms: r.durationMs });
}


/** A person as mrkdwn: their name (escaped), else a mention of their Slack id, else `someone`. */
function personText(name: string | null, slackId: string | null): string {
  const id = slackId ?? '';
  return name !== null ? escapeMrkdwn(name) : SLACK_USER_ID.test(id) ? `<@${id}>` : escapeMrkdwn(id || 'someone');
}

export function requestSummary(r: RequestRecord): string {
  const who = personText(r.requesterName ?? r.requesterEmail, r.requesterSlackId);
  if (r.extendsId) return `*${who}* asks to extend *${escapeMrkdwn(r.appName)} / ${escapeMrkdwn(r.roleName)}* by *${durationText(r)}* (the access is active now).`;
  if (r.kind === 'removal') {
    const whose = r.subjectEmail ? ` from *${escapeMrkdwn(r.subjectName ? `${r.subjectName} (${r.subjectEmail})` : r.subjectEmail)}*` : '';
    return `*${who}* asks to remove *${escapeMrkdwn(r.appName)} / ${escapeMrkdwn(r.roleName)}*${whose}. Once approved, the membership is removed.`;
  }
  if (r.kind === 'change') {
    return `*${who}* asks to change *${escapeMrkdwn(r.appName)}* from *${escapeMrkdwn(r.fromRoleName ?? '?')}* to *${escapeMrkdwn(r.roleName)}* for *${durationText(r)}*. Once approved, ${escapeMrkdwn(r.roleName)} is granted, then ${escapeMrkdwn(r.fromRoleName ?? 'the old role')} removed.`;
  }
  const what = r.bundleParts ? `the bundle *${escapeMrkdwn(r.appName)}*` : `*${escapeMrkdwn(r.appName)} / ${escapeMrkdwn(r.roleName)}*`;
  const parts = r.bundleParts ? `: ${escapeMrkdwn(r.bundleParts.map(partLabel).join('; '))}` : '';
  if (r.submittedAs) {
    const by = personText(r.submitterName ?? r.submitterEmail, r.submitterSlackId);
    return `*${by}* requests ${what} for *${durationText(r)}* on behalf of *${who}* (${describeBasis(r.submittedAs)})${parts}.`;
  }
  return `*${who}* requests ${what} for *${durationText(r)}*${parts}.`;
}

function detailFields(r: RequestRecord) {
  return [
    { type: 'mrkdwn' as const, text: clip(`*Reason*\n${escapeMrkdwn(r.reason)}`, LIMITS.fieldText) },
    { type: 'mrkdwn' as const, text: `*Jira*\n${r.jiraKey ? escapeMrkdwn(r.jiraKey) : 'being recorded'}` },
  ];
}

/** The approver's DM: buttons while it waits for them, then who decided and when. */
export function approvalCard(r: RequestRecord, me: ApproverRecord, all: ApproverRecord[]): SlackMessage {
  const summary = requestSummary(r);
  const blocks: KnownBlock[] = [
    // The block id names the request, so the card stays identifiable after its buttons are gone.
    { type: 'section', block_id: `request:${r.id}`, text: { type: 'mrkdwn', text: clip(summary, LIMITS.sectionText) } },
    { type: 'section', fields: detailFields(r) },
  ];
  const decider = all.find((a) => a.decision === 'deny') ?? [...all].reverse().find((a) => a.decision === 'approve');
  let status: string | undefined;
  if (r.state === 'pending' && r.stage === me.stage && me.decision === null) {
    blocks.push({
      type: 'actions',
      block_id: IDS.decision,
      elements: decisionButtons(r.id),
    });
  } else if (r.state === 'pending' && me.decision === 'approve') {
    status = r.stage === me.stage ? `You approved on ${formatTime(me.decidedAt!)}; waiting for other approvers.` : `You approved on ${formatTime(me.decidedAt!)}; the request moved to its next stage.`;
  } else if (r.state === 'pending') {
    status = 'The request moved to its next stage.';
  } else if (r.state === 'cancelled') {
    status = 'The requester cancelled this request.';
  } else if (r.state === 'denied' && decider) {
    status = `:x: Denied by ${escapeMrkdwn(decider.name ?? decider.email)} on ${formatTime(decider.decidedAt!)}: ${escapeMrkdwn(decider.reason ?? '')}`;
  } else if (r.decidedBy && r.decidedAt && r.state !== 'timed_out') {
    status = `:white_check_mark: Approved by ${escapeMrkdwn(r.decidedBy)} on ${formatTime(r.decidedAt)}.`;
    if (r.state === 'active') status += r.expiresAt === null ? ' Access granted; it does not expire.' : ` Access granted until ${formatTime(r.expiresAt)}.`;
    if (r.state === 'revoked') status += ` Access revoked${r.revokedBy ? ` by ${escapeMrkdwn(r.revokedBy)}` : ''} on ${formatTime(r.revokedAt ?? r.updatedAt)}.`;
  } else {
    status = `This request is ${describeState(r.state)}.`;
  }
  if (status) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: clip(status, LIMITS.sectionText) }] });
  if (r.state === 'active') blocks.push(revokeButton(r, 'Revoke'));
  // The notification text is mrkdwn too: user-given names are escaped here as in the blocks.
  const forWhom = `${r.requesterName ?? r.requesterSlackId}${r.submittedAs ? ` (asked by ${r.submitterName ?? r.submitterEmail ?? r.submitterSlackId})` : ''}`;
  return { text: escapeMrkdwn(`${r.extendsId ? 'Extension request' : requestTitle(r.kind)}: ${forWhom} → ${r.appName} / ${r.roleName}`) + (status ? ` — ${status}` : ''), blocks };
}

/** Approve and Deny, wherever they are shown (the DM card, the App Home): one pair of handlers. */
export function decisionButtons(requestId: string): Button[] {
  return [
    { type: 'button', action_id: IDS.approve, text: plain('Approve'), style: 'primary', value: requestId },
    { type: 'button', action_id: IDS.deny, text: plain('Deny'), style: 'danger', value: requestId },
  ];
}

/** What the requester is told at each step. */
export function requesterNotice(r: RequestRecord, n: RequesterNotice): SlackMessage {
  const what = `*${escapeMrkdwn(r.appName)} / ${escapeMrkdwn(r.roleName)}*`;
  const key = r.jiraKey ? ` (${escapeMrkdwn(r.jiraKey)})` : '';
  let text: string;
  switch (n.type) {
    case 'submitted':
      text = r.submittedAs
        ? `${personText(r.submitterName ?? r.submitterEmail, r.submitterSlackId)} asked for ${what} for ${durationText(r)} on your behalf (${describeBasis(r.submittedAs, 'your')}); the request was submitted${r.jiraKey ? ` as ${escapeMrkdwn(r.jiraKey)}` : ''}. It is your request: you will hear back here when it is decided, and you may cancel it.`
        : `Your ${r.kind === 'access' ? 'request' : `${r.kind} request`} for ${r.kind === 'removal' ? what : `${what} for ${durationText(r)}`} was submitted${r.jiraKey ? ` as ${escapeMrkdwn(r.jiraKey)}` : ''}. You will hear back here when it is decided.`;
      break;
    case 'approved':
      text = `Your ${r.kind === 'access' ? 'request' : `${r.kind} request`} for ${what}${key} was approved by ${escapeMrkdwn(n.by)}. ${r.kind === 'removal' ? 'The access is being removed.' : 'Access is being granted.'}`;
      break;
    case 'stage_passed': {
      // "Your manager", "The owners"; an email stays as it is written (a bundle's stages name part owners by email).
      const passed = /^(your|the) /.test(n.passed) ? n.passed.charAt(0).toUpperCase() + n.passed.slice(1) : n.passed;
      text = `${escapeMrkdwn(passed)} approved your request for ${what}${key}; now waiting for ${escapeMrkdwn(n.next)}: ${escapeMrkdwn(n.asked.join(', '))}.`;
      break;
    }
    case 'denied':
      text = `Your request for ${what}${key} was denied by ${escapeMrkdwn(n.by)}: ${escapeMrkdwn(n.reason)}`;
      break;
    case 'grant_pending':
      text = `Your request for ${what}${key} was approved and waits for you: ${escapeMrkdwn(n.notice)}.`;
      break;
    case 'granted':
      text = `Access granted: ${what}${key}. ${n.expiresAt === null ? 'It does not expire.' : `It expires ${formatTime(n.expiresAt)}.`}`;
      if (r.state === 'revoked') {
        text += ` Ended ${formatTime(r.revokedAt ?? r.updatedAt)}.`;
        break;
      }
      // Giving access back early is one click; the button goes once the grant has ended.
      return { text: text.replace(/\*/g, ''), blocks: [{ type: 'section', text: { type: 'mrkdwn', text: clip(text, LIMITS.sectionText) } }, revokeButton(r, 'Revoke now')] };
    case 'revoked':
      text = `Your access to ${what}${key} ${n.cause === 'expired' ? 'expired and was removed' : n.cause === 'reclaimed' ? 'was removed: it went unused after the inactivity warning' : `was revoked by ${escapeMrkdwn(n.by ?? 'an admin')}`}.`;
      break;
    case 'extended':
      text = `Your access to ${what}${key} was extended by ${durationText(r)} (approved by ${escapeMrkdwn(n.by)}): it now ends ${formatTime(n.expiresAt)}.`;
      break;
    case 'extension_denied':
      text = `Your extension of ${what}${key} was denied by ${escapeMrkdwn(n.by)}: ${escapeMrkdwn(n.reason)}. Your access still ends ${formatTime(n.expiresAt)}.`;
      break;
    case 'timed_out':
      text = `Your request for ${what}${key} timed out: nobody decided in time.`;
      break;
    case 'cancelled':
      text = n.why
        ? `Your request for ${what}${key} was cancelled by access-bot: ${escapeMrkdwn(n.by)}, who had asked for it on your behalf, ${escapeMrkdwn(n.why)}. If you still need it, request it again.`
        : `Your request for ${what}${key} was cancelled by ${escapeMrkdwn(n.by)}, who had asked for it on your behalf.`;
      break;
    case 'failed':
      text = `Your request for ${what}${key} failed: ${escapeMrkdwn(n.cause)}. An admin has been told.`;
      break;
    case 'part_missing':
      text = `Part of your bundle ${what}${key} could not be granted: *${escapeMrkdwn(n.part)}*: ${escapeMrkdwn(n.cause)}. The other parts are in place; an admin has been told and will retry the missing part.`;
      break;
    case 'removed':
      text = n.from
        ? `Your previous role ${escapeMrkdwn(n.from)} of *${escapeMrkdwn(r.appName)}* was ${n.outcome === 'not_member' ? 'already gone' : 'removed'}${key}, as your change asked.`
        : n.outcome === 'not_member'
          ? `Your removal request for ${what}${key} was carried out: there was no membership to remove.`
          : `Your removal request for ${what}${key} was carried out: the access was removed.`;
      break;
  }
  return { text: text.replace(/\*/g, ''), blocks: [{ type: 'section', text: { type: 'mrkdwn', text: clip(text, LIMITS.sectionText) } }] };
}

/** The submitter's confirmation of a request made for someone else (sent once its Jira issue exists). */
export function submitterNotice(r: RequestRecord): SlackMessage {
  const who = personText(r.requesterName ?? r.requesterEmail, r.requesterSlackId);
  const key = r.jiraKey ? ` as ${escapeMrkdwn(r.jiraKey)}` : '';
  const text = `You asked for *${escapeMrkdwn(r.appName)} / ${escapeMrkdwn(r.roleName)}* for ${durationText(r)} on behalf of *${who}*; it was submitted${key}. It is their request: they are told at each step, and your App Home lists it under Requests you made for others.`;
  return { text: text.replace(/\*/g, ''), blocks: [{ type: 'section', block_id: `request:${r.id}`, text: { type: 'mrkdwn', text: clip(text, LIMITS.sectionText) } }] };
}

/**
 * The warning before a grant ends. `extension`: what Extend asks for (app/extend.ts
 * `warningExtension`); without one the role cannot be extended and there is no button.
 */
export function expiryWarning(r: RequestRecord, expiresAt: number, left: string, extension: Duration | undefined): SlackMessage {
  const key = r.jiraKey ? ` (${escapeMrkdwn(r.jiraKey)})` : '';
  const head = `:hourglass: Your access to *${escapeMrkdwn(r.appName)} / ${escapeMrkdwn(r.roleName)}*${key} ends in ${left}, at ${formatTime(expiresAt)}.`;
  const text = extension ? `${head} Extend asks for ${describeDuration(extension)} more, under the same approval as before.` : head;
  const blocks: KnownBlock[] = [{ type: 'section', block_id: `request:${r.id}`, text: { type: 'mrkdwn', text: clip(text, LIMITS.sectionText) } }];
  if (extension) {
    blocks.push({ type: 'actions', block_id: IDS.extend, elements: [{ type: 'button', action_id: IDS.extend, text: plain('Extend'), style: 'primary', value: r.id }] });
  }
  return { text: text.replace(/\*/g, ''), blocks };
}

/** The loud break-glass alert: who took what and why, with a Reviewed button until acknowledged. */
export function breakGlassAlert(r: RequestRecord): SlackMessage {
  const who = escapeMrkdwn(r.requesterName ? `${r.requesterName} (${r.requesterEmail ?? ''})` : (r.requesterEmail ?? r.requesterSlackId ?? 'someone'));
  const head = `:rotating_light: *Break-glass access* — ${who} took *${escapeMrkdwn(r.appName)} / ${escapeMrkdwn(r.roleName)}* for *${durationText(r)}* without approval.`;
  const blocks: KnownBlock[] = [
    { type: 'section', block_id: `request:${r.id}`, text: { type: 'mrkdwn', text: clip(head, LIMITS.sectionText) } },
    { type: 'section', fields: detailFields(r) },
  ];
  if (r.reviewedAt) {
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `:white_check_mark: Reviewed by ${escapeMrkdwn(r.reviewedBy ?? 'someone')} on ${formatTime(r.reviewedAt)}.` }] });
  } else {
    blocks.push({
      type: 'actions',
      block_id: IDS.review,
      elements: [{ type: 'button', action_id: IDS.review, text: plain('Reviewed'), style: 'primary', value: r.id }],
    });
  }
  return { text: escapeMrkdwn(`Break-glass access: ${r.requesterName ?? r.requesterSlackId} → ${r.appName} / ${r.roleName} (${r.jiraKey ?? 'Jira issue being created'}). Reason: ${r.reason}`), blocks };
}

/** An admin alert or an ephemeral reply: plain text from app/, escaped. */
export function textMessage(text: string): SlackMessage {
  return { text: escapeMrkdwn(text) };
}

export function reminderText(r: RequestRecord): SlackMessage {
  const text = `Reminder: ${requestSummary(r)} It is still waiting for your decision.`;
  return { text: text.replace(/\*/g, ''), blocks: [{ type: 'section', text: { type: 'mrkdwn', text: clip(text, LIMITS.sectionText) } }] };
}

function revokeButton(r: RequestRecord, label: string): KnownBlock {
  return { type: 'actions', block_id: IDS.revoke, elements: [revokeElement(r, label)] };
}

/** The Revoke button (with its confirmation), wherever it is shown: one handler. */
export function revokeElement(r: RequestRecord, label: string): Button {
  return {
    type: 'button',
    action_id: IDS.revoke,
    text: plain(label),
    style: 'danger',
    value: r.id,
    confirm: { title: plain('Revoke access?', 100), text: plain(`${r.appName} / ${r.roleName} is removed now.`, 300), confirm: plain('Revoke'), deny: plain('Keep') },
  };
}
