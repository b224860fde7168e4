/**
 * Process entry: read the environment and catalog (failing fast, one line per problem), start
 * the bot, and stop cleanly on SIGTERM/SIGINT within 10 seconds. SIGHUP re-reads the catalog.
 */
import { WARM_UP_REQUESTS } from './adapters/slack/warmUp.js';
import { createAccessBot } from './compose.js';
import { loadCatalog } from './config/catalog.js';
import { catalogOptionsOf, loadConfig } from './config/env.js';
import { secretsOf } from './config/types.js';
import { createLogger } from './logger.js';

const SHUTDOWN_DEADLINE_MS = 10_000;

async function main(): Promise<void> {
  const cfg = loadConfig(process.env);
  if (!cfg.ok) {
    for (const line of cfg.errors) process.stderr.write(`config error: ${line}\n`);
    process.exit(1);
  }
  const config = cfg.config;
  const cat = loadCatalog(config.catalogPath, catalogOptionsOf(config));
  if (!cat.ok) {
    for (const line of cat.errors) process.stderr.write(`catalog error: ${line}\n`);
    process.exit(1);
  }
  const logger = createLogger(config.logLevel, secretsOf(config));
  // A rejection nobody handled is a bug in one request's or effect's path, not in the process's
  // state: it is logged and the bot keeps serving (every effect is in the outbox and is retried
  // or buried there). An exception thrown out of a callback may have left anything half-done:
  // it is logged and the process exits 1 for its supervisor to restart it; the outbox and the
  // expiry sweep pick up where it stopped.
  process.on('unhandledRejection', (reason) => {
    logger.error({ err: reason instanceof Error ? { message: reason.message, stack: reason.stack } : String(reason) }, 'unhandled promise rejection (kept serving)');
  });
  process.on('uncaughtException', (err) => {
    logger.fatal({ err: { message: err.message, stack: err.stack } }, 'uncaught exception; exiting');
    process.exit(1);
  });
  const bot = createAccessBot({ config, catalog: cat.catalog, logger, warmUpRequests: WARM_UP_REQUESTS, watchCatalog: {} });

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const hard = setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS);
    hard.unref();
    bot.stop(SHUTDOWN_DEADLINE_MS - 3000).then(
      () => process.exit(0),
      (err: Error) => {
        logger.error({ err: err.message }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  // Re-reads the catalog (where the file watch cannot see a change, e.g. a symlink into another
  // directory or a network filesystem); a bad file is refused and the last good one stays.
  process.on('SIGHUP', () => {
    if (!stopping) bot.reloadCatalog('SIGHUP');
  });
  await bot.start();
}

main().catch((err: Error) => {
  process.stderr.write(`access-bot failed to start: ${err.message}\n`);
  process.exit(1);
});
