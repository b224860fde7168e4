/**
 * Small, pure builders for Atlassian Document Format (ADF) documents, and `adfToText` to read
 * one back. Node shapes follow https://developer.atlassian.com/cloud/jira/platform/apis/document/structure/
 *
 * User text is always inert: every string given to a builder becomes the `text` of a `text`
 * node (line breaks become `hardBreak` nodes), never markup, so `*bold*`, `<b>` or `[x](y)` in
 * a reason reach Jira exactly as typed.
 *
 * Two Jira Cloud rules the builders respect:
 * - An empty text node is invalid: Jira answers `400 {"errorMessages":["INVALID_INPUT"]}`
 *   (JRACLOUD-79318), so empty strings are dropped, never emitted.
 * - A comment or description may be at most 32,767 characters, counted on the serialized ADF
 *   (`"The entered text is too long. It exceeds the allowed limit of 32,767 characters."`);
 *   `doc()` cuts longer documents and says so in a visible last paragraph.
 */
import type { AdfDoc, AdfNode } from './types.js';

export type { AdfDoc, AdfNode } from './types.js';

/** Jira Cloud's limit for multi-line text fields (comment body, description). */
export const ADF_MAX_CHARS = 32_767;

export const TRUNCATION_MARKER = '[truncated: the full text exceeded the 32,767-character limit of a Jira comment]';

type Mark = NonNullable<AdfNode['marks']>[number];
/** What inline builders accept: a node, or a string taken literally as text. */
export type Inline = AdfNode | string;

/** A text node, or nothing when `value` is empty. Line breaks become `hardBreak` nodes. */
export function text(value: string, marks?: Mark[]): AdfNode[] {
  const out: AdfNode[] = [];
  const lines = value.replace(/\r\n?/g, '\n').split('\n');
  lines.forEach((line, i) => {
    if (i > 0) out.push({ type: 'hardBreak' });
    if (line.length > 0) out.push(marks && marks.length > 0 ? { type: 'text', text: line, marks: marks.map((m) => ({ ...m })) } : { type: 'text', text: line });
  });
  return out;
}

/** Bold text. */
export function strong(value: string): AdfNode[] {
  return text(value, [{ type: 'strong' }]);
}

/** Monospaced text for ids and group names, kept on one line. */
export function code(value: string): AdfNode[] {
  return text(value.replace(/\s*\r?\n\s*/g, ' '), [{ type: 'code' }]);
}

/** A paragraph of inline content; strings are literal text, empty parts vanish. */
export function paragraph(...parts: (Inline | Inline[])[]): AdfNode {
  return { type: 'paragraph', content: inline(parts) };
}

/** A "label: value" line, the label in bold. */
export function labelValue(label: string, value: string): AdfNode {
  return paragraph(strong(`${label}: `), value);
}

/**
 * A bullet list, one item per entry (a string, or inline parts). An empty list is not valid ADF,
 * so no items give an empty paragraph instead.
 */
export function bulletList(items: (Inline | (Inline | Inline[])[])[]): AdfNode {
  if (items.length === 0) return paragraph();
  return {
    type: 'bulletList',
    content: items.map((item) => ({ type: 'listItem', content: [paragraph(...(Array.isArray(item) ? item : [item]))] })),
  };
}

/** A document of block nodes, cut to Jira's size limit when needed. */
export function doc(...blocks: (AdfNode | AdfNode[])[]): AdfDoc {
  return fitToLimit({ type: 'doc', version: 1, content: blocks.flat() });
}

/** Plain text as a document: one paragraph per line. */
export function textDoc(value: string): AdfDoc {
  return doc(...value.replace(/\r\n?/g, '\n').split('\n').map((line) => paragraph(line)));
}

function inline(parts: (Inline | Inline[])[]): AdfNode[] {
  const out: AdfNode[] = [];
  for (const part of parts.flat()) {
    if (typeof part === 'string') out.push(...text(part));
    else if (!(part.type === 'text' && !part.text)) out.push(part);
  }
  return out;
}

/** Serialized length, the measure Jira applies to ADF fields. */
export function adfLength(d: AdfDoc): number {
  return JSON.stringify(d).length;
}

/**
 * Returns `d` unchanged when it fits in `max` serialized characters; otherwise the longest prefix
 * of its text (in document order) that fits together with a final paragraph carrying
 * TRUNCATION_MARKER. Found by binary search over the number of text characters kept.
 */
