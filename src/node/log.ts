/** A small leveled logger: readable lines on stderr, or a sink in tests. */
export type LogLevel = 'debug' | 'info' | 'warn';
export type LogFn = (level: LogLevel, msg: string) => void;

const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2 };

export function consoleLogger(min: LogLevel = 'info', prefix = ''): LogFn {
  return (level, msg) => {
    if (ORDER[level] < ORDER[min]) return;
    const t = new Date().toISOString().slice(11, 23);
    process.stderr.write(`${t} ${level.padEnd(5)} ${prefix}${msg}\n`);
  };
}
