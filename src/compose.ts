/**
 * The composition root: the only module that knows every concrete class. Builds the database,
 * adapters, use cases, outbox dispatcher, expiry scheduler and the Bolt app, and starts and
 * stops them in the right order.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { connectorType } from './adapters/idp/index.js';
import { buildOnCall } from './adapters/oncall/index.js';
import { OnCallLookup } from './app/onCall.js';
import { connectorWith } from './app/connectors.js';
import type { IdpConnector, IdpConnectorWith } from './app/ports/idp.js';
import { statusChangeHandlers } from './app/jiraStatus.js';
import { jiraHandlers } from './adapters/jira/effects.js';
import { JiraCloudRecord } from './adapters/jira/record.js';
import { JiraIssueFeed } from './adapters/jira/issueFeed.js';
import { JiraIssueReads } from './adapters/jira/reads.js';
import { JiraUsers } from './adapters/jira/users.js';
import { jiraWebhookHandler } from './adapters/jira/webhook.js';
import { applyLimits, closeServer, DEFAULT_LIMITS, listen, oneRouteListener, requireBearer, serverOptions, type InboundLimits } from './adapters/httpServer.js';
import type { JiraRecord } from './adapters/jira/types.js';
import { SlackApi } from './adapters/slack/api.js';
import { SlackGateway, USER_CACHE_TTL_MS } from './adapters/slack/client.js';
import { slackHandlers } from './adapters/slack/effects.js';
import { homeHandlers } from './adapters/slack/homeEffects.js';
import { reclaimHandlers } from './adapters/slack/reclaimEffects.js';
import { registerListeners } from './adapters/slack/listeners.js';
import { warmUpInbound } from './adapters/slack/warmUp.js';
import { boltRegistry, SlackDemand, SlackRouter, slackRequestListener, type HttpRoute } from './adapters/slack/inbound.js';
import { Checkpointer } from './adapters/sqlite/checkpointer.js';
import { lockDatabase } from './adapters/sqlite/lock.js';
import { reviewJiraHandlers } from './adapters/jira/reviewEffects.js';
import { reviewSlackHandlers } from './adapters/slack/reviewEffects.js';
import { reviewHandlers } from './app/reviewHandlers.js';
import { ReviewSchedules, runDueReviews } from './app/reviewTimers.js';
import { alertAdmins, type AppContext } from './app/context.js';
import { EFFECT_LANES } from './app/effects.js';
import { People } from './app/people.js';
import type { TxStore } from './app/ports/store.js';
import { expireDue } from './app/expire.js';
import { pruneDeliveries } from './app/jiraChange.js';
import { startIntake } from './app/jiraIntake.js';
import { pollJira } from './app/jiraPoll.js';
import { appHandlers } from './app/handlers.js';
import { refreshHomesOf } from './app/home.js';
import { catalogOptionsOf } from './config/env.js';
import type { Config, ConnectorConfig } from './config/types.js';
import type { Catalog } from './domain/catalog.js';
import { CatalogReloader, type ReloadOutcome } from './jobs/catalogReload.js';
import { ExpiryScheduler } from './jobs/expiry.js';
import { DEFAULT_JIRA_POLL_MS, JiraPollJob } from './jobs/jiraPoll.js';
import { RoutingTimers } from './jobs/routing.js';
import { MemberSync, type MemberSyncOptions } from './jobs/memberSync.js';
import { HolderChecks, type HolderChecksOptions } from './jobs/holderChecks.js';
import { storeRunClaims } from './jobs/runClaims.js';
import { runDueTimers } from './app/timers.js';
import { runDueWarnings } from './app/warnings.js';
import { boltLogger } from './logger.js';
import { Dispatcher, type DispatcherOptions } from './outbox/dispatcher.js';
import type { Outbox } from './outbox/outbox.js';
import type { Db } from './adapters/sqlite/db.js';
import { openStorage, type BotStore, type GroupMembers, type SqlReader, type Storage } from './storage.js';

export { migrationsDir, openStorage, type Storage } from './storage.js';

/** How often inbound deliveries past their retention are forgotten. */
const PRUNE_EVERY_MS = 3600_000;

