/**
 * Keeps the catalog current without a restart: the file is re-read when its directory changes
 * (fs.watch, debounced) and on demand (SIGHUP, main.ts). The directory, not the file, is
 * watched: editors that save by writing a new file and renaming it over the old one, and
 * Kubernetes ConfigMaps that swap a symlink, replace the inode a file watch would hold. Any
 * event there leads to a read, and only a text that differs from the last one seen counts.
 *
 * A text that does not validate, or that changes the `connectors:` block (connector instances
 * are built once, at start-up), is refused: the last good catalog stays, and `onRefused` gets
 * one line per problem. Requests already made keep the policy they were routed with (their
 * snapshot in the store); a new catalog applies to what comes next.
 */
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { loadCatalog, parseCatalog } from '../config/catalog.js';
import { connectorsBlockOf } from '../config/connectors.js';
import type { Catalog, ConnectorName } from '../domain/catalog.js';
import type { OnCallServiceType } from '../domain/onCall.js';

export type ReloadOutcome =
  | { status: 'applied'; catalog: Catalog }
  | { status: 'unchanged' }
  | { status: 'refused'; errors: string[] };

export interface CatalogReloaderOptions {
  path: string;
  /** The catalog the bot started with. */
  initial: Catalog;
  configuredConnectors: readonly ConnectorName[];
  /** The on-call services configured (rules' `onCall` may name only these). */
  configuredOnCall?: readonly OnCallServiceType[];
  logger: Logger;
  /** Told of a refused text, with its problems (one line each). */
  onRefused(errors: string[], reason: string): void;
  /** Quiet time after the last change event before the file is read. Default 300 ms. */
  debounceMs?: number;
  readFile?: (path: string) => string;
}

const DEFAULT_DEBOUNCE_MS = 300;

export class CatalogReloader {
  private catalog: Catalog;
  /** The `connectors:` block at start-up, canonical; undefined when the file had none. */
  private readonly connectorsBlock: string | undefined;
  /** The last text read (applied or refused): a watch event with the same text is no edit. */
  private lastText: string | undefined;
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly debounceMs: number;
  private readonly read: (path: string) => string;

  constructor(private readonly opts: CatalogReloaderOptions) {
    this.catalog = opts.initial;
    this.debounceMs = opts.debounceMs ?? DEFAULT_DEBOUNCE_MS;
    this.read = opts.readFile ?? ((p) => readFileSync(p, 'utf8'));
    this.lastText = this.tryRead();
    this.connectorsBlock = this.lastText === undefined ? undefined : connectorsBlock(this.lastText);
  }

  /** The catalog in force. */
  current(): Catalog {
    return this.catalog;
  }

  start(): void {
    try {
      this.watcher = watch(dirname(this.opts.path), { persistent: false }, () => this.schedule());
      this.watcher.on('error', (err) => this.opts.logger.warn({ err: err.message, path: this.opts.path }, 'watching the catalog stopped; send SIGHUP to reload it'));
    } catch (err) {
      this.opts.logger.warn({ err: (err as Error).message, path: this.opts.path }, 'cannot watch the catalog file; send SIGHUP to reload it');
    }
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.watcher?.close();
    this.watcher = undefined;
  }

  /**
   * Reads the file now. `reason` is logged ("file changed", "SIGHUP"). An explicit reload
   * reports a refused text again even when it was refused before; a watch event does not.
   */
  reload(reason: string, opts: { force?: boolean } = { force: true }): ReloadOutcome {
    const text = this.tryRead();
    if (!opts.force && text !== undefined && text === this.lastText) return { status: 'unchanged' };
    this.lastText = text;
    const { configuredConnectors, configuredOnCall } = this.opts;
    // Without a text, loadCatalog reads again and words why (not found, unreadable).
    const loaded =
      text === undefined ? loadCatalog(this.opts.path, { configuredConnectors, configuredOnCall, readFile: this.read }) : parseCatalog(text, { configuredConnectors, configuredOnCall, source: this.opts.path });
    const errors = loaded.ok ? [] : [...loaded.errors];
    if (loaded.ok && text !== undefined && connectorsBlock(text) !== this.connectorsBlock) {
      errors.push('connectors: the connectors: block changed; connector instances are built at start-up, so restart access-bot to apply this edit');
    }
    if (!loaded.ok || errors.length > 0) {
      this.opts.logger.error({ reason, path: this.opts.path, errors }, 'catalog edit refused; keeping the last good catalog');
      this.opts.onRefused(errors, reason);
      return { status: 'refused', errors };
    }
    this.catalog = loaded.catalog;
    this.opts.logger.info({ reason, path: this.opts.path, applications: loaded.catalog.applications.map((a) => a.id) }, 'catalog reloaded');
    return { status: 'applied', catalog: loaded.catalog };
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      try {
        this.reload('file changed', { force: false });
      } catch (err) {
        this.opts.logger.error({ err: (err as Error).message }, 'reloading the catalog failed');
      }
    }, this.debounceMs);
    this.timer.unref();
  }

  private tryRead(): string | undefined {
    try {
      return this.read(this.opts.path);
    } catch {
      return undefined;
    }
  }
}

/** The raw `connectors:` block, as canonical JSON (key order does not count as a change). */
function connectorsBlock(text: string): string | undefined {
  const block = connectorsBlockOf('catalog', () => text);
  return block === undefined ? undefined : JSON.stringify(canonical(block));
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])]));
  return v;
}
