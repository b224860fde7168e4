/**
 * What-if for the lead (not part of `npm run bench`): the bot as it would run if Bolt called
 * `auth.test` once instead of before every incoming request (what passing `botId` and
 * `botUserId` to `new App()`, or an `authorize` that caches, would do; see bench/README.md).
 *
 *   BENCH_WHATIF=bolt-auth npm run bench -- --quick --only ack,latency,throughput
 */
import { WebClient } from '@slack/web-api';

const original = WebClient.prototype.apiCall;
let cached: ReturnType<typeof original> | undefined;
WebClient.prototype.apiCall = function (this: WebClient, method: string, options?: Record<string, unknown>) {
  if (method === 'auth.test') return (cached ??= original.call(this, method, options));
  return original.call(this, method, options);
} as typeof original;

await import('./bot.js');