export interface ComposeOptions {
  config: Config;
  catalog: Catalog;
  logger: Logger;
  now?: () => number;
  /** Replace connector instances by name (tests of the connector contract); the others are built from the config. */
  connectors?: Record<string, IdpConnector>;
  /** How long an on-call look-up may take before the request goes to its approvers (default app/onCall.ts's). */
  onCallDeadlineMs?: number;
  jira?: JiraRecord;
  dispatcher?: Partial<Pick<DispatcherOptions, 'concurrency' | 'leaseMs' | 'backoff' | 'maxRetryAgeMs' | 'idlePollMs' | 'random'>>;
  /** node-cron expression of the expiry safety sweep. */
  sweep?: string;
  /** Bounds on unauthenticated clients (adapters/httpServer.ts); tests shorten the timeouts. */
  limits?: Partial<InboundLimits>;
  /** The user sync's bounds and schedule (tests turn the schedule off and run it by hand). */
  memberSync?: Partial<Pick<MemberSyncOptions, 'schedule' | 'pageSize' | 'maxWaitMs' | 'maxRetries' | 'backoffMs'>>;
  /** Inactivity reclaim's and the account-status check's schedules and bounds (tests turn the schedules off and run them by hand). */
  holderChecks?: HolderChecksOptions;
  /**
   * Requests that warm up the Slack request path before `/healthz` says ready
   * (adapters/slack/warmUp.ts); the process entry sends WARM_UP_REQUESTS, tests none.
   */
  warmUpRequests?: number;
  /** The Jira poll's interval (JIRA_POLL_INTERVAL otherwise; 0: only `jiraPoll.runOnce()`). */
  jiraPollMs?: number;
  /** What counts as a burst of Slack requests and how long it may hold the outbox (SlackDemand); tests widen them. */
  slackBurst?: { windowMs?: number; maxHoldMs?: number };
  /**
   * Re-read the catalog file (config.catalogPath) when its directory changes, after
   * `debounceMs` of quiet (default 300). Off unless given: main.ts turns it on; `reloadCatalog()`
   * works either way.
   */
  watchCatalog?: { debounceMs?: number };
}

export interface AccessBot {
  /** SQLite's connection; reading it on Postgres throws (use `sql`). */
  readonly db: Db;
  /** Raw reads in either store, `?` placeholders (storage.ts). */
  readonly sql: SqlReader;
  readonly storageKind: Storage['kind'];
  readonly store: BotStore;
  readonly outbox: Outbox<'sync', TxStore>;
  readonly dispatcher: Dispatcher<TxStore>;
  readonly scheduler: ExpiryScheduler;
  /** Reminders, escalations, timeouts and expiry warnings; `tick()` runs what is due now. */
  readonly timers: RoutingTimers;
  /** The user sync (jobs/memberSync.ts); `runOnce()` lists every granted group now. */
  readonly memberSync: MemberSync;
  /** What the user sync stored: who holds each group, and each group's last sync. */
  readonly groupMembers: GroupMembers;
  /** The poll for requests raised in Jira (jobs/jiraPoll.ts); `runOnce()` polls now. */
  readonly jiraPoll: JiraPollJob;
  /** Inactivity reclaim (`reclaim()`) and the account-status check (`checkAccounts()`), jobs/holderChecks.ts. */
  readonly holderChecks: HolderChecks;
  /** Whether Slack is waiting on the bot, which slows the outbox down or holds it. */
  readonly slackDemand: SlackDemand;
  readonly ctx: AppContext;
  /**
   * Reads the catalog file again (SIGHUP): a good one is in force for the next request; a bad
   * one, or one that changes the connectors: block, is refused, logged and told to ADMIN_CHANNEL.
   */
  reloadCatalog(reason: string): ReloadOutcome;
  /** Base URL once started, e.g. http://127.0.0.1:3000 */
  url: string;
  /** Base URL of the metrics port once started, when `METRICS_PORT` is set. */
  metricsUrl?: string;
  start(): Promise<void>;
  /** Stops taking work, finishes or releases effects in flight, closes the database. */
  stop(graceMs?: number): Promise<void>;
}

