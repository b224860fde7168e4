/**
 * Block Kit as Slack checks it: the limits of blocks, elements, text and option objects, and of
 * view objects, each as Slack's Block Kit reference documents it (cited next to each limit), with
 * the error answers Slack gives (`invalid_blocks` for messages, `invalid_arguments` for views, with
 * `[ERROR] ... [json-pointer:...]` strings in `response_metadata.messages`). Also the ids Slack
 * gives blocks and elements the app left without one, and the element walk the driver uses too.
 */
import { asArray, isObj, str, type MethodResult, type Obj } from './wire.js';

export interface Problem {
  message: string;
  pointer: string;
}

export type Surface = 'message' | 'modal' | 'home';

// Blocks: up to 50 in a message, 100 in a modal or Home tab.
// https://docs.slack.dev/reference/block-kit/blocks
const MAX_BLOCKS: Record<Surface, number> = { message: 50, modal: 100, home: 100 };

const KNOWN_BLOCKS = new Set([
  'actions', 'context', 'context_actions', 'divider', 'file', 'header', 'image', 'input', 'markdown',
  'rich_text', 'section', 'video', 'table', 'card', 'carousel', 'alert', 'container',
]);

// Error strings follow Slack's recorded answers, e.g.
//   invalid_blocks + "[ERROR] must be less than 3001 characters [json-pointer:/blocks/0/text/text]"
//   invalid_blocks + "[ERROR] no more than 50 items allowed [json-pointer:/blocks]"
//   invalid_arguments + "[ERROR] failed to match all allowed schemas [json-pointer:/view]",
//                       "[ERROR] must be less than 25 characters [json-pointer:/view/title/text]"
// Wording for duplicates and required fields is this emulator's (not verified).
function tooLong(max: number): string {
  return `must be less than ${max + 1} characters`;
}

function tooMany(max: number): string {
  return `no more than ${max} items allowed`;
}

function length(s: string): number {
  return [...s].length;
}

function checkString(v: unknown, ptr: string, max: number, out: Problem[], required = false): void {
  if (v === undefined || v === null) {
    if (required) out.push({ message: 'missing required field', pointer: ptr });
    return;
  }
  if (typeof v !== 'string') out.push({ message: 'must provide a string', pointer: ptr });
  else if (length(v) > max) out.push({ message: tooLong(max), pointer: ptr });
}

/** A text object: `{ type: plain_text | mrkdwn, text }`. */
function checkText(v: unknown, ptr: string, max: number, out: Problem[], opts: { plainOnly?: boolean; required?: boolean } = {}): void {
  if (v === undefined || v === null) {
    if (opts.required ?? true) out.push({ message: 'missing required field', pointer: ptr });
    return;
  }
  if (!isObj(v)) {
    out.push({ message: 'must provide an object', pointer: ptr });
    return;
  }
  if (v.type !== 'plain_text' && (opts.plainOnly || v.type !== 'mrkdwn')) {
    out.push({ message: `must be one of the following: ${opts.plainOnly ? 'plain_text' : 'plain_text, mrkdwn'}`, pointer: `${ptr}/type` });
  }
  if (typeof v.text !== 'string') out.push({ message: 'must provide a string', pointer: `${ptr}/text` });
  else if (length(v.text) === 0) out.push({ message: 'must be more than 0 characters', pointer: `${ptr}/text` });
  else if (length(v.text) > max) out.push({ message: tooLong(max), pointer: `${ptr}/text` });
}

// Option object: text 75, value 150, description 75.
// https://docs.slack.dev/reference/block-kit/composition-objects/option-object
function checkOption(v: unknown, ptr: string, out: Problem[]): void {
  if (!isObj(v)) {
    out.push({ message: 'must provide an object', pointer: ptr });
    return;
  }
  checkText(v.text, `${ptr}/text`, 75, out);
  checkString(v.value, `${ptr}/value`, 150, out, true);
  if (v.description !== undefined) checkText(v.description, `${ptr}/description`, 75, out);
}

function checkOptions(v: unknown, ptr: string, max: number, out: Problem[]): void {
  if (!Array.isArray(v)) {
    out.push({ message: 'must provide an array', pointer: ptr });
    return;
  }
  if (v.length > max) out.push({ message: tooMany(max), pointer: ptr });
  v.forEach((o, i) => checkOption(o, `${ptr}/${i}`, out));
}

