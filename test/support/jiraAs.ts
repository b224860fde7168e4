/**
 * What a person does in Jira's UI, done through the REST API under their own credentials
 * (`JiraEmulator.authAs`), so Jira records them as the actor and sends its webhook with them as
 * `user` (the emulator's admin webhook, registered by the harness's `jiraWebhook`):
 * - moving an issue: a transition the workflow offers from its status now
 *   (`GET`/`POST /rest/api/3/issue/{key}/transitions`);
 * - commenting (`POST /rest/api/3/issue/{key}/comment`, an ADF body).
 */
import type { EmuUser, JiraEmulator } from '../emulators/jira.js';

export class JiraAs {
  constructor(private readonly jira: JiraEmulator) {}

  /** `user` moves the issue to the status `to`; fails when the workflow offers no transition there. */
  async move(user: EmuUser, key: string, to: string): Promise<void> {
    const auth = this.jira.authAs(user);
    const list = (await (await fetch(`${this.jira.url}/rest/api/3/issue/${key}/transitions`, { headers: { authorization: auth, accept: 'application/json' } })).json()) as {
      transitions: { id: string; to: { name: string } }[];
    };
    const t = list.transitions.find((x) => x.to.name === to);
    if (!t) throw new Error(`Jira offers no transition of ${key} to "${to}" (from "${this.jira.issue(key)?.status}")`);
    const res = await fetch(`${this.jira.url}/rest/api/3/issue/${key}/transitions`, {
      method: 'POST',
      headers: { authorization: auth, 'content-type': 'application/json' },
      body: JSON.stringify({ transition: { id: t.id } }),
    });
    if (res.status !== 204) throw new Error(`moving ${key} to "${to}" failed: ${res.status} ${await res.text()}`);
  }

  /** `user` comments on the issue. */
  async comment(user: EmuUser, key: string, text: string): Promise<void> {
    const res = await fetch(`${this.jira.url}/rest/api/3/issue/${key}/comment`, {
      method: 'POST',
      headers: { authorization: this.jira.authAs(user), 'content-type': 'application/json' },
      body: JSON.stringify({ body: { type: 'doc', version: 1, content: [{ type: 'paragraph', content: [{ type: 'text', text }] }] } }),
    });
    if (res.status !== 201) throw new Error(`commenting on ${key} failed: ${res.status} ${await res.text()}`);
  }
}