export function createAccessBot(opts: ComposeOptions): AccessBot {
  const { config, logger } = opts;
  const now = opts.now ?? Date.now;
  // One process per SQLite database (adapters/sqlite/lock.ts): throws, naming the holder, when
  // taken. Postgres takes no such lock: replicas share it (adapters/postgres/db.ts).
  const lock = config.databaseUrl ? { release: () => undefined } : lockDatabase(config.databasePath);
  let storage: Storage;
  try {
    storage = openStorage(config, now, logger);
  } catch (err) {
    lock.release();
    throw err;
  }
  const { db, outbox, store, groupMembers } = storage;
  const checkpointer = db ? Checkpointer.start(db, config.databasePath, logger) : undefined;

  const web = new SlackApi(config.slack.botToken, config.slack.apiUrl, 10_000, now);
  // users.info answers are kept in the database for their minute, so a restart does not empty the cache.
  const slack = new SlackGateway(web, now, USER_CACHE_TTL_MS, storage.slackUsers);
  const jira = opts.jira ?? jiraRecord(config);
  // Jira's accounts and the poll's search, over a client of their own (`opts.jira` may be a test double of the record).
  const jiraApi = jiraRecord(config);
  const connectors: Record<string, IdpConnector> = { ...buildConnectors(config, { now }), ...opts.connectors };

  const catalogLog = logger.child({ component: 'catalog' });
  const catalog = new CatalogReloader({
    path: config.catalogPath,
    initial: opts.catalog,
    ...catalogOptionsOf(config),
    logger: catalogLog,
    ...(opts.watchCatalog?.debounceMs !== undefined ? { debounceMs: opts.watchCatalog.debounceMs } : {}),
    onRefused: (errors, reason) => {
      try {
        store.tx((tx) => alertAdmins({ store: tx, adminChannel: config.adminChannel }, catalogRefusedText(config.catalogPath, reason, errors)));
      } catch (err) {
        catalogLog.error({ err: (err as Error).message }, 'could not queue the admin alert about the refused catalog');
      }
    },
  });

  const ctx: AppContext = {
    store,
    reviews: storage.reviews,
    catalog: () => catalog.current(),
    now,
    logger,
    connectors,
    people: new People({ slack, jira: new JiraUsers(jiraApi), managerSource: config.managerSource ? managerSource(connectors, config.managerSource) : undefined, logger }),
    onCall: onCallLookup(config, { now, logger, deadlineMs: opts.onCallDeadlineMs }),
    adminChannel: config.adminChannel,
    allowGuests: config.allowGuests,
    // Runs after the transaction that changed an expiry, by which time `scheduler` exists.
    onExpiryChanged: () => queueMicrotask(() => scheduler.reschedule()),
  };
  // Every write that changes a request re-publishes the Homes of the people it concerns.
  store.watchRequests((tx, requestId) => refreshHomesOf(tx, now(), requestId));
  const scheduler = new ExpiryScheduler({ expireDue: () => expireDue(ctx), nextExpiry: () => store.nextExpiry(), now, logger, sweep: opts.sweep });

  // Expiry warnings and access reviews ride the same tick: their points are indexed like the routing timers'.
  const reviewSchedules = new ReviewSchedules(ctx);
  const timers = new RoutingTimers(() => runDueTimers(ctx) + runDueWarnings(ctx) + runDueReviews(ctx) + reviewSchedules.tick(), logger);

  // One replica per scheduled run (jobs/runClaims.ts).
  const claims = storeRunClaims(store, now);
  const memberSync = new MemberSync({
    connectors,
    claims,
    catalog: () => catalog.current(),
    store: groupMembers,
    now,
    logger: logger.child({ component: 'member-sync' }),
    ...(config.memberSyncSchedule !== undefined ? { schedule: config.memberSyncSchedule } : {}),
    ...opts.memberSync,
  });

  const feed = new JiraIssueFeed(jiraApi, now);
  const jiraPoll = new JiraPollJob({
    poll: () => pollJira(ctx, feed),
    enabled: () => Boolean(catalog.current().jira.intake ?? catalog.current().jira.statuses),
    logger: logger.child({ component: 'jira-poll' }),
    claims,
    intervalMs: opts.jiraPollMs ?? config.jira.pollIntervalMs ?? DEFAULT_JIRA_POLL_MS,
  });

  const holderChecks = new HolderChecks(ctx, groupMembers, claims, {
    ...(config.reclaimSchedule !== undefined ? { reclaimSchedule: config.reclaimSchedule } : {}),
    ...(config.offboardingSchedule !== undefined ? { offboardingSchedule: config.offboardingSchedule } : {}),
    ...opts.holderChecks,
  });

  // Slack waits on its requests, and on a burst still being accepted (SlackDemand); nobody waits
  // on an effect to the millisecond. onEased runs once requests come, when `dispatcher` exists.
  const slackDemand = new SlackDemand({ ...opts.slackBurst, onEased: () => dispatcher.wake() });
  const dispatcher = new Dispatcher({
    outbox,
    reserved: EFFECT_LANES,
    logger: logger.child({ component: 'outbox' }),
    now,
    handlers: {
      ...appHandlers(ctx),
      ...slackHandlers(ctx, slack),
      ...homeHandlers(ctx, slack),
      ...reclaimHandlers(ctx, slack),
      ...jiraHandlers(ctx, jira),
      ...statusChangeHandlers(ctx, new JiraIssueReads(jiraApi)),
      ...reviewHandlers(ctx),
      ...reviewSlackHandlers(ctx, slack),
      ...reviewJiraHandlers(ctx, jira),
    },
    foreground: () => slackDemand.waiting(),
    held: () => slackDemand.holding(),
    ...opts.dispatcher,
  });

  // An effect enqueued by another replica (Postgres NOTIFY): run it now, not at the next poll;
  // and look at the next expiry again (a grant made there may expire first). Coalesced: a burst
  // of notifications costs one look.
  let remoteWakePending = false;
  const remoteWake = () => {
    dispatcher.wake();
    if (remoteWakePending) return;
    remoteWakePending = true;
    setImmediate(() => {
      remoteWakePending = false;
      scheduler.reschedule();
    });
  };

  let ready = false;
  const metricsHandler = (_req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(metricsText(storage.sql, outbox, dispatcher, slackDemand.inFlight));
  };
  const metricsLog = logger.child({ component: 'metrics' });
  const metricsRoute: HttpRoute = {
    path: '/metrics',
    method: 'GET',
    handler: config.metrics?.token ? requireBearer(config.metrics.token, metricsHandler, metricsLog) : metricsHandler,
  };
  // With METRICS_PORT, /metrics is served there only (see start()); /healthz stays on PORT, open.
  const metricsPort = config.metrics?.port;
  const routes: HttpRoute[] = [
    {
      path: '/healthz',
      method: 'GET',
      handler: (_req: IncomingMessage, res: ServerResponse) => {
        const ok = ready && dispatcher.isRunning;
        res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ok, outbox: outbox.counts() }));
      },
    },
    ...(metricsPort === undefined ? [metricsRoute] : []),
  ];

  if (config.jira.webhookSecret) {
    routes.push({ path: '/webhooks/jira', method: 'POST', handler: jiraWebhookHandler(ctx, config.jira.webhookSecret, logger.child({ component: 'jira-webhook' })) });
  }

  const socketMode = Boolean(config.slack.appToken);
  const slackLog = logger.child({ component: 'slack' });
  // HTTP mode: our own server answers Slack (adapters/slack/inbound.ts); Bolt is loaded only for
  // Socket Mode, where it holds the WebSocket.
  const router = socketMode ? undefined : new SlackRouter();
  if (router) registerListeners(router, ctx, web, slackLog, (fn) => slackDemand.afterHold(fn));
  let socketApp: { stop(): Promise<unknown> } | undefined;
  let server: Server | undefined;
  let metricsServer: Server | undefined;
  let pruner: NodeJS.Timeout | undefined;
  const prune = () => {
    try {
      const pruned = pruneDeliveries(ctx);
      if (pruned > 0) logger.info({ pruned }, 'forgot inbound deliveries past their retention');
    } catch (err) {
      logger.error({ err: (err as Error).message }, 'pruning inbound deliveries failed');
    }
  };

  const bot: AccessBot = {
    get db(): Db {
      if (!db) throw new Error('bot.db is the SQLite connection; this bot runs on Postgres (use bot.sql)');
      return db;
    },
    sql: storage.sql,
    storageKind: storage.kind,
    store,
    outbox,
    dispatcher,
    scheduler,
    timers,
    memberSync,
    groupMembers,
    jiraPoll,
    holderChecks,
    slackDemand,
    ctx,
    reloadCatalog: (reason) => catalog.reload(reason),
    url: '',
    async start() {
      const warmUpFrom = performance.now();
      if (router && opts.warmUpRequests) await warmUpInbound({ logger: slackLog, requests: opts.warmUpRequests });
      const warmUpMs = Math.round(performance.now() - warmUpFrom);
      // The checkpoint worker boots meanwhile on a thread of its own; it is start-up work too.
      await checkpointer?.ready;
      dispatcher.start();
      storage.onRemoteWake(remoteWake);
      // Slack told another replica (or this one) that a user changed: drop the copy held here too.
      storage.onSlackUserForgotten((id) => {
        slack.dropCached(id);
        slackLog.debug({ user: id }, 'a replica forgot a Slack user; dropped the copy held here');
      });
      if (opts.watchCatalog) catalog.start();
      scheduler.start();
      timers.start();
      memberSync.start();
      startIntake(ctx);
      jiraPoll.start();
      holderChecks.start();
      prune();
      pruner = setInterval(prune, PRUNE_EVERY_MS);
      pruner.unref();
      const limits = { ...DEFAULT_LIMITS, ...opts.limits };
      if (router) {
        const s = createServer(serverOptions(limits), slackRequestListener({ signingSecret: config.slack.signingSecret, router, routes, logger: slackLog, load: slackDemand, maxBodiesInFlight: limits.maxBodiesInFlight }));
        applyLimits(s, limits);
        server = s;
        await listen(s, config.port);
      } else {
        const { App } = await import('@slack/bolt');
        const boltLog = boltLogger(logger);
        const app = new App({
          // Our own authorize, not `token`: with `token` and no start-up auth.test, Bolt 4.7
          // calls auth.test before every incoming request (bench/README.md). The bot needs no
          // bot id (ignoreSelf is off).
          authorize: async () => ({ botToken: config.slack.botToken }),
          logger: boltLog,
          clientOptions: { slackApiUrl: config.slack.apiUrl, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true, timeout: 10_000, logger: boltLog },
          ignoreSelf: false,
          signingSecret: config.slack.signingSecret,
          customRoutes: routes.map((r) => ({ path: r.path, method: [r.method], handler: r.handler })),
          socketMode: true,
          appToken: config.slack.appToken,
          installerOptions: { port: config.port },
        });
        registerListeners(boltRegistry(app), ctx, web, slackLog);
        app.error(async (err) => {
          logger.error({ err: err.message, code: (err as { code?: string }).code }, 'slack listener failed');
        });
        await app.start();
        socketApp = app;
      }
      const metricsAt: { metricsPort?: number } = {};
      if (metricsPort !== undefined) {
        const s = createServer(serverOptions(limits), oneRouteListener(metricsRoute, metricsLog));
        applyLimits(s, limits);
        metricsServer = s;
        await listen(s, metricsPort);
        metricsAt.metricsPort = (s.address() as AddressInfo).port;
        bot.metricsUrl = `http://127.0.0.1:${metricsAt.metricsPort}`;
      }
      const addr = server?.address() as AddressInfo | null | undefined;
      bot.url = `http://127.0.0.1:${addr?.port ?? config.port}`;
      ready = true;
      logger.info({ port: addr?.port ?? config.port, ...metricsAt, socketMode, warmUpMs }, 'access-bot ready');
    },
    async stop(graceMs = 5000) {
      ready = false;
      catalog.stop();
      if (pruner) clearInterval(pruner);
      scheduler.stop();
      timers.stop();
      await memberSync.stop();
      await jiraPoll.stop();
      await holderChecks.stop();
      if (metricsServer) await closeServer(metricsServer);
      slackDemand.stop();
      if (server) {
        await closeServer(server);
      } else {
        await socketApp?.stop().catch((err: Error) => logger.warn({ err: err.message }, 'stopping the Slack receiver failed'));
      }
      await dispatcher.stop(graceMs);
      await checkpointer?.stop();
      storage.close();
      lock.release();
      logger.info('access-bot stopped');
    },
  };
  return bot;
}

