/**
 * `npm run demo`: plays a scripted story against the real bot and the built-in emulators, and
 * prints it as a timeline — what each person did in Slack and what the bot did in Slack, Jira
 * and the identity providers (Okta, GitHub, AWS IAM Identity Center, …) — then each Jira issue as
 * an auditor reads it.
 *
 *   npm run demo                    the story
 *   npm run demo -- --quiet         one line per step (CI)
 *   npm run demo -- --interactive   the sandbox web page instead (demo/sandbox.ts)
 *
 * The bot's actions are not scripted: the timeline watches the emulators' recorded state
 * (messages, views, issues, comments, group members) and reports what changed.
 */
import { relative } from 'node:path';
import { describeDuration, parseDuration } from '../src/domain/duration.js';
import { interactiveElements, isObj, type Obj, type StoredMessage, type StoredView } from '../test/emulators/slack.js';
import { githubLogin } from '../test/support/harness.js';
import { AWS_ADMIN_PS, AWS_PROD_ACCOUNT, DemoWorld, GITHUB_TEAM, waitFor, type DemoPerson } from './world.js';

interface Flags {
  quiet: boolean;
  interactive: boolean;
  port: number | undefined;
  help: boolean;
}

function parseFlags(argv: string[]): Flags {
  const flags: Flags = { quiet: false, interactive: false, port: undefined, help: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--quiet' || a === '-q') flags.quiet = true;
    else if (a === '--interactive' || a === '-i') flags.interactive = true;
    else if (a === '--help' || a === '-h') flags.help = true;
    else if (a === '--port' || a.startsWith('--port=')) {
      const raw = a.includes('=') ? a.slice(7) : argv[++i];
      const n = Number(raw);
      if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`--port takes a port number, not "${raw ?? ''}"`);
      flags.port = n;
    } else throw new Error(`unknown option ${a} (try --help)`);
  }
  return flags;
}

const HELP = `Usage: npm run demo [-- options]
  (no option)     play the scripted story and print its timeline and the Jira record
  --quiet, -q     one line per step, for CI
  --interactive   serve the sandbox web page on 127.0.0.1 instead (--port N, default 8700)
`;

// ---------------------------------------------------------------------------------------------
// Output

const color = process.stdout.isTTY === true && !process.env.NO_COLOR;
const paint = (code: string) => (s: string) => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
const dim = paint('2');
const bold = paint('1');
const cyan = paint('36');
const green = paint('32');
const red = paint('31');
const yellow = paint('33');

const EMOJI: Record<string, string> = { white_check_mark: '✅', x: '❌', warning: '⚠️', rotating_light: '🚨', lock: '🔒' };

