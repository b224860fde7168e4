/**
 * Process entry: read the environment and catalog (failing fast, one line per problem), start
 * the bot, and stop cleanly on SIGTERM/SIGINT within 10 seconds.
 */
import { createAccessBot } from './compose.js';
import { loadCatalog } from './config/catalog.js';
import { connectorsOf, loadConfig } from './config/env.js';
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
  const cat = loadCatalog(config.catalogPath, { configuredConnectors: connectorsOf(config) });
  if (!cat.ok) {
    for (const line of cat.errors) process.stderr.write(`catalog error: ${line}\n`);
    process.exit(1);
  }
  const logger = createLogger(config.logLevel, secretsOf(config));
  const bot = createAccessBot({ config, catalog: cat.catalog, logger });

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
  await bot.start();
}

main().catch((err: Error) => {
  process.stderr.write(`access-bot failed to start: ${err.message}\n`);
  process.exit(1);
});