/** The Jira record (the bot's issues and comments); `timeoutMs` per request (default 15 s). */
export function jiraRecord(config: Config, opts: { timeoutMs?: number } = {}): JiraCloudRecord {
  return JiraCloudRecord.fromConfig({ host: config.jira.host, email: config.jira.email, apiToken: config.jira.apiToken, ...opts });
}

/**
 * Builds each configured connector instance from its type's descriptor. Throws, naming the
 * problem, when one cannot be set up (e.g. Google's key file became unreadable): start-up fails.
 */
export function buildConnectors(config: Config, deps: { now?: () => number } = {}): Record<string, IdpConnector> {
  return Object.fromEntries(config.connectors.map((c) => [c.name, buildConnector(c, deps)]));
}

export function buildConnector(instance: ConnectorConfig, deps: { now?: () => number } = {}): IdpConnector {
  const d = connectorType(instance.type);
  if (!d) throw new Error(`connector ${instance.name}: this build of access-bot has no ${instance.type} connector`);
  return d.create(instance.settings, { name: instance.name, ...deps });
}

/** Plain text for ADMIN_CHANNEL (alertAdmins escapes it): what was refused, then one problem a line. */
function catalogRefusedText(path: string, reason: string, errors: string[]): string {
  return [`The catalog edit in ${path} was not applied (${reason}); access-bot keeps the last good catalog. Fix these and save again:`, ...errors].join('\n');
}