/** Slack mrkdwn as plain terminal text. */
function plainText(s: string): string {
  return s
    .replace(/<([^|>]+)\|([^>]+)>/g, '$2')
    .replace(/:([a-z0-9_+-]+):/g, (m, name: string) => EMOJI[name] ?? m)
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

function clipLine(s: string, max = 220): string {
  const one = s.replace(/\s*\n\s*/g, ' ⏎ ');
  return one.length <= max ? one : `${one.slice(0, max - 1)}…`;
}

/** Word-wraps `text` to the terminal, indenting continuation lines by `indent` spaces. */
function wrap(text: string, indent: number): string {
  const width = Math.max(60, Math.min(process.stdout.columns ?? 110, 140));
  const room = width - indent;
  const out: string[] = [];
  for (const para of text.split('\n')) {
    let line = '';
    for (const word of para.split(' ')) {
      if (line && line.length + 1 + word.length > room) {
        out.push(line);
        line = word;
      } else line = line ? `${line} ${word}` : word;
    }
    out.push(line);
  }
  return out.join(`\n${' '.repeat(indent)}`);
}

function clock(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}.${p(Math.floor(d.getUTCMilliseconds() / 100), 1)}`;
}

// ---------------------------------------------------------------------------------------------
// The timeline: story actions as they are taken, bot actions as the emulators record them

interface Entry {
  at: number;
  who: string;
  what: string;
}

class Timeline {
  readonly t0 = Date.now();
  private readonly seenMessages = new Map<string, number>();
  private readonly seenEphemerals = new Set<string>();
  private readonly seenViews = new Map<string, { versions: number; closed: boolean; errors: string }>();
  private readonly seenIssues = new Map<string, { comments: number; status: string }>();
  /** Holders of each thing the catalog grants (MembershipView.id), as last seen. */
  private readonly seenMembers = new Map<string, Set<string>>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly world: DemoWorld,
    private readonly quiet: boolean,
  ) {}

  start(): void {
    for (const m of this.world.memberships()) this.seenMembers.set(m.id, new Set(m.members.map((x) => x.id)));
    this.timer = setInterval(() => this.flush(), 20);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.flush();
  }

  /** A person's action in the story. */
  act(person: DemoPerson, what: string): void {
    this.flush();
    this.print({ at: Date.now(), who: person.name.split(' ')[0]!, what });
  }

  /** A narrator's aside. */
  note(what: string): void {
    this.flush();
    if (!this.quiet) console.log(`${' '.repeat(31)}${yellow(wrap(`※ ${what}`, 31))}`);
  }

  /** A step the story checked, shown in --quiet mode too. */
  check(what: string): void {
    this.flush();
    if (this.quiet) console.log(`${green('✓')} ${what}`);
  }

  private print(e: Entry): void {
    if (this.quiet) return;
    const who = e.who === 'access-bot' ? cyan(e.who.padEnd(10)) : bold(e.who.padEnd(10));
    console.log(`${dim(clock(e.at))} ${dim(`+${((e.at - this.t0) / 1000).toFixed(1).padStart(5)}s`)}  ${who} ${wrap(e.what, 31)}`);
  }

  /** Reports what changed in the emulators since the last look, oldest first. */
  flush(): void {
    const entries = [...this.slackChanges(), ...this.jiraChanges(), ...this.idpChanges()];
    entries.sort((a, b) => a.at - b.at);
    for (const e of entries) this.print(e);
  }

  private where(channel: string): string {
    // dmsTo reads the DM channel without creating one (imChannelFor would).
    const person = this.world.people.find((p) => this.world.slack.dmsTo(p.slackId).some((m) => m.channel === channel));
    return person ? `Slack DM to ${person.name.split(' ')[0]}` : `Slack #${this.world.slack.channelName(channel)}`;
  }

  private slackChanges(): Entry[] {
    const out: Entry[] = [];
    const slack = this.world.slack;
    for (const m of slack.messages) {
      const id = `${m.channel}@${m.ts}`;
      const versions = m.history.length + 1;
      const seen = this.seenMessages.get(id) ?? 0;
      if (seen === versions) continue;
      this.seenMessages.set(id, versions);
      const verb = seen === 0 ? '' : 'updated: ';
      out.push({ at: m.at, who: 'access-bot', what: `${this.where(m.channel)} ${verb}“${clipLine(plainText(m.text))}”${buttonsOf(m)}` });
    }
    for (const e of slack.ephemerals) {
      const id = `${e.channel}@${e.ts}`;
      if (this.seenEphemerals.has(id)) continue;
      this.seenEphemerals.add(id);
      out.push({ at: e.at, who: 'access-bot', what: `Slack, only ${this.world.nameOf(e.user).split(' ')[0]} sees: “${clipLine(plainText(e.text))}”` });
    }
    for (const v of slack.views.values()) {
      const seen = this.seenViews.get(v.id);
      const now = { versions: v.history.length + 1, closed: v.closed, errors: JSON.stringify(v.errors ?? null) };
      if (seen && seen.versions === now.versions && seen.closed === now.closed && seen.errors === now.errors) continue;
      this.seenViews.set(v.id, now);
      const who = this.world.nameOf(v.userId ?? '').split(' ')[0];
      const title = viewTitle(v);
      if (!seen) out.push({ at: v.openedAt, who: 'access-bot', what: `Slack: opens the “${title}” modal for ${who}${describeInputs(v)}` });
      else if (now.errors !== seen.errors && v.errors) out.push({ at: v.updatedAt, who: 'access-bot', what: `Slack: the “${title}” modal shows errors: ${Object.values(v.errors).join('; ')}` });
      else if (now.versions !== seen.versions) out.push({ at: v.updatedAt, who: 'access-bot', what: `Slack: updates the “${title}” modal` });
      if (now.closed && !seen?.closed) out.push({ at: Date.now(), who: 'access-bot', what: `Slack: accepts the “${title}” form; the modal closes` });
    }
    return out;
  }

  private jiraChanges(): Entry[] {
    const out: Entry[] = [];
    for (const issue of this.world.issues()) {
      const seen = this.seenIssues.get(issue.key);
      if (!seen) out.push({ at: issue.created, who: 'access-bot', what: `Jira: creates ${issue.key} “${issue.summary}”` });
      issue.comments.slice(seen?.comments ?? 0).forEach((c) => out.push({ at: c.at, who: 'access-bot', what: `Jira ${issue.key} comment: “${clipLine(c.text, 400)}”` }));
      if (seen && seen.status !== issue.status) {
        out.push({ at: Date.now(), who: 'access-bot', what: `Jira ${issue.key}: status ${seen.status} → ${issue.status} (transition “${issue.transitions.at(-1) ?? '?'}”)` });
      }
      this.seenIssues.set(issue.key, { comments: issue.comments.length, status: issue.status });
    }
    return out;
  }

  /** Memberships, team members, permissions and account assignments that appeared or went. */
  private idpChanges(): Entry[] {
    const out: Entry[] = [];
    for (const m of this.world.memberships()) {
      const before = this.seenMembers.get(m.id) ?? new Set<string>();
      const now = new Set(m.members.map((x) => x.id));
      for (const id of now) if (!before.has(id)) out.push({ at: Date.now(), who: 'access-bot', what: green(`${m.service}: adds ${this.world.nameOf(id)} (${id}) to ${m.what}`) });
      for (const id of before) if (!now.has(id)) out.push({ at: Date.now(), who: 'access-bot', what: red(`${m.service}: removes ${this.world.nameOf(id)} (${id}) from ${m.what}`) });
      this.seenMembers.set(m.id, now);
    }
    return out;
  }
}

