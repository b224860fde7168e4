/** Finding a configured connector instance that can do what a use case needs. */
import { PermanentError } from '../outbox/errors.js';
import type { Deps } from './context.js';
import { CAPABILITY_WORDS, hasCapability, type Capability, type IdpConnector, type IdpConnectorWith } from './ports/idp.js';

/**
 * The connector instance `name`, with the capabilities asked for. A name that is not configured,
 * or a connector that lacks a capability, is a PermanentError saying which: retrying cannot help.
 */
export function connectorWith<C extends Capability>(connectors: Readonly<Record<string, IdpConnector>>, name: string, ...capabilities: C[]): IdpConnectorWith<C> {
  const c = Object.hasOwn(connectors, name) ? connectors[name] : undefined;
  if (!c) throw new PermanentError(`the ${name} connector is not configured`, 'connector_not_configured');
  const missing = capabilities.filter((cap) => !hasCapability(c, cap));
  if (missing.length > 0) {
    throw new PermanentError(`the ${name} connector (${c.type}) cannot ${missing.map((m) => CAPABILITY_WORDS[m]).join(', nor ')}`, 'connector_lacks_capability');
  }
  return c as IdpConnectorWith<C>;
}

/** The connector instance a membership effect names: it must find users and change memberships. */
export function connectorFor(ctx: Deps<'connectors'>, name: string): IdpConnectorWith<'userDirectory' | 'memberships'> {
  return connectorWith(ctx.connectors, name, 'userDirectory', 'memberships');
}
