/**
 * A statement's rows read as arrays (better-sqlite3's raw mode) and seen through a class whose
 * getters name the columns, for the mappers in storeRows.ts that read a row by column name.
 *
 * better-sqlite3 builds each row object key by key, which for a request's 63 columns cost about
 * 5 of the 15 µs of `getRequest` (bench/README.md), and `getRequest` runs about 46 times in one
 * request's life. An array and one small object cost about as much as the values themselves.
 * Statements with the same columns share one class, so the mapper reading them stays monomorphic.
 */
import type { Statement } from 'better-sqlite3';

export type RowOf = (values: unknown[]) => Record<string, unknown>;

const VALUES = Symbol('values');
const views = new Map<string, RowOf>();

/** Puts `stmt` in raw mode and gives the function that names its rows' columns. */
export function rowView(stmt: Statement): RowOf {
  const names = stmt.columns().map((c) => c.name);
  stmt.raw(true);
  const key = names.join('\u0000');
  let view = views.get(key);
  if (!view) {
    class Row {
      [VALUES]: unknown[];
      constructor(values: unknown[]) {
        this[VALUES] = values;
      }
    }
    // A name given twice reads the last, as better-sqlite3's row objects have it.
    const last = new Map(names.map((name, i) => [name, i]));
    for (const [name, i] of last) {
      Object.defineProperty(Row.prototype, name, { enumerable: true, get(this: Row) { return this[VALUES][i]; } });
    }
    view = (values) => new Row(values) as unknown as Record<string, unknown>;
    views.set(key, view);
  }
  return view;
}