function buttonsOf(m: StoredMessage): string {
  const buttons = interactiveElements(m.blocks)
    .filter((e) => e.element.type === 'button')
    .map((e) => `[${isObj(e.element.text) ? String(e.element.text.text) : '?'}]`);
  return buttons.length ? ` ${buttons.join(' ')}` : '';
}

function viewTitle(v: StoredView): string {
  return isObj(v.view.title) ? String(v.view.title.text) : String(v.view.callback_id);
}

function describeInputs(v: StoredView): string {
  const blocks = Array.isArray(v.view.blocks) ? (v.view.blocks as unknown[]).filter(isObj) : [];
  const inputs = blocks
    .filter((b) => b.type === 'input' && isObj(b.element) && isObj(b.label))
    .map((b) => `${String((b.label as Obj).text)} (${String((b.element as Obj).type)})`);
  return inputs.length ? ` with ${inputs.join(', ')}` : '';
}

// ---------------------------------------------------------------------------------------------
// The story

/** The text Slack shows for an option, as the bot served it. */
function optionText(o: Obj): string {
  return isObj(o.text) ? String(o.text.text) : String(o.value);
}

class Story {
  constructor(
    private readonly world: DemoWorld,
    private readonly tl: Timeline,
  ) {}

  private who(key: string): DemoPerson {
    const p = this.world.person(key);
    if (!p) throw new Error(`no person ${key}`);
    return p;
  }

  /** Opens /access and fills in the modal the way a person would, through Slack's real payloads. */
  async request(requester: DemoPerson, input: { app: string; role: string; duration: string; reason: string }): Promise<string> {
    const { slack, driver } = this.world;
    const before = new Set(slack.views.keys());
    this.tl.act(requester, 'types /access in Slack');
    await driver.command(requester.slackId);
    const view = await waitFor('the request modal to open', () =>
      [...slack.views.values()].find((v) => v.userId === requester.slackId && !before.has(v.id) && v.view.callback_id === 'access_request'),
    );

    await driver.selectInView(requester.slackId, view.id, 'application', 'application', input.app);
    const appName = this.staticOptionText(view, 'application', input.app);
    this.tl.act(requester, `chooses Application “${appName}”`);

    const role = await this.pickExternal(requester, view, 'role', input.role);
    const duration = await this.pickExternal(requester, view, 'duration', input.duration);
    this.tl.act(requester, `chooses Role “${role}” and Duration “${duration}”, types the reason “${input.reason}” and presses Submit`);
    const res = await driver.submitView(requester.slackId, view.id, { reason: { reason: input.reason } });
    if (res.status !== 200) throw new Error(`the bot refused the submission: HTTP ${res.status} ${JSON.stringify(res.body)}`);
    const errors = slack.views.get(view.id)?.errors;
    if (errors) throw new Error(`the modal came back with errors: ${JSON.stringify(errors)}`);
    const r = await waitFor('the request to be recorded', () => this.world.bot.store.findBySubmissionKey(view.id));
    return r.id;
  }

