/**
 * Every connector type the bot knows. Adding a connector: a folder beside these (its connector
 * and its descriptor), an emulator in test/emulators/, and one line here.
 */
import type { ConnectorDescriptor } from './descriptor.js';
import { atlassian } from './atlassian/descriptor.js';
import { atlassianOrg } from './atlassian-org/descriptor.js';
import { awsSso } from './aws-sso/descriptor.js';
import { bitbucketDc } from './bitbucket-dc/descriptor.js';
import { entra } from './entra/descriptor.js';
import { github } from './github/descriptor.js';
import { google } from './google/descriptor.js';
import { okta } from './okta/descriptor.js';

/** In this order the default instances are listed, and the first that knows managers is the default MANAGER_SOURCE. */
export const CONNECTOR_TYPES: readonly ConnectorDescriptor[] = [okta, entra, google, atlassian, github, atlassianOrg, bitbucketDc, awsSso];

export function connectorType(type: string): ConnectorDescriptor | undefined {
  return CONNECTOR_TYPES.find((d) => d.type === type);
}
