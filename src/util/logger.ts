/**
 * Structured JSON-lines logger. One object per line on stdout (stderr for
 * warn/error). Callers pass fields, never secrets: Authorization headers,
 * keys, DEKs and passwords must not reach here, so request logging picks the
 * fields it logs instead of dumping headers.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

export function createLogger(
  level: LogLevel,
  base: Record<string, unknown> = {},
  sink?: (line: string, level: LogLevel) => void,
): Logger {
  const write =
    sink ??
    ((line: string, l: LogLevel) => (RANK[l] >= RANK.warn ? process.stderr : process.stdout).write(line + '\n'));
  const emit = (l: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (RANK[l] < RANK[level]) return;
    write(JSON.stringify({ time: new Date().toISOString(), level: l, msg, ...base, ...fields }), l);
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (f) => createLogger(level, { ...base, ...f }, write),
  };
}
