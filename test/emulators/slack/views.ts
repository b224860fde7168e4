/**
 * Views: views.open, views.push, views.update and views.publish (modals and Home tabs), the
 * trigger ids that open them, and what Slack's client does with an app's answer to a submission.
 */
import { randomBytes } from 'node:crypto';
import { blockError, checkView, interactiveElements, normalizeBlocks, type Problem } from './blockKit.js';
import type { SlackWorkspace, StoredView } from './workspace.js';
import { asArray, bool, fail, INVALID_JSON, isObj, ok, parseJsonArg, str, type Args, type MethodResult, type Obj, type SlackMethods } from './wire.js';

// Trigger ids live 3 seconds and are exchanged once: expired_trigger_id, exchanged_trigger_id.
// https://docs.slack.dev/reference/methods/views.open , https://docs.slack.dev/reference/methods/views.push
export const TRIGGER_TTL_MS = 3000;

export function viewsMethods(ws: SlackWorkspace): SlackMethods {
  return {
    'views.open': (a) => viewsOpen(ws, a, 'views.open'),
    'views.push': (a) => viewsOpen(ws, a, 'views.push'),
    'views.update': (a) => viewsUpdate(ws, a),
    'views.publish': (a) => viewsPublish(ws, a),
  };
}

/** A trigger id as Slack puts in a command or interaction payload: valid 3 s, once. */
export function issueTriggerId(ws: SlackWorkspace, userId?: string): string {
  const seq = ws.nextSeq();
  const id = `${Math.floor(ws.now() / 1000)}${String(seq).padStart(3, '0')}.${ws.teamId.replace(/\D/g, '') || '0'}${seq}.${randomBytes(16).toString('hex')}`;
  ws.triggers.set(id, { userId, issuedAt: ws.now(), used: false });
  return id;
}

/** Ages a trigger past its lifetime, for tests of `expired_trigger_id`. */
export function expireTriggerId(ws: SlackWorkspace, triggerId: string): void {
  const t = ws.triggers.get(triggerId);
  if (t) t.issuedAt = ws.now() - ws.triggerTtlMs - 1;
}

/** Applies what an app answered to a view_submission, as Slack's client would. */
export function applyViewSubmissionResponse(ws: SlackWorkspace, viewId: string, answer: unknown): void {
  const stored = ws.views.get(viewId);
  if (!stored) return;
  // https://docs.slack.dev/surfaces/modals : response_action update | push | errors | clear; no body closes.
  const action = isObj(answer) ? answer.response_action : undefined;
  if (action === 'errors' && isObj(answer) && isObj(answer.errors)) {
    stored.errors = Object.fromEntries(Object.entries(answer.errors).map(([k, v]) => [k, String(v)]));
    return;
  }
  if (action === 'update' && isObj(answer) && isObj(answer.view)) {
    replaceView(ws, stored, answer.view);
    return;
  }
  if (action === 'push' && isObj(answer) && isObj(answer.view)) {
    createView(ws, answer.view, stored.userId, 'views.push', stored.id);
    return;
  }
  stored.errors = undefined;
  if (action === 'clear') {
    // `clear` closes the whole stack; no answer closes the submitted view.
    const root = str(stored.view.root_view_id) || stored.id;
    for (const v of ws.views.values()) if ((str(v.view.root_view_id) || v.id) === root) v.closed = true;
  }
  stored.closed = true;
}

/** Records a selection in a view's state, as the Slack client does when a user picks an option. */
export function setViewState(ws: SlackWorkspace, viewId: string, blockId: string, actionId: string, value: Obj): void {
  const stored = ws.views.get(viewId);
  if (!stored) throw new Error(`slack emulator: no view ${viewId}`);
  const state = viewState(stored.view);
  state[blockId] = { ...(isObj(state[blockId]) ? state[blockId] : {}), [actionId]: value };
}

function viewsOpen(ws: SlackWorkspace, a: Args, via: 'views.open' | 'views.push'): MethodResult {
  const triggerId = str(a.trigger_id ?? a.interactivity_pointer);
  if (!triggerId) return fail('invalid_arguments', { response_metadata: { messages: ['[ERROR] missing required field: trigger_id'] } });
  const trigger = ws.triggers.get(triggerId);
  if (!trigger) return fail('invalid_trigger_id');
  if (trigger.used) return fail('exchanged_trigger_id');
  if (ws.now() - trigger.issuedAt > ws.triggerTtlMs) return fail('expired_trigger_id');
  const parsed = parseJsonArg(a.view);
  const checked = checkViewArg(ws, parsed, 'modal');
  if (checked) return checked;
  const view = parsed as Obj;
  if (typeof view.external_id === 'string' && view.external_id && viewByExternalId(ws, view.external_id)) return fail('duplicate_external_id');
  let previous: string | undefined;
  if (via === 'views.push') {
    // Pushing needs a modal open for the user (error code unverified; not_found is this emulator's).
    const open = ws.lastViewFor(trigger.userId ?? '');
    if (!open || open.closed) return fail('not_found');
    previous = open.id;
  }
  // The trigger is spent only by a successful exchange, so an app may fix its view and retry.
  trigger.used = true;
  const stored = createView(ws, view, trigger.userId, via, previous);
  return ok({ view: stored.view });
}