  private staticOptionText(view: StoredView, blockId: string, value: string): string {
    const el = interactiveElements(view.view.blocks).find((e) => e.blockId === blockId)?.element;
    const opt = (Array.isArray(el?.options) ? (el.options as unknown[]) : []).filter(isObj).find((o) => o.value === value);
    return opt ? optionText(opt) : value;
  }

  /** An external_select: Slack asks the bot for options (block_suggestion), the person picks one. */
  private async pickExternal(who: DemoPerson, view: StoredView, blockId: string, value: string): Promise<string> {
    const res = await this.world.driver.suggest(who.slackId, view.id, blockId, blockId, '');
    const options = isObj(res.body) && Array.isArray(res.body.options) ? (res.body.options as unknown[]).filter(isObj) : [];
    const chosen = options.find((o) => o.value === value);
    this.tl.note(`Slack asked the bot for the ${blockId} options (block_suggestion) and got: ${options.map(optionText).join(', ') || 'none'}`);
    if (!chosen) throw new Error(`the bot did not offer ${blockId} “${value}” (offered: ${options.map((o) => String(o.value)).join(', ') || 'nothing'})`);
    await this.world.driver.selectInView(who.slackId, view.id, blockId, blockId, { text: optionText(chosen), value });
    return optionText(chosen);
  }

  private async approverCard(approver: DemoPerson, requestId: string): Promise<StoredMessage> {
    return waitFor(
      `${approver.name}'s DM with Approve / Deny`,
      () => this.world.slack.dmsTo(approver.slackId).find((m) => JSON.stringify(m.blocks).includes(requestId) && interactiveElements(m.blocks).some((e) => e.element.action_id === 'approve')),
    );
  }

  /**
   * Lets the bot finish what the last action set off before the next person acts, so the
   * timeline reads as cause and effect. The bot itself never waits for this.
   */
  private async settle(): Promise<void> {
    await this.world.bot.dispatcher.idle(15_000);
    await new Promise((r) => setTimeout(r, 150));
  }

  private state(requestId: string): string | undefined {
    return this.world.bot.store.getRequest(requestId)?.state;
  }

  /** The approver clicks Approve on their DM card, once the request's Jira issue exists. */
  private async approve(approver: DemoPerson, requestId: string): Promise<void> {
    const card = await this.approverCard(approver, requestId);
    await waitFor('the Jira issue', () => this.world.bot.store.getRequest(requestId)?.jiraKey);
    await this.settle();
    this.tl.act(approver, 'clicks Approve');
    const click = await this.world.driver.clickButton(approver.slackId, card, 'approve');
    if (click.status !== 200) throw new Error(`Slack's click was not acknowledged: HTTP ${click.status}`);
  }

  /** The request once it is active, with its expiry. */
  private async active(requestId: string): Promise<{ expiresAt: number | null }> {
    return waitFor('the grant to be active', () => {
      const r = this.world.bot.store.getRequest(requestId);
      return r?.state === 'active' ? r : undefined;
    });
  }

