/** Reads a group's whole membership through a connector's MemberListing, page by page. */
import type { IdpMember, MemberListing } from '../../src/app/ports/idp.js';

export async function allMembers(connector: MemberListing, group: string, size: number): Promise<{ members: IdpMember[]; pages: number }> {
  const members: IdpMember[] = [];
  let pages = 0;
  let cursor: string | undefined;
  do {
    const page = await connector.listMembers(group, cursor === undefined ? { size } : { cursor, size });
    members.push(...page.members);
    cursor = page.next;
    pages += 1;
  } while (cursor !== undefined && pages < 100);
  return { members, pages };
}
