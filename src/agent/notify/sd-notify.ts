// sd_notify(3) client: tells systemd when the agent is ready, what it is doing, that it is alive,
// and that it is stopping. Without NOTIFY_SOCKET (not started by systemd) every call is a no-op.
//
// How the datagram reaches NOTIFY_SOCKET, and why this way: Node's `dgram` only speaks UDP, and
// libuv has no AF_UNIX SOCK_DGRAM at all. The alternatives were
//   - spawning `systemd-notify`: the message then comes from a short-lived child, which needs
//     NotifyAccess=all (any process in the unit may change its state) and, before systemd 254, can
//     be lost when the child exits before PID 1 has read it (see systemd-notify(1));
//   - npm addons: `sd-notify` and `unix-dgram` build with node-gyp from an install script, which
//     npm 11 no longer runs for dependencies unless approved, so they may silently be missing;
//     `node-unix-socket` ships prebuilt binaries, but none for linux-arm64, i.e. no Jetson.
// So pafcast has its own 60-line N-API addon (native/sd-notify), compiled by install.sh with the
// C compiler and the headers that come with Node: no node-gyp, no download, one binary per
// machine that keeps working across Node versions. It is loaded only when NOTIFY_SOCKET is set.

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Notifier {
  /** True when NOTIFY_SOCKET is set: messages are actually sent. */
  readonly enabled: boolean;
  /** How often to send WATCHDOG=1 (half of WATCHDOG_USEC), or null when systemd expects no pings. */
  readonly watchdogIntervalMs: number | null;
  ready(status?: string): Promise<void>;
  status(text: string): Promise<void>;
  watchdog(): Promise<void>;
  stopping(status?: string): Promise<void>;
  /** Sends raw `KEY=value` assignments (one per line). */
  send(assignments: string[]): Promise<void>;
}

export interface NotifierOptions {
  /** Called when a message cannot be sent; sd_notify failures must never stop the agent. */
  onError?: (error: Error) => void;
}

interface SdNotifyAddon {
  sendDatagram(path: string, message: Buffer): void;
}

export const ADDON_ENV = 'PAFCAST_SD_NOTIFY_ADDON';
const ADDON_RELATIVE = join('native', 'sd-notify', 'build', 'sd_notify.node');

/** The built addon: $PAFCAST_SD_NOTIFY_ADDON, else native/sd-notify/build in the package (from src/ or dist/src/). */
export function findAddon(env: NodeJS.ProcessEnv = process.env): string | null {
  if (env[ADDON_ENV]) return env[ADDON_ENV]!;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 5; up++) {
    const candidate = join(dir, ADDON_RELATIVE);
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  return null;
}

function loadAddon(env: NodeJS.ProcessEnv): SdNotifyAddon {
  const path = findAddon(env);
  const rebuild = 'build it with native/sd-notify/build.sh (needs a C compiler; install.sh does this)';
  if (!path) throw new Error(`NOTIFY_SOCKET is set but the sd_notify addon (${ADDON_RELATIVE}) is not built: ${rebuild}`);
  try {
    return createRequire(import.meta.url)(path) as SdNotifyAddon;
  } catch (e) {
    throw new Error(`NOTIFY_SOCKET is set but the sd_notify addon ${path} cannot be loaded (${(e as Error).message.split('\n')[0]}): ${rebuild}`);
  }
}

/** Half of WATCHDOG_USEC in ms, as sd_watchdog_enabled(3) recommends; null when not for this process. */
export function watchdogIntervalFromEnv(env: NodeJS.ProcessEnv, pid = process.pid): number | null {
  const usec = Number(env.WATCHDOG_USEC);
  if (!env.WATCHDOG_USEC || !Number.isFinite(usec) || usec <= 0) return null;
  // WATCHDOG_PID names the process systemd expects pings from; a child that inherited the
  // variable must not ping on its parent's behalf.
  if (env.WATCHDOG_PID && Number(env.WATCHDOG_PID) !== pid) return null;
  return Math.max(1, Math.floor(usec / 2000));
}

/** A single-line STATUS= value: systemd shows it in `systemctl status`, newlines would end it. */
function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').trim();
}

export function createNotifier(env: NodeJS.ProcessEnv = process.env, options: NotifierOptions = {}): Notifier {
  const socketPath = env.NOTIFY_SOCKET ?? '';
  const report = options.onError ?? (() => {});
  const watchdogIntervalMs = socketPath ? watchdogIntervalFromEnv(env) : null;

  if (socketPath && !socketPath.startsWith('/') && !socketPath.startsWith('@')) {
    report(new Error(`NOTIFY_SOCKET="${socketPath}" is neither a socket path nor an abstract name; sd_notify messages are disabled`));
  }
  const enabled = socketPath.startsWith('/') || socketPath.startsWith('@');
  const addon = enabled ? loadAddon(env) : undefined;

  // Synchronous and non-blocking (MSG_DONTWAIT in the addon); the Promise keeps callers free to await.
  const send = (assignments: string[]): Promise<void> => {
    if (!addon) return Promise.resolve();
    try {
      addon.sendDatagram(socketPath, Buffer.from(assignments.join('\n'), 'utf8'));
    } catch (e) {
      report(new Error(`sd_notify to ${socketPath} failed: ${(e as Error).message}`));
    }
    return Promise.resolve();
  };

  return {
    enabled,
    watchdogIntervalMs,
    send,
    ready: (status) => send(status ? ['READY=1', `STATUS=${oneLine(status)}`] : ['READY=1']),
    status: (text) => send([`STATUS=${oneLine(text)}`]),
    watchdog: () => send(['WATCHDOG=1']),
    stopping: (status) => send(status ? ['STOPPING=1', `STATUS=${oneLine(status)}`] : ['STOPPING=1']),
  };
}