function checkElement(el: unknown, ptr: string, out: Problem[], actionIds: Set<string>): void {
  if (!isObj(el)) {
    out.push({ message: 'must provide an object', pointer: ptr });
    return;
  }
  // action_id: 255 max; unique within its block (Slack refuses duplicates in one actions block).
  // https://docs.slack.dev/reference/block-kit/block-elements/button-element
  if (el.action_id !== undefined) {
    checkString(el.action_id, `${ptr}/action_id`, 255, out);
    if (typeof el.action_id === 'string') {
      if (actionIds.has(el.action_id)) out.push({ message: `duplicate action_id: ${el.action_id}`, pointer: `${ptr}/action_id` });
      actionIds.add(el.action_id);
    }
  }
  if (el.placeholder !== undefined) checkText(el.placeholder, `${ptr}/placeholder`, 150, out, { plainOnly: true });
  switch (el.type) {
    case 'button':
      // Button: text 75 (plain_text), value 2000, url 3000, accessibility_label 75.
      // https://docs.slack.dev/reference/block-kit/block-elements/button-element
      checkText(el.text, `${ptr}/text`, 75, out, { plainOnly: true });
      checkString(el.value, `${ptr}/value`, 2000, out);
      checkString(el.url, `${ptr}/url`, 3000, out);
      checkString(el.accessibility_label, `${ptr}/accessibility_label`, 75, out);
      if (el.style !== undefined && el.style !== 'primary' && el.style !== 'danger') {
        out.push({ message: 'must be one of the following: primary, danger', pointer: `${ptr}/style` });
      }
      break;
    case 'static_select':
    case 'multi_static_select':
      // Static select: up to 100 options or option groups.
      // https://docs.slack.dev/reference/block-kit/block-elements/select-menu-element#static_select
      if (el.options !== undefined) checkOptions(el.options, `${ptr}/options`, 100, out);
      else if (Array.isArray(el.option_groups)) {
        if (el.option_groups.length > 100) out.push({ message: tooMany(100), pointer: `${ptr}/option_groups` });
        el.option_groups.forEach((g, i) => {
          const gp = `${ptr}/option_groups/${i}`;
          if (!isObj(g)) return out.push({ message: 'must provide an object', pointer: gp });
          checkText(g.label, `${gp}/label`, 75, out, { plainOnly: true });
          checkOptions(g.options, `${gp}/options`, 100, out);
        });
      } else out.push({ message: 'must provide either options or option_groups', pointer: ptr });
      if (el.initial_option !== undefined) checkOption(el.initial_option, `${ptr}/initial_option`, out);
      break;
    case 'external_select':
    case 'multi_external_select':
      if (el.initial_option !== undefined) checkOption(el.initial_option, `${ptr}/initial_option`, out);
      break;
    case 'users_select':
      // A user picker: `initial_user` is a user id. https://docs.slack.dev/reference/block-kit/block-elements/select-menu-element#users_select
      checkString(el.initial_user, `${ptr}/initial_user`, 255, out);
      break;
    case 'multi_users_select':
      if (el.initial_users !== undefined && !(Array.isArray(el.initial_users) && el.initial_users.every((u) => typeof u === 'string'))) {
        out.push({ message: 'must provide an array of strings', pointer: `${ptr}/initial_users` });
      }
      break;
    case 'overflow':
      // Overflow menu: 2 to 5 options. https://docs.slack.dev/reference/block-kit/block-elements/overflow-menu-element
      checkOptions(el.options, `${ptr}/options`, 5, out);
      break;
    case 'checkboxes':
    case 'radio_buttons':
      // https://docs.slack.dev/reference/block-kit/block-elements/checkboxes-element (10 options)
      checkOptions(el.options, `${ptr}/options`, 10, out);
      break;
    case 'plain_text_input':
      // min_length 0..3000, max_length 1..3000.
      // https://docs.slack.dev/reference/block-kit/block-elements/plain-text-input-element
      if (el.max_length !== undefined && !(Number.isInteger(el.max_length) && (el.max_length as number) >= 1 && (el.max_length as number) <= 3000)) {
        out.push({ message: 'must be between 1 and 3000', pointer: `${ptr}/max_length` });
      }
      if (el.min_length !== undefined && !(Number.isInteger(el.min_length) && (el.min_length as number) >= 0 && (el.min_length as number) <= 3000)) {
        out.push({ message: 'must be between 0 and 3000', pointer: `${ptr}/min_length` });
      }
      break;
    default:
      if (typeof el.type !== 'string') out.push({ message: 'missing required field: type', pointer: ptr });
  }
}

