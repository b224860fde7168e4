/**
 * A package loaded the first time it is needed instead of when the bot starts. The connectors'
 * SDKs (jira.js with zod and axios, @googleapis/admin, the Graph client, two AWS SDK clients) are
 * about 1,000 modules and 27 MB of memory together, each 25–210 ms to load, and most deployments
 * configure one or two connector types. A connector's SDK is loaded synchronously when the first
 * instance of its type is built, as connectors are built at start-up; the Atlassian connector,
 * on whenever Jira is configured, loads jira.js at its first call (test/unit/lazy-sdks.test.ts).
 *
 * Every package given here ships a CommonJS build (`main`, or the `require` condition of its
 * `exports`), which is what `require` loads: the same API as its ES module build.
 */
import { createRequire } from 'node:module';

const requireHere = createRequire(import.meta.url);

export function lazyModule<T>(specifier: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= requireHere(specifier) as T);
}