/** The on-call services the configuration turns on, behind the one-minute look-up cache (app/onCall.ts). */
export function onCallLookup(config: Config, deps: { now?: () => number; logger: Pick<Logger, 'warn'>; deadlineMs?: number | undefined }): OnCallLookup {
  const now = deps.now ?? Date.now;
  return new OnCallLookup({ services: buildOnCall(config.onCall, { now }), now, logger: deps.logger, ...(deps.deadlineMs !== undefined ? { deadlineMs: deps.deadlineMs } : {}) });
}

/** The configured instance `access-bot catalog import --connector` names, which must list its groups. */
export function groupDirectory(config: Config, name: string): IdpConnectorWith<'groupDirectory'> {
  const instance = config.connectors.find((c) => c.name === name);
  if (!instance) {
    const names = config.connectors.map((c) => c.name);
    throw new Error(`no connector named ${name} is configured (${names.length > 0 ? `configured: ${names.join(', ')}` : 'none is'})`);
  }
  return connectorWith({ [name]: buildConnector(instance) }, name, 'groupDirectory');
}

/** MANAGER_SOURCE's connector, which must look users up and know their managers. */
function managerSource(connectors: Readonly<Record<string, IdpConnector>>, name: string): IdpConnectorWith<'userDirectory' | 'managerSource'> {
  try {
    return connectorWith(connectors, name, 'userDirectory', 'managerSource');
  } catch (err) {
    throw new Error(`MANAGER_SOURCE: ${(err as Error).message}`);
  }
}

