// Shapes shared by `pafcast doctor`'s checks. Every outside effect a check has (files under a root,
// commands, module loading, the MQTT probe) goes through DoctorContext, so tests run the checks on
// recorded board trees with recorded command outputs and never touch the host.

import type { AgentConfig } from '../config/schema.js';
import type { TrtAddon } from '../../runtime/backends/tensorrt.js';

export type Verdict = 'OK' | 'WARN' | 'FAIL';

export interface CheckResult {
  /** Stable id for --json consumers, e.g. "board", "tensorrt.addon". */
  id: string;
  title: string;
  verdict: Verdict;
  /** What was found. */
  detail: string;
  /** What to do about a WARN/FAIL. */
  fix?: string;
}

/** Result of running a command; null when the command does not exist. */
export type CommandResult = { code: number; stdout: string; stderr: string } | null;
export type CommandRunner = (file: string, args: string[]) => Promise<CommandResult>;

export interface MqttProbeResult {
  ok: boolean;
  ms: number;
  error?: string;
}

export interface DoctorContext {
  /** Filesystem root the board files are read under ("/" on a real board). */
  root: string;
  config: AgentConfig;
  run: CommandRunner;
  /** glibc version of this process (process.report header glibcVersionRuntime); null on musl/non-Linux. */
  glibc: string | null;
  /** Node version, e.g. "v20.20.2". */
  node: string;
  /** Imports a module by name; rejects when it does not load. */
  importModule: (name: string) => Promise<unknown>;
  addonLoader: () => TrtAddon;
  /** Execution providers this onnxruntime-node build has. */
  ortProviders: () => Promise<string[]>;
  mqttProbe: (url: string, opts: { username?: string; password?: string; timeoutMs: number }) => Promise<MqttProbeResult>;
  /** Engine directories to search (defaults follow inference.tensorrt.engine_dir). */
  engineDirs: string[];
  mqttTimeoutMs: number;
}

/** What the board checks learn first and the later checks build on. */
export interface BoardFacts {
  /** /proc/device-tree/model without the trailing NUL; null when absent (not a Jetson). */
  model: string | null;
  l4t: { major: number; revision: string; version: string } | null;
  /** JetPack release of that L4T, when known. */
  jetpack: string | null;
}