export function checkBlocks(blocks: unknown, ptr: string, surface: Surface, out: Problem[]): void {
  if (!Array.isArray(blocks)) {
    out.push({ message: 'must provide an array', pointer: ptr });
    return;
  }
  const max = MAX_BLOCKS[surface];
  if (blocks.length > max) out.push({ message: tooMany(max), pointer: ptr });
  const blockIds = new Set<string>();
  blocks.forEach((b, i) => {
    const bp = `${ptr}/${i}`;
    if (!isObj(b)) return out.push({ message: 'must provide an object', pointer: bp });
    if (typeof b.type !== 'string' || !KNOWN_BLOCKS.has(b.type)) {
      return out.push({ message: `unsupported type: ${String(b.type)}`, pointer: `${bp}/type` });
    }
    // block_id: 255 max, unique per message or view. https://docs.slack.dev/reference/block-kit/blocks
    if (b.block_id !== undefined) {
      checkString(b.block_id, `${bp}/block_id`, 255, out);
      if (typeof b.block_id === 'string') {
        if (blockIds.has(b.block_id)) out.push({ message: `duplicate block_id: ${b.block_id}`, pointer: `${bp}/block_id` });
        blockIds.add(b.block_id);
      }
    }
    const actionIds = new Set<string>();
    switch (b.type) {
      case 'section':
        // Section: text 3000; up to 10 fields of 2000 each; text or fields required.
        // https://docs.slack.dev/reference/block-kit/blocks/section-block
        if (b.text === undefined && b.fields === undefined) out.push({ message: 'must provide either text or fields', pointer: bp });
        if (b.text !== undefined) checkText(b.text, `${bp}/text`, 3000, out);
        if (b.fields !== undefined) {
          if (!Array.isArray(b.fields)) out.push({ message: 'must provide an array', pointer: `${bp}/fields` });
          else {
            if (b.fields.length > 10) out.push({ message: tooMany(10), pointer: `${bp}/fields` });
            b.fields.forEach((f, j) => checkText(f, `${bp}/fields/${j}`, 2000, out));
          }
        }
        if (b.accessory !== undefined) checkElement(b.accessory, `${bp}/accessory`, out, actionIds);
        break;
      case 'header':
        // Header: plain_text, 150. https://docs.slack.dev/reference/block-kit/blocks/header-block
        checkText(b.text, `${bp}/text`, 150, out, { plainOnly: true });
        break;
      case 'actions':
        // Actions: up to 25 elements. https://docs.slack.dev/reference/block-kit/blocks/actions-block
        if (!Array.isArray(b.elements)) out.push({ message: 'must provide an array', pointer: `${bp}/elements` });
        else {
          if (b.elements.length > 25) out.push({ message: tooMany(25), pointer: `${bp}/elements` });
          b.elements.forEach((e, j) => checkElement(e, `${bp}/elements/${j}`, out, actionIds));
        }
        break;
      case 'context':
        // Context: up to 10 elements. https://docs.slack.dev/reference/block-kit/blocks/context-block
        if (!Array.isArray(b.elements)) out.push({ message: 'must provide an array', pointer: `${bp}/elements` });
        else if (b.elements.length > 10) out.push({ message: tooMany(10), pointer: `${bp}/elements` });
        break;
      case 'input':
        // Input: label 2000 (plain_text), hint 2000, one element.
        // https://docs.slack.dev/reference/block-kit/blocks/input-block
        checkText(b.label, `${bp}/label`, 2000, out, { plainOnly: true });
        if (b.hint !== undefined) checkText(b.hint, `${bp}/hint`, 2000, out, { plainOnly: true });
        if (b.element === undefined) out.push({ message: 'missing required field: element', pointer: bp });
        else checkElement(b.element, `${bp}/element`, out, actionIds);
        if (b.optional !== undefined && typeof b.optional !== 'boolean') out.push({ message: 'must provide a boolean', pointer: `${bp}/optional` });
        if (b.dispatch_action !== undefined && typeof b.dispatch_action !== 'boolean') out.push({ message: 'must provide a boolean', pointer: `${bp}/dispatch_action` });
        break;
      case 'markdown':
        // Markdown block: 12,000 characters cumulative. https://docs.slack.dev/reference/block-kit/blocks/markdown-block
        checkString(b.text, `${bp}/text`, 12000, out, true);
        break;
      case 'image':
        // https://docs.slack.dev/reference/block-kit/blocks/image-block : alt_text 2000, image_url 3000.
        checkString(b.alt_text, `${bp}/alt_text`, 2000, out, true);
        checkString(b.image_url, `${bp}/image_url`, 3000, out);
        break;
      default:
        break;
    }
  });
}