export function fitToLimit(d: AdfDoc, max = ADF_MAX_CHARS): AdfDoc {
  if (adfLength(d) <= max) return d;
  const marker = paragraph(TRUNCATION_MARKER);
  const build = (budget: number): AdfDoc => {
    const state = { left: budget };
    const content = d.content.map((n) => cut(n, state)).filter((n): n is AdfNode => n !== undefined);
    return { type: 'doc', version: 1, content: [...content, marker] };
  };
  let lo = 0;
  let hi = totalText(d);
  let best = build(0);
  if (adfLength(best) > max) return { type: 'doc', version: 1, content: [marker] };
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    const candidate = build(mid);
    if (adfLength(candidate) <= max) {
      lo = mid;
      best = candidate;
    } else {
      hi = mid - 1;
    }
  }
  return best;
}

function totalText(n: AdfDoc | AdfNode): number {
  let sum = 'text' in n && typeof n.text === 'string' ? n.text.length : 0;
  for (const c of n.content ?? []) sum += totalText(c);
  return sum;
}

/** A copy of `n` keeping at most `state.left` text characters; undefined once nothing is left. */
function cut(n: AdfNode, state: { left: number }): AdfNode | undefined {
  if (n.type === 'text') {
    const t = n.text ?? '';
    if (state.left <= 0 || t.length === 0) return undefined;
    let end = Math.min(t.length, state.left);
    // Never split a surrogate pair: a lone half is not a character Jira can store.
    const last = t.charCodeAt(end - 1);
    if (end < t.length && last >= 0xd800 && last <= 0xdbff) end -= 1;
    state.left -= t.length;
    if (end <= 0) return undefined;
    return { ...n, text: end < t.length ? `${t.slice(0, end)}…` : t };
  }
  if (!n.content) return state.left > 0 ? n : undefined;
  if (state.left <= 0) return undefined;
  const kids = n.content.map((c) => cut(c, state)).filter((c): c is AdfNode => c !== undefined);
  // Lists and list items must not be empty; a paragraph may.
  if (kids.length === 0 && n.type !== 'paragraph') return undefined;
  return { ...n, content: kids };
}

const BLOCKS = new Set(['paragraph', 'heading', 'blockquote', 'codeBlock', 'panel', 'rule', 'mediaSingle', 'table', 'tableRow']);

/**
 * Flattens ADF to plain text: blocks on their own lines, list items as "- item", hardBreaks as
 * newlines, mentions and emoji by their text.
 */
export function adfToText(d: AdfDoc | AdfNode): string {
  const lines: string[] = [];
  walkBlock(d, lines, '');
  return lines.join('\n').replace(/\n{3,}/g, '\n\n').trim();
}

function walkBlock(n: AdfDoc | AdfNode, lines: string[], indent: string): void {
  if (n.type === 'bulletList' || n.type === 'orderedList') {
    (n.content ?? []).forEach((item, i) => {
      const bullet = n.type === 'orderedList' ? `${i + 1}. ` : '- ';
      const sub: string[] = [];
      walkBlock(item, sub, `${indent}  `);
      const [first = '', ...rest] = sub;
      lines.push(`${indent}${bullet}${first.trimStart()}`, ...rest);
    });
    return;
  }
  if (n.type === 'doc' || n.type === 'listItem' || !BLOCKS.has(n.type)) {
    // Containers: their children are blocks, or (unknown nodes) inline content.
    const kids = n.content ?? [];
    if (kids.length > 0 && kids.every((k) => isInline(k))) lines.push(indent + inlineText(kids));
    else for (const k of kids) walkBlock(k, lines, indent);
    return;
  }
  lines.push(...(indent + inlineText(n.content ?? [])).split('\n').map((l, i) => (i === 0 ? l : indent + l)));
}

function isInline(n: AdfNode): boolean {
  return ['text', 'hardBreak', 'mention', 'emoji', 'inlineCard', 'date', 'status'].includes(n.type);
}

function inlineText(nodes: AdfNode[]): string {
  return nodes
    .map((n) => {
      switch (n.type) {
        case 'text':
          return n.text ?? '';
        case 'hardBreak':
          return '\n';
        case 'mention':
        case 'emoji':
        case 'status':
          return String(n.attrs?.['text'] ?? n.attrs?.['shortName'] ?? '');
        case 'inlineCard':
          return String(n.attrs?.['url'] ?? '');
        default:
          return inlineText(n.content ?? []);
      }
    })
    .join('');
}
