// The agent's logger: pino JSON lines on stdout (journald and log shippers read them as-is).
// Modules get a child logger with `module` set, so one grep finds everything a module said.

import { pino, type Logger, type DestinationStream } from 'pino';
import type { LogLevel } from './config/sections.js';

export type { Logger } from 'pino';

/** A logger writing JSON lines to `destination` (default: stdout, synchronously so nothing is lost on exit). */
export function createLogger(level: LogLevel = 'info', destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination ?? pino.destination({ dest: 1, sync: true }),
  );
}

/** A child logger for one module of the agent. */
export function moduleLogger(parent: Logger, module: string): Logger {
  return parent.child({ module });
}
