/* global document, window, fetch, setTimeout, clearTimeout, URL, URLSearchParams, CSS */
// The sandbox page: renders what the Slack emulator recorded for the chosen person, sends their
// clicks to the sandbox server (which signs them as Slack would), and shows Jira and the identity providers beside it.
// Plain DOM, no framework: a small renderer for the Block Kit the bot uses.

const POLL_MS = 500;
const EMOJI = { white_check_mark: '✓', x: '✗', warning: '⚠️', rotating_light: '🚨', lock: '🔒', hourglass: '⏳', wave: '👋' };
const STATUS_CLASS = { 'To Do': '', Approved: 'indeterminate', Active: 'indeterminate', Done: 'done', Rejected: 'bad', Cancelled: 'bad', Failed: 'bad' };

const ui = {
  user: new URLSearchParams(window.location.search).get('as') || 'U0ALICE',
  data: null,
  /** What each surface was last rendered from, so a poll that changed nothing touches nothing. */
  rendered: {},
  /** Text typed into modal inputs, by view/block/action: Slack keeps it client-side until submit. */
  typed: {},
  seenComments: {},
  seenMembers: {},
  timer: undefined,
  tab: 'messages',
  /** What Slack's own client refused on the last submit: { viewId, text }. */
  refusal: null,
  /** A slash command's immediate answer comes back in the HTTP response, not through the API. */
  localEphemerals: {},
  /** Actions go out one at a time, in order, as Slack's client sends them. */
  queue: Promise.resolve(),
};

// ---------------------------------------------------------------------------------------------
// Small DOM helpers

function el(tag, attrs = {}, ...kids) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const kid of kids.flat()) if (kid !== undefined && kid !== null && kid !== false) node.append(kid instanceof window.Node ? kid : String(kid));
  return node;
}

function time(ms) {
  return new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

function toast(text) {
  const t = document.getElementById('toast');
  t.textContent = text;
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (t.hidden = true), 4000);
}

