/** The on-call services (app/ports/onCall.ts) the configuration turns on, built for compose.ts. */
import type { OnCallService } from '../../app/ports/onCall.js';
import type { OnCallConfig } from '../../config/onCall.js';
import { JsmOpsOnCall } from './jsm-ops/client.js';
import { PagerDutyOnCall } from './pagerduty/client.js';

export function buildOnCall(config: readonly OnCallConfig[], deps: { now?: () => number } = {}): OnCallService[] {
  return config.map((c) => (c.type === 'pagerduty' ? PagerDutyOnCall.fromConfig(c, deps) : JsmOpsOnCall.fromConfig(c, deps)));
}