  async play(): Promise<void> {
    const { world, tl } = this;
    const alice = this.who('alice');
    const bob = this.who('bob');
    const carol = this.who('carol');
    const superAdmin = '00g1superadm';

    // 1. Alice asks for Okta super admin; her manager (from Okta) approves; it expires.
    const duration = parseDuration('10s')!;
    tl.note(`Alice needs Okta super admin for an hour. The demo catalog also offers “${describeDuration(duration)}” so you can watch the grant expire; she picks that.`);
    const first = await this.request(alice, {
      app: 'okta-console',
      role: 'super-admin',
      duration: duration.token,
      reason: 'Rotate the SCIM token for the HR integration (CHG-1042)',
    });
    tl.check(`Alice's request ${first} submitted through the /access modal`);
    tl.note(`The role's approver is “manager”: the bot asks Okta for Alice's profile.managerId, which is Bob.`);
    await this.approverCard(bob, first);
    tl.check('Bob (Alice’s manager in Okta) got a DM with Approve / Deny');
    await this.approve(bob, first);
    await waitFor(`Alice in the Okta group ${superAdmin}`, () => world.okta.isMember(superAdmin, alice.oktaId));
    tl.check('approved by Bob; Alice added to the Okta group');
    const active = await this.active(first);
    tl.note(`Access is live until ${clock(active.expiresAt!)}; nobody needs to do anything for it to end.`);
    await waitFor(`Alice to be removed from ${superAdmin} when the grant expires`, () => !world.okta.isMember(superAdmin, alice.oktaId), 30_000);
    await waitFor('the request to be revoked', () => this.state(first) === 'revoked');
    await world.bot.dispatcher.idle(15_000);
    tl.check('the grant expired and the membership was removed');
    await this.settle();

    // 2. Alice asks for write access to production; the owner denies it with a reason.
    const second = await this.request(alice, { app: 'aws-prod', role: 'read-write', duration: '8h', reason: 'Fix the stuck invoices in the billing table' });
    tl.check(`Alice's second request ${second} submitted`);
    const carolsCard = await this.approverCard(carol, second);
    await this.settle();
    tl.act(carol, 'clicks Deny');
    const before = new Set(world.slack.views.keys());
    await world.driver.clickButton(carol.slackId, carolsCard, 'deny');
    const denyModal = await waitFor('the deny-reason modal', () =>
      [...world.slack.views.values()].find((v) => v.userId === carol.slackId && !before.has(v.id) && v.view.callback_id === 'deny_reason'),
    );
    const reason = 'Production writes go through a change ticket; the read-only role covers the investigation.';
    await this.settle();
    tl.act(carol, `types the reason “${reason}” and presses Deny`);
    await world.driver.submitView(carol.slackId, denyModal.id, { reason: { reason } });
    await waitFor('the request to be denied', () => this.state(second) === 'denied');
    await world.bot.dispatcher.idle(15_000);
    await waitFor('Alice to be told why', () => world.slack.dmsTo(alice.slackId).some((m) => m.text.includes('denied')));
    tl.check('denied by Carol with a reason; Alice was told');
    await this.settle();

    // 3. Beyond Okta: a GitHub team that expires on its own, and an AWS account given back early.
    const third = await this.githubTeam();
    const fourth = await this.awsAdmin();
    const login = githubLogin(alice);
    const [org, slug] = GITHUB_TEAM.split('/') as [string, string];
    await waitFor(`${login} to leave GitHub team ${GITHUB_TEAM} when the grant expires`, () => !world.github.members(org, slug).includes(login), 30_000);
    await waitFor('the GitHub request to be revoked', () => this.state(third) === 'revoked');
    await world.bot.dispatcher.idle(15_000);
    tl.check('the GitHub grant expired and the team membership was removed');
    tl.stop();

    const broken = world.bot.store.verifyAuditChain();
    if (broken !== undefined) throw new Error(`the audit chain is broken at event ${broken}`);
    const events = [first, second, third, fourth].reduce((n, id) => n + world.bot.store.auditOf(id).length, 0);
    tl.check(`the audit log's hash chain verifies (${events} events)`);
  }

  /** Alice joins the payments developers' GitHub team for ten seconds; returns the request, active. */
  private async githubTeam(): Promise<string> {
    const { world, tl } = this;
    const alice = this.who('alice');
    const login = githubLogin(alice);
    const [org, slug] = GITHUB_TEAM.split('/') as [string, string];
    tl.note(`The same story on GitHub: Alice asks for the payments developers' team (${GITHUB_TEAM}). The bot finds her login through the organization's SAML identities, where her email is her NameID.`);
    const id = await this.request(alice, { app: 'payments-code', role: 'github', duration: '10s', reason: 'Review the payments refactoring pull requests' });
    tl.check(`Alice's GitHub request ${id} submitted`);
    await this.approve(this.who('bob'), id);
    await waitFor(`${login} in GitHub team ${GITHUB_TEAM}`, () => world.github.members(org, slug).includes(login));
    const { expiresAt } = await this.active(id);
    await this.settle();
    tl.check(`approved by Bob; ${login} added to the GitHub team`);
    tl.note(`GitHub access is live until ${clock(expiresAt!)}. Meanwhile, Alice needs the production AWS account.`);
    return id;
  }

