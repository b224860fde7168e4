/**
 * Messages: conversations.open (the DM a message goes to) and chat.postMessage, chat.update,
 * chat.delete and chat.postEphemeral, with their channel rules, Block Kit validation and the
 * truncation of over-long text.
 */
import { blockError, checkBlocks, normalizeBlocks, type Problem } from './blockKit.js';
import type { SlackWorkspace, StoredChannel, StoredMessage } from './workspace.js';
import { bool, fail, INVALID_JSON, ok, parseJsonArg, str, type Args, type MethodResult, type Obj, type SlackMethods } from './wire.js';

// Message text over 40,000 characters is truncated (not refused) with a `message_truncated` warning.
// https://api.slack.com/changelog/2018-04-truncating-really-long-messages
export const MESSAGE_TEXT_MAX = 40000;
const TRUNCATED_NOTE = '[WARN] Your message was truncated but still posted. The `text` field accepts up to 40,000 characters.';

export function chatMethods(ws: SlackWorkspace): SlackMethods {
  return {
    'conversations.open': (a) => conversationsOpen(ws, a),
    'chat.postMessage': (a) => chatPostMessage(ws, a),
    'chat.update': (a) => chatUpdate(ws, a),
    'chat.delete': (a) => chatDelete(ws, a),
    'chat.postEphemeral': (a) => chatPostEphemeral(ws, a),
  };
}

function conversationsOpen(ws: SlackWorkspace, a: Args): MethodResult {
  if (a.channel !== undefined) {
    const ch = ws.channels.get(str(a.channel));
    return ch ? ok({ channel: { id: ch.id } }) : fail('channel_not_found');
  }
  const ids = str(a.users).split(',').map((s) => s.trim()).filter(Boolean);
  if (ids.length === 0) return fail('users_list_not_supplied');
  // Group DMs are outside what access-bot uses; answered as not implemented on purpose.
  if (ids.length > 1) return fail('not_implemented');
  const user = ws.users.get(ids[0] ?? '');
  if (!user) return fail('user_not_found');
  if (user.deleted) return fail('user_disabled');
  const id = ws.imChannelFor(user.id);
  const already = ws.openedIms.has(id);
  ws.openedIms.add(id);
  const channel: Obj = { id };
  if (bool(a.return_im)) Object.assign(channel, { is_im: true, user: user.id, created: Math.floor(ws.now() / 1000) });
  return ok(already ? { no_op: true, already_open: true, channel } : { channel });
}

