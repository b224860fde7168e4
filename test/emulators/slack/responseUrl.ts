/**
 * Response URLs: the `${url}/actions/<id>` an interaction payload carries, how many times and how
 * long one may be used, and what a post to it does (replace or delete the original message, post
 * in the channel, or answer ephemerally).
 */
import { randomBytes } from 'node:crypto';
import type { EmuRequest, EmuResponse } from '../base.js';
import { blockErrorBody, checkBlocks, normalizeBlocks, type Problem } from './blockKit.js';
import { MESSAGE_TEXT_MAX } from './chat.js';
import type { SlackWorkspace } from './workspace.js';
import { bool, isObj, parseJsonArg, safeJson, type Obj } from './wire.js';

export interface ResponseUrlContext {
  channel: string;
  user: string;
  /** The message whose button was clicked; unset for slash commands. */
  messageTs?: string;
}

export interface ResponseUrlPost {
  id: string;
  url: string;
  body: Obj;
  at: number;
  status: number;
  context: ResponseUrlContext;
}

export interface HookState {
  context: ResponseUrlContext;
  issuedAt: number;
  uses: number;
}

// response_url: up to five uses within 30 minutes.
// https://docs.slack.dev/interactivity/handling-user-interaction
const RESPONSE_URL_USES = 5;
const RESPONSE_URL_TTL_MS = 30 * 60 * 1000;

/** A response URL for an interaction: `${url}/actions/<id>`. */
export function issueResponseUrl(ws: SlackWorkspace, context: ResponseUrlContext): string {
  const id = `${ws.teamId}/${ws.nextSeq()}/${randomBytes(12).toString('hex')}`.replace(/\//g, '-');
  ws.hooks.set(id, { context: { ...context }, issuedAt: ws.now(), uses: 0 });
  return `${ws.url}/actions/${id}`;
}

/** Answers a post to a response URL and applies it to the conversation. */
export function answerResponseUrl(ws: SlackWorkspace, req: EmuRequest): EmuResponse {
  const id = req.params.id ?? '';
  const hook = ws.hooks.get(id);
  let body: Obj = {};
  if (isObj(req.body)) {
    // Also accept `payload=<json>` form posts, as incoming webhooks do.
    const payload = req.body.payload;
    body = typeof payload === 'string' ? (safeJson(payload) as Obj | undefined) ?? {} : req.body;
  }
  const record = (status: number): ResponseUrlPost => {
    const post: ResponseUrlPost = {
      id,
      url: `${ws.url}/actions/${id}`,
      body,
      at: ws.now(),
      status,
      context: hook?.context ?? { channel: '', user: '' },
    };
    ws.responseUrlPosts.push(post);
    return post;
  };
  // Use limits are documented; the refusal's exact body is not (unverified).
  if (!hook || hook.uses >= RESPONSE_URL_USES || ws.now() - hook.issuedAt > RESPONSE_URL_TTL_MS) {
    record(404);
    return { status: 404, body: { ok: false, error: 'expired_url' } };
  }
  let blocks: Obj[] | undefined;
  if (body.blocks !== undefined) {
    const problems: Problem[] = [];
    const parsed = parseJsonArg(body.blocks);
    checkBlocks(parsed, '/blocks', 'message', problems);
    if (problems.length) {
      record(400);
      return { status: 400, body: blockErrorBody('invalid_blocks', problems) };
    }
    blocks = parsed as Obj[];
  }
  hook.uses += 1;
  record(200);
  const text = typeof body.text === 'string' ? [...body.text].slice(0, MESSAGE_TEXT_MAX).join('') : '';
  const ctx = hook.context;
  const original = ctx.messageTs ? ws.findMessage(ctx.channel, ctx.messageTs) : undefined;
  // https://docs.slack.dev/interactivity/handling-user-interaction#message_responses
  if (bool(body.delete_original)) {
    if (original) original.deleted = true;
  } else if (bool(body.replace_original) && original) {
    ws.revise(original, { text: body.text === undefined ? original.text : text, blocks: blocks === undefined ? original.blocks : normalizeBlocks(blocks, () => ws.genId()), via: 'response_url' });
  } else if (body.response_type === 'in_channel') {
    ws.messages.push({
      channel: ctx.channel,
      ts: ws.nextTs(),
      text,
      blocks: normalizeBlocks(blocks ?? [], () => ws.genId()),
      at: ws.now(),
      via: 'response_url',
      user: ws.botUserId,
      botId: ws.botId,
      threadTs: undefined,
      deleted: false,
      history: [],
    });
  } else {
    ws.ephemerals.push({
      channel: ctx.channel,
      user: ctx.user,
      ts: ws.nextTs(),
      text,
      blocks: normalizeBlocks(blocks ?? [], () => ws.genId()),
      at: ws.now(),
      via: 'response_url',
      ephemeral: true,
    });
  }
  return { status: 200, body: { ok: true } };
}