/** Slack's entities back to characters; the renderer builds text nodes, so nothing is parsed as HTML. */
function unescape(s) {
  return s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

const INLINE = /<([^<>]+)>|\*([^*\n]+)\*|_([^_\n]+)_|~([^~\n]+)~|`([^`\n]+)`|:([a-z0-9_+-]+):/g;

/** Slack mrkdwn (bold, italic, strike, code, links, mentions, emoji) as DOM nodes. */
function mrkdwn(text) {
  const out = [];
  let last = 0;
  for (const m of text.matchAll(INLINE)) {
    if (m.index > last) out.push(unescape(text.slice(last, m.index)));
    if (m[1] !== undefined) out.push(special(m[1]));
    else if (m[2] !== undefined) out.push(el('b', {}, mrkdwn(m[2])));
    else if (m[3] !== undefined) out.push(el('i', {}, mrkdwn(m[3])));
    else if (m[4] !== undefined) out.push(el('s', {}, mrkdwn(m[4])));
    else if (m[5] !== undefined) out.push(el('code', {}, unescape(m[5])));
    else out.push(EMOJI[m[6]] ?? m[0]);
    last = m.index + m[0].length;
  }
  if (last < text.length) out.push(unescape(text.slice(last)));
  return out;
}

/** `<@U123>`, `<#C123|name>`, `<!here>`, `<https://x|label>`. */
function special(inner) {
  const [target, label] = inner.split('|');
  if (target.startsWith('@')) return el('b', {}, `@${personName(target.slice(1)) ?? target.slice(1)}`);
  if (target.startsWith('#')) return el('b', {}, `#${label ?? target.slice(1)}`);
  if (target.startsWith('!')) return el('b', {}, `@${target.slice(1)}`);
  if (/^https?:\/\//.test(target)) return el('a', { href: target, target: '_blank', rel: 'noopener noreferrer' }, unescape(label ?? target));
  return unescape(label ?? target);
}

function personName(slackId) {
  return ui.data?.people.find((p) => p.slackId === slackId)?.name;
}

function textObj(t) {
  if (!t) return [];
  return t.type === 'mrkdwn' ? el('span', { class: 'mrkdwn' }, mrkdwn(t.text ?? '')) : el('span', {}, t.text ?? '');
}

// ---------------------------------------------------------------------------------------------
// Talking to the sandbox server

function post(action, body) {
  const next = ui.queue.then(() => send(action, body));
  ui.queue = next.catch(() => undefined);
  return next;
}

async function send(action, body) {
  const res = await fetch(`/api/${action}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user: ui.user, ...body }),
  });
  const answer = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(answer.error || `HTTP ${res.status}`);
  return answer;
}

/** Runs an action, reports a failure, and refreshes at once instead of waiting for the next poll. */
async function act(action, body) {
  try {
    return await post(action, body);
  } catch (err) {
    toast(err.message);
    return undefined;
  } finally {
    void refresh();
  }
}

async function refresh() {
  clearTimeout(ui.timer);
  try {
    const res = await fetch(`/api/state?user=${encodeURIComponent(ui.user)}`, { cache: 'no-store' });
    if (res.ok) render(await res.json());
  } catch {
    // The server is gone (Ctrl-C); keep trying quietly.
  }
  ui.timer = setTimeout(refresh, POLL_MS);
}

// ---------------------------------------------------------------------------------------------
// Rendering

function changed(key, value) {
  const json = JSON.stringify(value);
  if (ui.rendered[key] === json) return false;
  ui.rendered[key] = json;
  return true;
}

function render(data) {
  ui.data = data;
  if (changed('people', [data.people, ui.user])) renderPeople(data.people);
  const conversation = [...data.conversation, ...(ui.localEphemerals[ui.user] ?? [])].sort((a, b) => a.at - b.at);
  // Messages is the DM with the bot; Home is the App Home the bot published for this person.
  const tab = ui.tab;
  document.getElementById('tabs').hidden = !data.me;
  for (const b of document.querySelectorAll('#tabs button')) b.setAttribute('aria-selected', String(b.dataset.tab === tab));
  // Slack's Home tab has no message box.
  document.getElementById('composer').hidden = tab === 'home';
  renderTitle(data.people, tab);
  if (tab === 'home') {
    if (changed('conversation', [data.home, ui.user, tab])) renderHome(data.home);
  } else if (changed('conversation', [conversation, ui.user, tab])) renderConversation(conversation);
  // An open options menu stays put; the modal is redrawn once it closes.
  if (!document.querySelector('#modal .ext-menu') && changed('modal', [data.modal, ui.user])) renderModal(data.modal);
  if (changed('jira', data.jira)) renderJira(data.jira);
  if (changed('idps', data.idps)) renderIdps(data.idps);
}

function renderPeople(people) {
  const nav = document.getElementById('people');
  nav.replaceChildren(
    ...people.map((p) =>
      el(
        'button',
        {
          type: 'button',
          'data-person': p.key,
          'aria-pressed': p.slackId === ui.user ? 'true' : 'false',
          title: p.email,
          onclick: () => switchTo(p.slackId),
        },
        el('span', { class: 'name' }, p.name),
        el('span', { class: 'title' }, p.title),
        p.todo > 0 ? el('span', { class: 'badge', title: 'waiting for you' }, p.todo) : null,
      ),
    ),
  );
}

function renderTitle(people, tab) {
  const me = people.find((p) => p.slackId === ui.user);
  const where = tab === 'home' ? 'access-bot · Home' : 'Direct message with access-bot';
  document.getElementById('slack-title').textContent = me ? `${where} — you are ${me.name}` : 'Choose who you are';
}

function switchTo(slackId) {
  ui.user = slackId;
  const url = new URL(window.location.href);
  url.searchParams.set('as', slackId);
  window.history.replaceState(null, '', url);
  // Someone else looking at the Home tab opens theirs, and Slack tells the bot.
  if (ui.tab === 'home') void act('home', {});
  else void refresh();
}

/** Shows a tab; opening the Home tab sends app_home_opened, as Slack does each time. */
function showTab(tab) {
  ui.tab = tab;
  if (tab === 'home') void act('home', {});
  else void refresh();
}

function renderConversation(items) {
  const list = document.getElementById('conversation');
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  if (items.length === 0) {
    list.replaceChildren(
      el(
        'li',
        { class: 'hint' },
        'Nothing here yet. Things to try:',
        el(
          'ol',
          {},
          el('li', {}, 'As Alice, send ', el('code', {}, '/access'), ' and ask for Okta admin console / Super admin.'),
          el('li', {}, 'Switch to Bob, Alice’s manager in Okta, and click Approve (or Deny, which asks for a reason).'),
          el('li', {}, 'Watch the Jira issue and the Okta group on the right. Pick “10 seconds” to see the grant expire on its own.'),
          el('li', {}, 'Every identity provider has a role: Payments code (GitHub team, Bitbucket project), AWS production (IAM Identity Center), Data platform (Entra ID), Company wiki (Google), Jira (site group), Confluence (Atlassian organization).'),
          el('li', {}, 'Dave has no manager in Okta: his super-admin request goes to the fallback approver, Carol.'),
          el('li', {}, 'Open the Home tab: what each person has, waits for, and is asked to decide, with its buttons.'),
          el('li', {}, 'As Bob, use “For someone else” in the modal to request for Alice, his report.'),
        ),
      ),
    );
    return;
  }
  list.replaceChildren(...items.map(renderMessage));
  if (atBottom || changed('conv-len', items.length)) list.scrollTop = list.scrollHeight;
}

function renderHome(home) {
  const list = document.getElementById('conversation');
  if (!home) {
    list.replaceChildren(el('li', { class: 'hint' }, 'Opening your Home…'));
    return;
  }
  list.replaceChildren(el('li', { class: 'home', 'data-view-id': home.id }, (home.view.blocks ?? []).map((b) => renderBlock(b, { home }))));
}

function renderMessage(m) {
  const blocks = m.blocks?.length ? m.blocks.map((b) => renderBlock(b, { message: m })) : [el('div', { class: 'block' }, mrkdwn(m.text ?? ''))];
  return el(
    'li',
    { class: `msg ${m.kind === 'ephemeral' ? 'ephemeral' : ''}`, 'data-ts': m.ts },
    el('div', { class: 'avatar' }, 'AB'),
    el(
      'div',
      {},
      el(
        'div',
        { class: 'meta' },
        el('b', {}, 'access-bot'),
        el('span', { class: 'app' }, 'APP'),
        el('time', {}, time(m.at)),
        m.edited ? el('span', { class: 'edited' }, ' (edited)') : null,
        m.kind === 'ephemeral' ? el('div', { class: 'only' }, 'Only visible to you') : null,
      ),
      blocks,
    ),
  );
}

/** One Block Kit block. `ctx.message` for messages, `ctx.home` for the App Home, `ctx.view` for modals. */
function renderBlock(b, ctx) {
  switch (b.type) {
    case 'header':
      return el('div', { class: 'block header' }, b.text?.text ?? '');
    case 'section':
      return el(
        'div',
        { class: 'block section' },
        b.text ? el('div', {}, textObj(b.text)) : null,
        b.fields ? el('div', { class: 'fields' }, b.fields.map((f) => el('div', {}, textObj(f)))) : null,
        b.accessory ? el('div', {}, renderElement(b.accessory, b, ctx)) : null,
      );
    case 'context':
      return el('div', { class: 'block context' }, (b.elements ?? []).map((e) => (e.type === 'image' ? el('span', {}, `[${e.alt_text ?? 'image'}]`) : textObj(e))));
    case 'actions':
      return el('div', { class: 'block actions' }, (b.elements ?? []).map((e) => renderElement(e, b, ctx)));
    case 'divider':
      return el('div', { class: 'block' }, el('hr'));
    case 'input':
      return renderInput(b, ctx);
    default:
      return el('div', { class: 'block context' }, `[${b.type} block]`);
  }
}

function renderElement(e, block, ctx) {
  if (e.type === 'button') {
    return el(
      'button',
      {
        type: 'button',
        class: `sk-button ${e.style ?? ''}`,
        'data-action-id': e.action_id,
        onclick: async (ev) => {
          const button = ev.currentTarget;
          if (!ctx.message && !ctx.home) return toast('the sandbox sends clicks from messages and the Home only');
          // A button with `confirm` asks first, as Slack does; nothing is sent if the person backs out.
          if (e.confirm && !(await confirmDialog(e.confirm))) return;
          button.disabled = true;
          // A Home click is a view's block_actions: no channel, no message.
          if (ctx.home) await act('clickView', { viewId: ctx.home.id, actionId: e.action_id, blockId: block.block_id });
          else await act('click', { channel: ctx.message.channel, ts: ctx.message.ts, actionId: e.action_id, blockId: block.block_id });
        },
      },
      e.text?.text ?? 'Button',
    );
  }
  return el('span', { class: 'context' }, `[${e.type}]`);
}

/** Slack's confirmation dialog for a button's `confirm` object; resolves true on confirm. */
function confirmDialog(c) {
  return new Promise((resolve) => {
    const done = (answer) => {
      layer.remove();
      resolve(answer);
    };
    const layer = el(
      'div',
      { class: 'confirm-layer' },
      el(
        'div',
        { class: 'confirm', role: 'alertdialog' },
        el('div', { class: 'm-head' }, c.title?.text ?? 'Are you sure?'),
        el('div', { class: 'm-body' }, textObj(c.text)),
        el(
          'div',
          { class: 'm-foot' },
          el('button', { type: 'button', class: 'sk-close', onclick: () => done(false) }, c.deny?.text ?? 'Cancel'),
          el('button', { type: 'button', class: c.style === 'danger' ? 'sk-submit danger' : 'sk-submit', onclick: () => done(true) }, c.confirm?.text ?? 'Yes'),
        ),
      ),
    );
    document.body.append(layer);
  });
}

// ---------------------------------------------------------------------------------------------
// Modals

function viewValue(view, blockId, actionId) {
  return view.state?.values?.[blockId]?.[actionId];
}

function renderModal(modal) {
  const layer = document.getElementById('modal-layer');
  const box = document.getElementById('modal');
  if (!modal) {
    layer.hidden = true;
    box.replaceChildren();
    return;
  }
  // Keep the caret where the person was typing when the modal is redrawn.
  const focusedKey = document.activeElement?.dataset?.key;
  const v = modal.view;
  const ctx = { view: v, errors: modal.errors ?? {} };
  // replaceChildren would show a null as the text "null": a missing refusal is an empty string.
  box.replaceChildren(
    el('div', { class: 'm-head' }, v.title?.text ?? 'Modal', el('button', { type: 'button', class: 'x', title: 'Close', onclick: () => closeModal(v) }, '×')),
    ui.refusal?.viewId === v.id ? el('div', { class: 'm-error', role: 'alert' }, ui.refusal.text) : '',
    el('div', { class: 'm-body' }, (v.blocks ?? []).map((b) => renderBlock(b, ctx))),
    el(
      'div',
      { class: 'm-foot' },
      el('button', { type: 'button', class: 'sk-close', onclick: () => closeModal(v) }, v.close?.text ?? 'Cancel'),
      v.submit ? el('button', { type: 'button', class: 'sk-submit', onclick: () => submitModal(v) }, v.submit.text) : null,
    ),
  );
  layer.hidden = false;
  if (focusedKey) {
    const again = box.querySelector(`[data-key="${CSS.escape(focusedKey)}"]`);
    if (again) {
      again.focus();
      if (typeof again.value === 'string') again.setSelectionRange?.(again.value.length, again.value.length);
    }
  }
}

function renderInput(b, ctx) {
  const e = b.element ?? {};
  const view = ctx.view;
  const key = `${view?.id}/${b.block_id}/${e.action_id}`;
  const id = `in-${b.block_id}`;
  let control;
  switch (e.type) {
    case 'static_select':
      control = staticSelect(e, b, view, id);
      break;
    case 'external_select':
      control = externalSelect(e, b, view, id);
      break;
    case 'users_select':
      control = usersSelect(e, b, view, id);
      break;
    case 'plain_text_input': {
      if (ui.typed[key] === undefined) ui.typed[key] = viewValue(view, b.block_id, e.action_id)?.value ?? e.initial_value ?? '';
      const attrs = { id, 'data-key': key, placeholder: e.placeholder?.text, maxlength: e.max_length, oninput: (ev) => (ui.typed[key] = ev.target.value) };
      control = e.multiline ? el('textarea', attrs) : el('input', { type: 'text', ...attrs });
      control.value = ui.typed[key];
      break;
    }
    default:
      control = el('div', { class: 'context' }, `[${e.type} is not rendered by the sandbox]`);
  }
  const error = ctx.errors?.[b.block_id];
  return el(
    'div',
    { class: 'input', 'data-block-id': b.block_id },
    el('label', { for: id }, b.label?.text ?? '', b.optional ? el('span', { class: 'optional' }, ' (optional)') : null),
    control,
    b.hint ? el('div', { class: 'hint-text' }, b.hint.text) : null,
    error ? el('div', { class: 'error' }, error) : null,
  );
}

function staticSelect(e, b, view, id) {
  const chosen = viewValue(view, b.block_id, e.action_id)?.selected_option?.value ?? e.initial_option?.value ?? '';
  const options = [...(e.options ?? []), ...(e.option_groups ?? []).flatMap((g) => g.options ?? [])];
  const select = el(
    'select',
    {
      id,
      'data-action-id': e.action_id,
      onchange: (ev) => act('select', { viewId: view.id, blockId: b.block_id, actionId: e.action_id, value: ev.target.value }),
    },
    el('option', { value: '', disabled: true }, e.placeholder?.text ?? 'Choose…'),
    options.map((o) => el('option', { value: o.value }, o.text?.text ?? o.value)),
  );
  select.value = chosen;
  return select;
}

/** A users_select: Slack offers the workspace's people; here, the sandbox's four. Choosing none clears it. */
function usersSelect(e, b, view, id) {
  const chosen = viewValue(view, b.block_id, e.action_id)?.selected_user ?? e.initial_user ?? '';
  const select = el(
    'select',
    {
      id,
      'data-action-id': e.action_id,
      onchange: (ev) => act('select', { viewId: view.id, blockId: b.block_id, actionId: e.action_id, value: ev.target.value || null }),
    },
    el('option', { value: '' }, e.placeholder?.text ?? 'Choose a person'),
    (ui.data?.people ?? []).map((p) => el('option', { value: p.slackId }, p.name)),
  );
  select.value = chosen;
  return select;
}

/** An external_select: its options come from the bot, through a signed block_suggestion. */
function externalSelect(e, b, view, id) {
  const chosen = viewValue(view, b.block_id, e.action_id)?.selected_option ?? e.initial_option;
  const minQuery = e.min_query_length ?? 3;
  const wrap = el('div', { class: 'ext-select', 'data-action-id': e.action_id });
  const toggle = el(
    'button',
    { type: 'button', id, class: `ext-toggle ${chosen ? '' : 'placeholder'}`, 'aria-haspopup': 'listbox', onclick: () => (wrap.querySelector('.ext-menu') ? closeMenu() : openMenu()) },
    chosen ? (chosen.text?.text ?? chosen.value) : (e.placeholder?.text ?? 'Choose…'),
  );
  wrap.append(toggle);

  function closeMenu() {
    wrap.querySelector('.ext-menu')?.remove();
  }

  function openMenu() {
    const search = el('input', { type: 'text', placeholder: 'Type to search', 'aria-label': 'Search options' });
    const list = el('ul', { role: 'listbox' });
    const menu = el('div', { class: 'ext-menu' }, search, list);
    wrap.append(menu);
    let pending;
    const load = async () => {
      const query = search.value;
      if (query.length < minQuery) {
        list.replaceChildren(el('li', { class: 'note' }, `Type at least ${minQuery} characters`));
        return;
      }
      list.replaceChildren(el('li', { class: 'note' }, 'Loading…'));
      const answer = await act('suggest', { viewId: view.id, blockId: b.block_id, actionId: e.action_id, query });
      const options = answer?.options ?? [];
      list.replaceChildren(
        ...(options.length
          ? options.map((o) =>
              el(
                'li',
                {},
                el(
                  'button',
                  {
                    type: 'button',
                    role: 'option',
                    'data-value': o.value,
                    onclick: async () => {
                      closeMenu();
                      await act('select', { viewId: view.id, blockId: b.block_id, actionId: e.action_id, value: o });
                    },
                  },
                  o.text,
                ),
              ),
            )
          : [el('li', { class: 'note' }, 'No options')]),
      );
    };
    search.addEventListener('input', () => {
      clearTimeout(pending);
      pending = setTimeout(load, 200);
    });
    search.focus();
    void load();
  }
  return wrap;
}

async function submitModal(v) {
  const values = {};
  for (const [key, text] of Object.entries(ui.typed)) {
    const [viewId, blockId, actionId] = key.split('/');
    if (viewId !== v.id) continue;
    values[blockId] = { ...(values[blockId] ?? {}), [actionId]: text };
  }
  try {
    ui.refusal = null;
    const answer = await post('submit', { viewId: v.id, values });
    if (!answer.errors) forget(v.id);
  } catch (err) {
    // What Slack's own client refuses (a required field left empty) never reaches the bot.
    ui.refusal = { viewId: v.id, text: err.message };
  }
  delete ui.rendered.modal;
  void refresh();
}

async function closeModal(v) {
  forget(v.id);
  ui.refusal = null;
  await act('close', { viewId: v.id });
}

function forget(viewId) {
  for (const key of Object.keys(ui.typed)) if (key.startsWith(`${viewId}/`)) delete ui.typed[key];
}

// ---------------------------------------------------------------------------------------------
// Jira and the identity providers

function renderJira(issues) {
  const box = document.getElementById('issues');
  if (issues.length === 0) {
    box.replaceChildren(el('p', { class: 'empty' }, 'No issues yet. Request something as Alice.'));
    return;
  }
  const openDetails = new Set([...box.querySelectorAll('details[open]')].map((d) => d.dataset.key));
  box.replaceChildren(
    ...issues.map((i) => {
      const seen = ui.seenComments[i.key] ?? 0;
      ui.seenComments[i.key] = i.comments.length;
      return el(
        'article',
        { class: 'issue', 'data-key': i.key },
        el(
          'div',
          { class: 'i-head' },
          el('span', { class: 'key' }, i.key),
          el('span', { class: `status ${STATUS_CLASS[i.status] ?? ''}`, 'data-status': i.status }, i.status),
        ),
        el('div', { class: 'summary' }, i.summary),
        el('details', { 'data-key': i.key, open: openDetails.has(i.key) }, el('summary', {}, 'Description'), el('pre', {}, i.description)),
        el(
          'ol',
          { class: 'comments' },
          i.comments.map((c, n) => el('li', { class: n >= seen && seen > 0 ? 'fresh' : '' }, el('time', {}, time(c.at)), c.text)),
        ),
      );
    }),
  );
}

/** Who holds what the catalog grants, in each identity provider (Okta groups first). */
function renderIdps(idps) {
  const box = document.getElementById('groups');
  box.replaceChildren(
    ...idps.map((g) => {
      const before = new Set(ui.seenMembers[g.id] ?? []);
      const first = ui.seenMembers[g.id] === undefined;
      ui.seenMembers[g.id] = g.members.map((m) => m.id);
      const okta = g.service === 'Okta';
      return el(
        'div',
        { class: 'group', 'data-group-id': g.id, 'data-service': g.service },
        el('span', { class: 'g-service' }, g.service),
        el('span', { class: 'g-name' }, g.what),
        el(
          'div',
          { class: 'members' },
          g.members.length
            ? g.members.map((m) => el('span', { class: `member ${!first && !before.has(m.id) ? 'fresh' : ''}`, 'data-member-id': m.id, ...(okta ? { 'data-okta-id': m.id } : {}) }, m.name))
            : el('span', { class: 'none' }, 'no members'),
        ),
      );
    }),
  );
}

// ---------------------------------------------------------------------------------------------

for (const b of document.querySelectorAll('#tabs button')) {
  b.addEventListener('click', () => showTab(b.dataset.tab));
}

// A click elsewhere, or Escape, closes an open options menu, as in Slack.
document.addEventListener('click', (ev) => {
  for (const menu of document.querySelectorAll('.ext-menu')) if (!menu.parentElement.contains(ev.target)) menu.remove();
});
document.addEventListener('keydown', (ev) => {
  if (ev.key === 'Escape') for (const menu of document.querySelectorAll('.ext-menu')) menu.remove();
});

document.getElementById('composer').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const input = document.getElementById('composer-text');
  const answer = await act('command', { text: input.value });
  if (answer?.reply) {
    const mine = (ui.localEphemerals[ui.user] ??= []);
    mine.push({ kind: 'ephemeral', channel: 'local', ts: `local-${mine.length}`, at: Date.now(), text: answer.reply, blocks: [], edited: false });
  }
});

void refresh();
