/**
 * A package loaded the first time it is needed instead of when the bot starts. The connectors'
 * SDKs (jira.js with zod and axios, @googleapis/admin, the Graph client, two AWS SDK clients) are
 * ~530 + 100 + 40 + 60 modules and 60–100 MB of memory together (bench/README.md), and most
 * deployments configure one or two connector types: a connector's SDK is loaded when the first
 * instance of its type is built, synchronously, as connectors are built at start-up.
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