function viewsUpdate(ws: SlackWorkspace, a: Args): MethodResult {
  const viewId = a.view_id === undefined ? '' : str(a.view_id);
  const externalId = a.external_id === undefined ? '' : str(a.external_id);
  if (!viewId && !externalId) {
    return fail('invalid_arguments', { response_metadata: { messages: ['[ERROR] view_id or external_id is required'] } });
  }
  const stored = viewId ? ws.views.get(viewId) : viewByExternalId(ws, externalId);
  if (!stored || stored.closed) return fail('not_found');
  const hash = a.hash === undefined ? '' : str(a.hash);
  if (hash && hash !== stored.view.hash) return fail('hash_conflict');
  const parsed = parseJsonArg(a.view);
  const checked = checkViewArg(ws, parsed, stored.via === 'views.publish' ? 'home' : 'modal');
  if (checked) return checked;
  replaceView(ws, stored, parsed as Obj);
  return ok({ view: stored.view });
}

function viewsPublish(ws: SlackWorkspace, a: Args): MethodResult {
  const userId = str(a.user_id);
  // Error code for an unknown user_id is not documented; user_not_found is this emulator's choice.
  if (!ws.users.has(userId)) return fail('user_not_found');
  const parsed = parseJsonArg(a.view);
  const checked = checkViewArg(ws, parsed, 'home');
  if (checked) return checked;
  const existing = ws.homeFor(userId);
  const hash = a.hash === undefined ? '' : str(a.hash);
  if (existing && hash && hash !== existing.view.hash) return fail('hash_conflict');
  if (existing) {
    replaceView(ws, existing, parsed as Obj);
    return ok({ view: existing.view });
  }
  const stored = createView(ws, parsed as Obj, userId, 'views.publish', undefined);
  return ok({ view: stored.view });
}

function checkViewArg(ws: SlackWorkspace, parsed: unknown, kind: 'modal' | 'home'): MethodResult | undefined {
  if (parsed === INVALID_JSON || parsed === undefined) {
    return fail('invalid_arguments', { response_metadata: { messages: ['[ERROR] must provide an object [json-pointer:/view]'] } });
  }
  const problems: Problem[] = [];
  checkView(parsed, kind, ws.appName, problems);
  if (problems.length === 0) return undefined;
  // Views answer invalid_arguments, led by the schema-union note Slack prints for /view.
  return blockError('invalid_arguments', [{ message: 'failed to match all allowed schemas', pointer: '/view' }, ...problems]);
}

function createView(ws: SlackWorkspace, input: Obj, userId: string | undefined, via: StoredView['via'], previousViewId: string | undefined): StoredView {
  const id = `V0${String(ws.nextSeq()).padStart(9, '0')}`;
  const stored: StoredView = {
    id,
    userId,
    view: {},
    history: [],
    closed: false,
    errors: undefined,
    via,
    openedAt: ws.now(),
    updatedAt: ws.now(),
  };
  const root = previousViewId ? (ws.views.get(previousViewId)?.view.root_view_id as string | undefined) ?? previousViewId : id;
  stored.view = viewObject(ws, id, input, { values: {} }, previousViewId ?? null, root);
  ws.views.set(id, stored);
  return stored;
}

function replaceView(ws: SlackWorkspace, stored: StoredView, input: Obj): void {
  stored.history.push(stored.view);
  const blocks = normalizeBlocks(asArray(input.blocks), () => ws.genId());
  // Input kept across updates when block_id and action_id stay the same.
  // https://docs.slack.dev/reference/views/modal-views ("Preserving input entry")
  const kept: Obj = {};
  const old = viewState(stored.view);
  for (const { blockId, element } of interactiveElements(blocks)) {
    const actionId = str(element.action_id);
    const prev = old[blockId];
    if (isObj(prev) && prev[actionId] !== undefined) kept[blockId] = { ...(isObj(kept[blockId]) ? kept[blockId] : {}), [actionId]: prev[actionId] };
  }
  stored.view = viewObject(ws, stored.id, { ...input, blocks }, { values: kept }, (stored.view.previous_view_id as string | null) ?? null, str(stored.view.root_view_id) || stored.id);
  stored.updatedAt = ws.now();
  stored.errors = undefined;
}

function viewObject(ws: SlackWorkspace, id: string, input: Obj, state: Obj, previousViewId: string | null, rootViewId: string): Obj {
  const type = str(input.type);
  const out: Obj = {
    id,
    team_id: ws.teamId,
    type,
    blocks: normalizeBlocks(asArray(input.blocks), () => ws.genId()),
    private_metadata: typeof input.private_metadata === 'string' ? input.private_metadata : '',
    callback_id: typeof input.callback_id === 'string' ? input.callback_id : '',
    state,
    hash: `${Math.floor(ws.now() / 1000)}.${randomBytes(4).toString('hex')}`,
    clear_on_close: bool(input.clear_on_close),
    notify_on_close: bool(input.notify_on_close),
    close: input.close ?? null,
    submit: input.submit ?? null,
    previous_view_id: previousViewId,
    root_view_id: rootViewId,
    app_id: ws.appId,
    external_id: typeof input.external_id === 'string' ? input.external_id : '',
    app_installed_team_id: ws.teamId,
    bot_id: ws.botId,
  };
  if (type === 'modal') out.title = input.title;
  return out;
}

function viewByExternalId(ws: SlackWorkspace, externalId: string): StoredView | undefined {
  return [...ws.views.values()].find((v) => v.view.external_id === externalId && !v.closed);
}

/** The view's `state.values`, created if missing. */
function viewState(view: Obj): Obj {
  if (!isObj(view.state)) view.state = { values: {} };
  const state = view.state as Obj;
  if (!isObj(state.values)) state.values = {};
  return state.values as Obj;
}