  /** Alice gets the Administrator permission set in the production AWS account, and gives it back early. */
  private async awsAdmin(): Promise<string> {
    const { world, tl } = this;
    const alice = this.who('alice');
    const userId = world.awsSso.userIdOf(alice.email);
    const assigned = () => world.awsSso.isAssigned(AWS_PROD_ACCOUNT, AWS_ADMIN_PS, userId);
    const id = await this.request(alice, { app: 'aws-prod', role: 'sso-admin', duration: '1h', reason: 'Inspect the failed deployment in production (INC-2291)' });
    tl.check(`Alice's AWS request ${id} submitted`);
    tl.note(`On approval, IAM Identity Center assigns the permission set in account ${AWS_PROD_ACCOUNT} to Alice's Identity Center user, found by her email. AWS carries assignments out asynchronously: the bot polls until it has succeeded.`);
    await this.approve(this.who('carol'), id);
    await waitFor('the permission set assigned to Alice', assigned);
    await this.active(id);
    await world.bot.dispatcher.idle(15_000);
    tl.check('approved by Carol; the permission set is assigned to Alice in the account');
    await this.settle();
    const notice = await waitFor('Alice’s “Access granted” DM with Revoke now', () =>
      world.slack.dmsTo(alice.slackId).find((m) => m.text.startsWith('Access granted') && JSON.stringify(m.blocks).includes(`"value":"${id}"`)),
    );
    tl.act(alice, 'is done within minutes and clicks Revoke now on her “Access granted” DM');
    const click = await world.driver.clickButton(alice.slackId, notice, 'revoke_access');
    if (click.status !== 200) throw new Error(`Slack's click was not acknowledged: HTTP ${click.status}`);
    await waitFor('the assignment to be deleted', () => !assigned());
    await waitFor('the AWS request to be revoked', () => this.state(id) === 'revoked');
    await world.bot.dispatcher.idle(15_000);
    tl.check('Alice gave the AWS access back; the assignment was deleted');
    return id;
  }
}

function printRecord(world: DemoWorld): void {
  for (const issue of world.issues().sort((a, b) => a.created - b.created)) {
    console.log('');
    console.log(bold(`━━━ Jira ${issue.key} — the record an auditor reads ━━━`));
    console.log(`${dim('Summary')}      ${issue.summary}`);
    console.log(`${dim('Status')}       ${issue.status}${issue.transitions.length ? dim(`   (transitions: ${issue.transitions.join(' → ')})`) : ''}`);
    console.log(`${dim('Created')}      ${new Date(issue.created).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}`);
    console.log(dim('Description'));
    for (const line of issue.description.split('\n')) console.log(`  ${wrap(line, 2)}`);
    console.log(dim(`Comments (${issue.comments.length}, oldest first)`));
    issue.comments.forEach((c, i) => console.log(`  ${String(i + 1).padStart(2)}. ${wrap(c.text, 6)}`));
  }
}

async function main(): Promise<number> {
  let flags: Flags;
  try {
    flags = parseFlags(process.argv.slice(2));
  } catch (err) {
    console.error((err as Error).message);
    return 2;
  }
  if (flags.help) {
    console.log(HELP);
    return 0;
  }
  if (flags.interactive) {
    const { runSandbox } = await import('./sandbox.js');
    return runSandbox({ port: flags.port });
  }

  const world = new DemoWorld({ name: 'story' });
  const started = Date.now();
  // A hard stop, so a wedged step can never hang CI.
  const watchdog = setTimeout(() => {
    console.error(red('✘ demo failed: it did not finish within 90 seconds'));
    process.exit(1);
  }, 90_000);
  watchdog.unref();
  try {
    await world.start();
    if (!flags.quiet) {
      console.log(bold('access-bot demo') + ' — the real bot, driven through built-in emulators of Slack, Jira and every identity provider it connects to; no accounts needed.');
      console.log(dim(`  bot ${world.bot.url} · Slack ${world.slack.url} · Jira ${world.jira.url} · Okta ${world.okta.url} · GitHub ${world.github.url} · AWS ${world.awsSso.url}`));
      console.log(dim(`  the catalog has a role on each connector: ${[...new Set(world.memberships().map((m) => m.service))].join(', ')}`));
      console.log(dim(`  SQLite ${relative(process.cwd(), world.databasePath)} (recreated each run) · bot logs ${relative(process.cwd(), world.logFile ?? '')}`));
      for (const p of world.people) console.log(dim(`  ${p.name.padEnd(12)} ${p.email.padEnd(18)} ${p.title}`));
      console.log('');
    }
    const tl = new Timeline(world, flags.quiet);
    tl.start();
    try {
      await new Story(world, tl).play();
    } finally {
      tl.stop();
    }
    if (!flags.quiet) printRecord(world);
    console.log('');
    console.log(green(`✓ demo finished in ${((Date.now() - started) / 1000).toFixed(1)} s`) + (flags.quiet ? '' : dim(' — try it yourself: npm run demo -- --interactive')));
    return 0;
  } catch (err) {
    console.error('');
    console.error(red(`✘ demo failed: ${(err as Error).message}`));
    if (world.logFile) console.error(dim(`  the bot's logs: ${relative(process.cwd(), world.logFile)}`));
    return 1;
  } finally {
    clearTimeout(watchdog);
    await world.stop();
  }
}

process.exitCode = await main();
