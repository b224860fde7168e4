/**
 * A reference for the ack measurement: Bolt's HTTP receiver with listeners that only ack (no
 * database, no outbox, no auth.test: botId and botUserId are given), in a process of its own.
 * What it sustains on this machine is the most any Bolt app can do here.
 *
 * Started by bench/ack.ts; tells the parent its port over IPC.
 */
import { App, LogLevel } from '@slack/bolt';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

const app = new App({
  token: 'xoxb-bench-floor',
  signingSecret: process.env.SLACK_SIGNING_SECRET ?? '',
  botId: 'B0FLOOR',
  botUserId: 'U0FLOOR',
  tokenVerificationEnabled: false,
  logLevel: LogLevel.ERROR,
});
app.command('/access', async ({ ack }) => {
  await ack();
});
app.action({ action_id: 'approve' }, async ({ ack }) => {
  await ack();
});
app.view('access_request', async ({ ack }) => {
  await ack();
});

const server = (await app.start(0)) as unknown as Server;
process.send?.({ port: (server.address() as AddressInfo).port });
process.on('disconnect', () => process.exit(0));