/** Resolves `channel` as chat.postMessage does: C/G/D id, user id (opens the DM), `#name` or name. */
function resolveChannel(ws: SlackWorkspace, raw: string, allowUserId: boolean): StoredChannel | undefined {
  if (!raw) return undefined;
  if (/^[UW][A-Z0-9_]+$/i.test(raw) && ws.users.has(raw) && allowUserId) {
    const u = ws.users.get(raw);
    if (!u || u.deleted) return undefined;
    return ws.channels.get(ws.imChannelFor(raw));
  }
  const byId = ws.channels.get(raw);
  if (byId) return byId;
  const name = raw.replace(/^#/, '');
  return [...ws.channels.values()].find((c) => !c.isIm && c.name === name);
}

function messageContent(ws: SlackWorkspace, a: Args): { text: string; blocks: Obj[] | undefined; truncated: boolean } | MethodResult {
  const blocksArg = a.blocks;
  let blocks: Obj[] | undefined;
  if (blocksArg !== undefined && blocksArg !== '') {
    const parsed = parseJsonArg(blocksArg);
    if (parsed === INVALID_JSON) return fail('invalid_blocks_format');
    const problems: Problem[] = [];
    checkBlocks(parsed, '/blocks', 'message', problems);
    if (problems.length) return blockError('invalid_blocks', problems);
    blocks = parsed as Obj[];
  }
  const rawText = a.text === undefined ? '' : str(a.text);
  const chars = [...rawText];
  const truncated = chars.length > MESSAGE_TEXT_MAX;
  return { text: truncated ? chars.slice(0, MESSAGE_TEXT_MAX).join('') : rawText, blocks, truncated };
}

function chatPostMessage(ws: SlackWorkspace, a: Args): MethodResult {
  const channel = resolveChannel(ws, str(a.channel), true);
  if (!channel) return fail('channel_not_found');
  if (!channel.isIm && !channel.botIsMember && !ws.scopes.includes('chat:write.public')) return fail('not_in_channel');
  const content = messageContent(ws, a);
  if (!isContent(content)) return content;
  if (!content.text && (!content.blocks || content.blocks.length === 0) && a.attachments === undefined) return fail('no_text');
  const msg: StoredMessage = {
    channel: channel.id,
    ts: ws.nextTs(),
    text: content.text,
    blocks: normalizeBlocks(content.blocks ?? [], () => ws.genId()),
    at: ws.now(),
    via: 'chat.postMessage',
    user: ws.botUserId,
    botId: ws.botId,
    threadTs: a.thread_ts === undefined ? undefined : str(a.thread_ts),
    deleted: false,
    history: [],
  };
  ws.messages.push(msg);
  return ok({ channel: channel.id, ts: msg.ts, message: messageObject(ws, msg), ...truncationWarning(content.truncated) });
}

function chatUpdate(ws: SlackWorkspace, a: Args): MethodResult {
  // chat.update takes the channel id the message is in; a user id does not name it.
  const channel = ws.channels.get(str(a.channel)) ?? resolveChannel(ws, str(a.channel), false);
  if (!channel) return fail('channel_not_found');
  const msg = ws.messages.find((m) => m.channel === channel.id && m.ts === str(a.ts) && !m.deleted);
  if (!msg) return fail('message_not_found');
  if (msg.user !== ws.botUserId) return fail('cant_update_message');
  const content = messageContent(ws, a);
  if (!isContent(content)) return content;
  // Omitted blocks are kept; an empty array removes them.
  // https://docs.slack.dev/reference/methods/chat.update (blocks argument)
  const blocks = content.blocks === undefined ? msg.blocks : normalizeBlocks(content.blocks, () => ws.genId());
  const text = a.text === undefined ? msg.text : content.text;
  if (!text && blocks.length === 0) return fail('no_text');
  ws.revise(msg, { text, blocks, via: 'chat.update' });
  return ok({ channel: channel.id, ts: msg.ts, text: msg.text, message: messageObject(ws, msg), ...truncationWarning(content.truncated) });
}

function chatDelete(ws: SlackWorkspace, a: Args): MethodResult {
  const channel = ws.channels.get(str(a.channel));
  if (!channel) return fail('channel_not_found');
  const msg = ws.messages.find((m) => m.channel === channel.id && m.ts === str(a.ts) && !m.deleted);
  if (!msg) return fail('message_not_found');
  if (msg.user !== ws.botUserId) return fail('cant_delete_message');
  msg.deleted = true;
  return ok({ channel: channel.id, ts: msg.ts });
}

function chatPostEphemeral(ws: SlackWorkspace, a: Args): MethodResult {
  const channel = resolveChannel(ws, str(a.channel), false);
  if (!channel) return fail('channel_not_found');
  const userId = str(a.user);
  const user = ws.users.get(userId);
  const inChannel = channel.isIm ? channel.imUser === userId : !channel.members || channel.members.has(userId);
  if (!user || user.deleted || !inChannel) return fail('user_not_in_channel');
  const content = messageContent(ws, a);
  if (!isContent(content)) return content;
  if (!content.text && (!content.blocks || content.blocks.length === 0) && a.attachments === undefined) return fail('no_text');
  const ts = ws.nextTs();
  ws.ephemerals.push({
    channel: channel.id,
    user: userId,
    ts,
    text: content.text,
    blocks: normalizeBlocks(content.blocks ?? [], () => ws.genId()),
    at: ws.now(),
    via: 'chat.postEphemeral',
    ephemeral: true,
  });
  return ok({ message_ts: ts, ...truncationWarning(content.truncated) });
}

function messageObject(ws: SlackWorkspace, m: StoredMessage): Obj {
  return {
    type: 'message',
    subtype: m.botId ? 'bot_message' : undefined,
    text: m.text,
    user: m.user,
    bot_id: m.botId,
    app_id: m.botId ? ws.appId : undefined,
    ts: m.ts,
    team: ws.teamId,
    blocks: m.blocks,
    ...(m.threadTs ? { thread_ts: m.threadTs } : {}),
  };
}

function truncationWarning(truncated: boolean): Obj {
  return truncated ? { warning: 'message_truncated', response_metadata: { warnings: ['message_truncated'], messages: [TRUNCATED_NOTE] } } : {};
}

function isContent(v: { text: string; blocks: Obj[] | undefined; truncated: boolean } | MethodResult): v is { text: string; blocks: Obj[] | undefined; truncated: boolean } {
  return 'truncated' in v;
}
