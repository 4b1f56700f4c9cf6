/**
 * What `coffer` prints: aligned tables for people (the default), the API's JSON
 * for scripts (--json), and one-line messages. Everything goes through Io so
 * tests and the entry point decide where it lands.
 */

export interface Io {
  out(text: string): void;
  err(text: string): void;
  env: NodeJS.ProcessEnv;
  /** stderr is a terminal (progress bars are drawn only then). */
  errIsTTY?: boolean;
}

export interface Column<T> {
  header: string;
  value: (row: T) => string | number | boolean | undefined | null;
}

/** Columns padded to their widest cell, two spaces apart; an empty list prints `empty` instead. */
export function table<T>(rows: readonly T[], columns: ReadonlyArray<Column<T>>, empty = '(none)'): string {
  if (rows.length === 0) return `${empty}\n`;
  const cells = rows.map((r) => columns.map((c) => cell(c.value(r))));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((row) => (row[i] ?? '').length)));
  const line = (parts: string[]) =>
    parts
      .map((p, i) => (i === parts.length - 1 ? p : p.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join('\n') + '\n';
}

function cell(v: string | number | boolean | undefined | null): string {
  if (v === undefined || v === null) return '-';
  // One line per row, whatever a name or message holds.
  return String(v).replace(/[\x00-\x1f\x7f]/g, ' ');
}

export function json(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n';
}

/** Key Protect key states (key-protect.md 2.8). */
export function stateName(state: unknown): string {
  switch (state) {
    case 0:
      return 'Pre-activation';
    case 1:
      return 'Active';
    case 2:
      return 'Suspended';
    case 3:
      return 'Deactivated';
    case 5:
      return 'Destroyed';
    default:
      return String(state);
  }
}
