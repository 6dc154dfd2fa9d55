/** One-line logs at an adjustable level, to stderr (stdout carries only the URL line). */
export const LEVELS = ['silent', 'error', 'warn', 'info', 'debug'] as const;
export type Level = (typeof LEVELS)[number];

export interface Logger {
  error(message: string): void;
  warn(message: string): void;
  info(message: string): void;
  debug(message: string): void;
  /** Whether lines at `level` are written: callers skip building lines nobody reads. */
  enabled(level: Level): boolean;
}

export function createLogger(level: Level, write: (line: string) => void = (line) => process.stderr.write(line)): Logger {
  const rank = LEVELS.indexOf(level);
  const enabled = (name: Level) => LEVELS.indexOf(name) <= rank;
  const at = (name: Level) => (message: string) => {
    if (enabled(name)) write(`${new Date().toISOString()} ${name.padEnd(5)} ${message}\n`);
  };
  return { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug'), enabled };
}
