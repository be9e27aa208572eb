// Small helpers shared by the subcommands: one-line errors, option parsing, stderr logging.

import { parseArgs, type ParseArgsConfig } from 'node:util';

/** Prints `pafcast <cmd>: <first line of message>` to stderr and returns `code`, never a stack trace. */
export function cliError(cmd: string, message: string, code: number): number {
  const lines = message.split('\n');
  process.stderr.write(`pafcast ${cmd}: ${lines.join('\n  ').trimEnd()}\n`);
  return code;
}

/** Parses an optional integer flag; throws a readable error for anything else. */
export function intOption(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${flag} must be a non-negative integer, got "${value}"`);
  return n;
}

/** Parses "a,b,c" into a list; undefined when the flag was not given. */
export function listOption(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  return value.split(',').map((s) => s.trim()).filter(Boolean);
}

/** Parses "160,256,368" into integers. */
export function intListOption(flag: string, value: string | undefined): number[] | undefined {
  return listOption(value)?.map((v) => intOption(flag, v)!);
}

/** Runtime log lines for CLI commands go to stderr so stdout stays machine-readable. */
export function stderrLog(level: 'info' | 'warn', msg: string): void {
  if (level === 'warn' || process.env.PAFCAST_VERBOSE) process.stderr.write(`pafcast: ${level === 'warn' ? 'warning: ' : ''}${msg}\n`);
}

/** Flags every command that runs the model shares (detect, eval). */
export const runtimeFlagOptions = {
  'model-path': { type: 'string' },
  backend: { type: 'string' },
  providers: { type: 'string' },
  threads: { type: 'string' },
} as const;

export const runtimeFlagsHelp = `  --model-path DIR,...  extra directories to search for the model file
  --backend B           auto | tensorrt | onnxruntime (default auto)
  --providers P,...     onnxruntime execution providers in order (default cpu)
  --threads N           onnxruntime intra-op threads (default: one per core)
`;

const backendNames = ['auto', 'tensorrt', 'onnxruntime'] as const;

/** The inference config the runtime flags ask for; throws a readable error for bad values. */
export function inferenceFromFlags(o: { backend?: string; providers?: string; threads?: string }): {
  backend?: (typeof backendNames)[number];
  onnxruntime: { providers: string[]; threads: number };
} {
  const backend = o.backend as (typeof backendNames)[number] | undefined;
  if (backend !== undefined && !backendNames.includes(backend)) throw new Error(`--backend must be ${backendNames.join(', ')}, got "${o.backend}"`);
  return {
    ...(backend ? { backend } : {}),
    onnxruntime: { providers: listOption(o.providers) ?? ['cpu'], threads: intOption('--threads', o.threads) ?? 0 },
  };
}

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;
type Parsed<O extends OptionsConfig> = ReturnType<typeof parseArgs<{ args: string[]; options: O; allowPositionals: true }>>;

/**
 * Parses a subcommand's flags (positionals allowed). A bad flag prints one `pafcast <cmd>:` line (plus
 * the usage, when given) and yields null; the caller returns exit code 2.
 */
export function parseCommandArgs<const O extends OptionsConfig>(cmd: string, argv: string[], options: O, usage = ''): Parsed<O> | null {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true });
  } catch (e) {
    const msg = (e as Error).message;
    cliError(cmd, usage ? `${msg}\n\n${usage}` : msg, 2);
    return null;
  }
}
