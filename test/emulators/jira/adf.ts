/**
 * Atlassian Document Format as Jira Cloud takes it: validation as strict as Jira is on the shapes
 * the bot writes (descriptions and comments), the length limit of text fields, and plain text
 * and HTML views of a document for assertions and `renderedBody`.
 */
import { isObject } from './wire.js';

const BLOCK_TYPES = new Set([
  'paragraph', 'heading', 'bulletList', 'orderedList', 'listItem', 'blockquote', 'codeBlock', 'rule', 'panel',
  'table', 'tableRow', 'tableHeader', 'tableCell', 'mediaSingle', 'mediaGroup', 'media', 'expand', 'nestedExpand',
  'taskList', 'taskItem', 'decisionList', 'decisionItem', 'blockCard', 'embedCard',
]);
const INLINE_TYPES = new Set(['text', 'hardBreak', 'mention', 'emoji', 'inlineCard', 'date', 'status', 'mediaInline']);
const MARK_TYPES = new Set(['strong', 'em', 'code', 'strike', 'underline', 'link', 'subsup', 'textColor', 'backgroundColor']);

/**
 * `'not-doc'` when the value is not an ADF document at all (Jira: "Operation value must be an
 * Atlassian Document (see the Atlassian Document Format)"), `'invalid'` when it is a document
 * that breaks the schema (Jira: 400 `{"errorMessages":["INVALID_INPUT"],"errors":{}}`, with no
 * detail; an empty text node is one such case, JRACLOUD-79318), undefined when it is valid.
 */
export function adfProblem(v: unknown): 'not-doc' | 'invalid' | undefined {
  if (!isObject(v) || v['type'] !== 'doc') return 'not-doc';
  if (v['version'] !== 1 || !Array.isArray(v['content'])) return 'invalid';
  return (v['content'] as unknown[]).every((n) => validNode(n, 'block')) ? undefined : 'invalid';
}

function validNode(n: unknown, where: 'block' | 'inline'): boolean {
  if (!isObject(n) || typeof n['type'] !== 'string') return false;
  const type = n['type'];
  if (where === 'inline' ? !INLINE_TYPES.has(type) : !BLOCK_TYPES.has(type)) return false;
  if (type === 'text') {
    if (typeof n['text'] !== 'string' || n['text'].length === 0 || n['content'] !== undefined) return false;
    const marks = n['marks'];
    if (marks !== undefined) {
      if (!Array.isArray(marks)) return false;
      const names = marks.map((m) => (isObject(m) ? m['type'] : undefined));
      if (!names.every((m) => typeof m === 'string' && MARK_TYPES.has(m))) return false;
      // The code mark combines with link only.
      if (names.includes('code') && names.some((m) => m !== 'code' && m !== 'link')) return false;
    }
    return true;
  }
  const content = n['content'];
  if (content === undefined) return !['bulletList', 'orderedList', 'listItem'].includes(type);
  if (!Array.isArray(content)) return false;
  if (['bulletList', 'orderedList'].includes(type)) {
    return content.length > 0 && content.every((c) => isObject(c) && c['type'] === 'listItem' && validNode(c, 'block'));
  }
  if (type === 'listItem' && content.length === 0) return false;
  const childWhere = ['paragraph', 'heading'].includes(type) ? 'inline' : 'block';
  return content.every((c) => validNode(c, childWhere));
}

/** Plain text of an ADF value, for assertions (independent of the bot's own adfToText). */
export function flatten(v: unknown): string {
  if (!isObject(v)) return '';
  if (v['type'] === 'text') return typeof v['text'] === 'string' ? v['text'] : '';
  if (v['type'] === 'hardBreak') return '\n';
  const kids = Array.isArray(v['content']) ? (v['content'] as unknown[]) : [];
  const sep = ['doc', 'bulletList', 'orderedList', 'listItem'].includes(String(v['type'])) ? '\n' : '';
  const prefix = v['type'] === 'listItem' ? '- ' : '';
  return prefix + kids.map(flatten).join(sep);
}

/** Serialized-length limit of multi-line text fields; the message seen from Jira for longer text. */
export const TEXT_LIMIT = 32_767;
export const TOO_LONG = 'The entered text is too long. It exceeds the allowed limit of 32,767 characters.';
export const NOT_ADF = 'Operation value must be an Atlassian Document (see the Atlassian Document Format)';

/** `renderedBody` of a comment: its plain text in a paragraph (Jira renders the full HTML). */
export function renderedHtml(v: unknown): string {
  return `<p>${escapeHtml(flatten(v))}</p>`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}