function metricsText(sql: SqlReader, outbox: Outbox<'sync', TxStore>, dispatcher: Dispatcher<TxStore>, slackWaiting: number): string {
  const lines: string[] = [];
  lines.push(
    '# HELP access_bot_slack_requests_waiting Signed Slack requests being handled now (while any are, the outbox runs fewer effects at once).',
    '# TYPE access_bot_slack_requests_waiting gauge',
    `access_bot_slack_requests_waiting ${slackWaiting}`,
  );
  lines.push('# HELP access_bot_requests Requests by state.', '# TYPE access_bot_requests gauge');
  // Kept by triggers (migrations/004_request_counts.sql): no scan of the requests table.
  for (const r of sql.all<{ state: string; n: number }>('SELECT state, n FROM request_counts ORDER BY state')) {
    lines.push(`access_bot_requests{state="${r.state}"} ${r.n}`);
  }
  lines.push('# HELP access_bot_outbox_effects Outbox effects not yet done, by status.', '# TYPE access_bot_outbox_effects gauge');
  for (const [status, n] of Object.entries(outbox.counts())) if (status !== 'done') lines.push(`access_bot_outbox_effects{status="${status}"} ${n}`);
  lines.push('# HELP access_bot_effects_total Effect runs since start, by kind and outcome.', '# TYPE access_bot_effects_total counter');
  for (const [kind, k] of Object.entries(dispatcher.stats.byKind)) {
    for (const [outcome, n] of Object.entries(k)) lines.push(`access_bot_effects_total{kind="${kind}",outcome="${outcome}"} ${n}`);
  }
  return `${lines.join('\n')}\n`;
}