// View object: modal title/submit/close 24; blocks 100; private_metadata 3000; callback_id 255;
// external_id 255; `submit` required with an input block.
// https://docs.slack.dev/reference/views/modal-views , https://docs.slack.dev/reference/views/home-tab-views
export function checkView(view: unknown, kind: 'modal' | 'home', appName: string, out: Problem[]): void {
  if (!isObj(view)) {
    out.push({ message: 'must provide an object', pointer: '/view' });
    return;
  }
  if (view.type !== kind) out.push({ message: `must be one of the following: ${kind}`, pointer: '/view/type' });
  if (kind === 'modal') {
    checkText(view.title, '/view/title', 24, out, { plainOnly: true });
    if (view.submit !== undefined) checkText(view.submit, '/view/submit', 24, out, { plainOnly: true });
    if (view.close !== undefined) checkText(view.close, '/view/close', 24, out, { plainOnly: true });
  }
  checkBlocks(view.blocks, '/view/blocks', kind, out);
  checkString(view.private_metadata, '/view/private_metadata', 3000, out);
  checkString(view.callback_id, '/view/callback_id', 255, out);
  checkString(view.external_id, '/view/external_id', 255, out);
  if (kind === 'modal' && view.submit === undefined && Array.isArray(view.blocks)) {
    const i = view.blocks.findIndex((b) => isObj(b) && b.type === 'input');
    // Recorded wording: "<app> must define `submit` to use an `input` block in modals [json-pointer:/view/blocks/2/input]".
    if (i >= 0) out.push({ message: `${appName} must define \`submit\` to use an \`input\` block in modals`, pointer: `/view/blocks/${i}/input` });
  }
}

export function blockErrorBody(error: string, problems: Problem[]): Obj {
  const raw = problems.map((p) => `${p.message} [json-pointer:${p.pointer}]`);
  // invalid_blocks answers carry `errors` too; views carry only response_metadata.
  return {
    ok: false,
    error,
    ...(error === 'invalid_blocks' ? { errors: raw } : {}),
    response_metadata: { messages: raw.map((r) => `[ERROR] ${r}`) },
  };
}

export function blockError(error: string, problems: Problem[]): MethodResult {
  return { status: 200, body: blockErrorBody(error, problems) };
}

// -----------------------------------------------------------------------------------------------
// Block helpers the driver uses too

export interface InteractiveElement {
  blockId: string;
  blockType: string;
  element: Obj;
}

/** Every element with an action_id, in order: actions elements, section accessories, input elements. */
export function interactiveElements(blocks: unknown): InteractiveElement[] {
  const out: InteractiveElement[] = [];
  for (const b of asArray(blocks)) {
    if (!isObj(b)) continue;
    const blockId = str(b.block_id);
    const blockType = str(b.type);
    const candidates = b.type === 'actions' ? asArray(b.elements) : b.type === 'section' ? [b.accessory] : b.type === 'input' ? [b.element] : [];
    for (const el of candidates) if (isObj(el)) out.push({ blockId, blockType, element: el });
  }
  return out;
}

/** Gives blocks and elements the ids Slack would generate when the app left them out. */
export function normalizeBlocks(blocks: unknown, gen: () => string): Obj[] {
  const copy = JSON.parse(JSON.stringify(asArray(blocks))) as unknown[];
  const result: Obj[] = [];
  for (const b of copy) {
    if (!isObj(b)) continue;
    if (typeof b.block_id !== 'string' || b.block_id === '') b.block_id = gen();
    for (const { element } of interactiveElements([b])) {
      if (typeof element.action_id !== 'string' || element.action_id === '') element.action_id = gen();
    }
    result.push(b);
  }
  return result;
}
