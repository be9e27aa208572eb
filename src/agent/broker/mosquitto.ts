// The MQTT 5 engine: Mosquitto as a managed child. Its config, password and ACL files are
// generated into broker.state_dir (or a private temp directory) before every start; the child is
// watched and restarted with backoff when it dies, and stopped with the agent. The parent-death
// signal (setpriv --pdeathsig) stops it even when the agent is killed with SIGKILL; under the
// systemd unit, whose system-call filter refuses setpriv, the unit's cgroup does that.
//
// Started by root, Mosquitto would switch to the `mosquitto` user after reading its config and
// then fail to read the password and ACL files; so pafcast starts it as that user itself (setpriv
// --reuid, which also keeps the parent-death signal, which a later setuid would clear) and hands
// it the state directory. Run as anyone else, Mosquitto runs as that user.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import type { MetricFamily } from '../../telemetry/prometheus.js';
import { listenError } from './aedes.js';
import { UNSAFE_IN_FILES } from './config-schema.js';
import type { MosquittoVersion } from './engine.js';
import { PACKET_OVERHEAD_BYTES } from './packet-size.js';
import { formatHash, hashPassword, type BrokerUser } from './passwords.js';
import type { BrokerEngine, EngineSetup, RefusalCounters } from './types.js';

/** Heap Mosquitto may use beyond broker.retained.max_bytes: queues and in-flight messages of its clients. */
const MEMORY_HEADROOM_BYTES = 128 * 1024 * 1024;
/** Per-client queue of a slow or offline subscriber, so one client cannot take the whole heap. */
const MAX_QUEUED_BYTES = 16 * 1024 * 1024;
/** Restart delays: 0.5 s doubling to 30 s; a run that lasted a minute resets them. */
const RESTART_MIN_MS = 500;
const RESTART_MAX_MS = 30_000;
const STABLE_RUN_MS = 60_000;
/** How long a start may take before it counts as failed (a Nano under load starts it in ~50 ms). */
const READY_TIMEOUT_MS = 15_000;
const STOP_GRACE_MS = 5_000;
const OUTPUT_LINES_KEPT = 20;

/** Lines Mosquitto prints for the generated files on purpose; not worth a warning each start. */
const EXPECTED_NOISE = [/ACL pattern '.*' does not contain/, /replace `message_size_limit` with `max_packet_size`/, /should not be run as root/];

export interface RunAs {
  user: string;
  uid: number;
  gid: number;
}

/** The `mosquitto` system user, when pafcast runs as root and it exists (from /etc/passwd). */
export function mosquittoRunAs(passwd = '/etc/passwd'): RunAs | null {
  if (process.getuid?.() !== 0) return null;
  let text = '';
  try {
    text = readFileSync(passwd, 'utf8');
  } catch {
    return null;
  }
  for (const line of text.split('\n')) {
    const [user, , uid, gid] = line.split(':');
    if (user === 'mosquitto' && uid && gid) return { user, uid: Number(uid), gid: Number(gid) };
  }
  return null;
}

const setprivWorks = new Map<string, boolean>();
/**
 * Whether `setpriv <args> -- true` runs here: util-linux 2.33+ (Debian 10+, Ubuntu 20.04+) has
 * --pdeathsig, and setpriv always calls capset(2), which a seccomp filter may refuse (the systemd
 * unit's SystemCallFilter=~@privileged does; there the service's cgroup ends the child instead).
 */
function setprivRuns(args: readonly string[]): boolean {
  const key = args.join(' ');
  let ok = setprivWorks.get(key);
  if (ok === undefined) {
    try {
      execFileSync('setpriv', [...args, '--', 'true'], { timeout: 5_000, stdio: 'ignore' });
      ok = true;
    } catch {
      ok = false;
    }
    setprivWorks.set(key, ok);
  }
  return ok;
}

const TEMP_PREFIX = 'pafcast-broker-';

/** Temp directories of agents that were killed (SIGKILL) before they could remove them. */
function removeStaleTempDirs(): void {
  let names: string[];
  try {
    names = readdirSync(tmpdir()).filter((n) => n.startsWith(TEMP_PREFIX));
  } catch {
    return;
  }
  for (const name of names) {
    const dir = join(tmpdir(), name);
    let pid: number;
    try {
      pid = Number(readFileSync(join(dir, 'agent.pid'), 'utf8'));
    } catch {
      continue;
    }
    if (!Number.isInteger(pid) || pid <= 0) continue;
    try {
      process.kill(pid, 0);
      continue;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ESRCH') continue;
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface MosquittoFiles {
  conf: string;
  passwd: string;
  acl: string;
}

function confValue(what: string, v: string): string {
  if (UNSAFE_IN_FILES.test(v)) throw new Error(`embedded broker: ${what} contains control characters`);
  return v;
}

/** The generated files' contents, for `dir` (pure, so tests can read them). */
export function mosquittoFiles(setup: EngineSetup, version: MosquittoVersion, dir: string, runAs: RunAs | null): MosquittoFiles {
  const { config, agent, users, rules, allowAnonymous } = setup;
  // Mosquitto 1.6 reads only $6$ (SHA-512) lines; 2.0 also the PBKDF2 $7$ that mosquitto_passwd writes.
  const type = version.major >= 2 ? 7 : 6;
  const line = (u: BrokerUser) => {
    if (u.password !== undefined) return `${u.username}:${formatHash(hashPassword(u.password, type))}`;
    if (u.hash!.type === 7 && type === 6) throw new Error(`${u.source}: user "${u.username}" has a $7$ hash, which Mosquitto ${version.text} cannot read ($6$ only before 2.0)`);
    return `${u.username}:${formatHash(u.hash!)}`;
  };
  const passwd = [line({ ...agent, source: 'agent' }), ...users.map(line)].join('\n') + '\n';
  const acl = rules.mosquittoAcl(agent.username, users.map((u) => u.username));
  const d = confValue('broker.state_dir', dir);
  const lines = [
    '# Generated by pafcast at every start of the managed broker; edits are overwritten.',
    'per_listener_settings false',
    `listener ${config.port} ${confValue('broker.host', config.host)}`,
    `allow_anonymous ${allowAnonymous}`,
    `password_file ${join(d, 'passwd')}`,
    `acl_file ${join(d, 'acl')}`,
    // The payload limit (dropped, v5 publishers told so) and the packet limit (disconnect at the header, before buffering).
    `message_size_limit ${config.max_message_bytes}`,
    `max_packet_size ${config.max_message_bytes + PACKET_OVERHEAD_BYTES}`,
    `memory_limit ${config.retained.max_bytes + MEMORY_HEADROOM_BYTES}`,
    'max_queued_messages 1000',
    `max_queued_bytes ${MAX_QUEUED_BYTES}`,
    'persistent_client_expiration 7d',
    `persistence ${config.persistence}`,
    `persistence_location ${d}/`,
    'persistence_file mosquitto.db',
    'autosave_interval 60',
    'log_dest stderr',
    'log_timestamp false',
    'log_type error',
    'log_type warning',
    'log_type notice',
    'log_type information',
  ];
  // Root without a `mosquitto` user: say so, rather than let it fall back to `nobody`, who could not read the files.
  if (process.getuid?.() === 0) lines.push(`user ${runAs ? runAs.user : 'root'}`);
  return { conf: lines.join('\n') + '\n', passwd, acl };
}

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `was killed by ${signal}` : `exited with code ${code}`;
}

/** Resolves when `port` on `host` accepts a TCP connection. */
function connects(host: string, port: number): Promise<boolean> {
  return new Promise((resolveConnect) => {
    const s = createConnection({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolveConnect(true);
    });
    s.once('error', () => resolveConnect(false));
  });
}

/** Fails with the same message as aedes when something already listens there. */
function assertPortFree(host: string, port: number): Promise<void> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', (err) => rej(listenError(host, port, err)));
    srv.listen(port, host, () => srv.close(() => res()));
  });
}

interface Run {
  child: ChildProcess;
  startedAt: number;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface MosquittoEngineOptions {
  binary: string;
  version: MosquittoVersion;
  /** Host clients connect to (the wildcard address is reached through loopback). */
  connectHost: string;
  env: NodeJS.ProcessEnv;
}

export class MosquittoEngine implements BrokerEngine {
  readonly name = 'mosquitto' as const;
  private dir = '';
  private tempDir = false;
  private readonly runAs: RunAs | null;
  private run: Run | undefined;
  private stopping = false;
  private running = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private wakeRestart: (() => void) | undefined;
  private supervisor: Promise<void> | undefined;
  private readonly output: string[] = [];
  private exitHook: (() => void) | undefined;
  restarts = 0;
  lastExit: string | null = null;
  readonly refused: RefusalCounters = { logins: 0, oversize: 0 };

  constructor(
    private readonly setup: EngineSetup,
    private readonly opts: MosquittoEngineOptions,
  ) {
    this.runAs = mosquittoRunAs();
  }

  get port(): number {
    return this.setup.config.port;
  }

  get up(): boolean {
    return this.running;
  }

  get pid(): number | null {
    return this.running ? (this.run?.child.pid ?? null) : null;
  }

  /** Directory of the generated files (for tests and messages). */
  get stateDir(): string {
    return this.dir;
  }

  async start(): Promise<void> {
    const { config, log } = this.setup;
    this.stopping = false;
    await assertPortFree(config.host, config.port);
    this.prepareDir();
    if (process.getuid?.() === 0 && !this.runAs) log.warn('no `mosquitto` system user: the managed Mosquitto runs as root (create one: sudo adduser --system --group mosquitto)');
    try {
      this.run = await this.launch();
    } catch (e) {
      this.removeTempDir();
      throw e;
    }
    this.running = true;
    this.exitHook = () => this.run?.child.kill('SIGTERM');
    process.once('exit', this.exitHook);
    log.info({ mosquitto_pid: this.run.child.pid, version: this.opts.version.text, dir: this.dir, user: this.runAs?.user ?? userInfo().username }, 'managed Mosquitto running');
    this.supervisor = this.supervise();
  }

  private prepareDir(): void {
    const configured = this.setup.config.state_dir;
    if (configured) {
      this.dir = resolve(configured);
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      this.tempDir = false;
    } else {
      removeStaleTempDirs();
      this.dir = mkdtempSync(join(tmpdir(), TEMP_PREFIX));
      this.tempDir = true;
      // Whose it is, so that a later start can remove it if this agent is killed before it can.
      writeFileSync(join(this.dir, 'agent.pid'), `${process.pid}\n`, { mode: 0o600 });
    }
    chmodSync(this.dir, 0o700);
    if (this.runAs) chownSync(this.dir, this.runAs.uid, this.runAs.gid);
  }

  private writeFiles(): string {
    const files = mosquittoFiles(this.setup, this.opts.version, this.dir, this.runAs);
    const write = (name: string, text: string) => {
      const p = join(this.dir, name);
      writeFileSync(p, text, { mode: 0o600 });
      chmodSync(p, 0o600);
      if (this.runAs) chownSync(p, this.runAs.uid, this.runAs.gid);
      return p;
    };
    write('passwd', files.passwd);
    write('acl', files.acl);
    return write('mosquitto.conf', files.conf);
  }

  /** setpriv when it works here (the user switch and the parent-death signal); else Mosquitto itself, which drops to `user` from its config. */
  private command(conf: string): [string, string[]] {
    const as = this.runAs ? [`--reuid=${this.runAs.uid}`, `--regid=${this.runAs.gid}`, '--init-groups'] : [];
    const setpriv = [...as, '--pdeathsig=TERM'];
    if (!setprivRuns(setpriv)) return [this.opts.binary, ['-c', conf]];
    return ['setpriv', [...setpriv, '--', this.opts.binary, '-c', conf]];
  }

  /** Starts one child and resolves once it accepts connections; rejects (child gone) otherwise. */
  private async launch(): Promise<Run> {
    // Its error and its death report this run's output, not an earlier one's.
    this.output.length = 0;
    const conf = this.writeFiles();
    const [file, args] = this.command(conf);
    // Only PATH: the agent's environment holds broker and MQTT passwords the child has no use for.
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: this.opts.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' } });
    let spawnError: Error | undefined;
    // A child that could not be spawned at all gets 'error' and maybe no 'exit'.
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => {
      child.once('exit', (code, signal) => r({ code, signal }));
      child.once('error', (e) => {
        spawnError = e;
        r({ code: null, signal: null });
      });
    });
    let sawRunning = false;
    // Warnings before it is ready are said only if it gets ready; a failed start puts them in its error.
    let early: string[] | null = [];
    const onLine = (line: string) => {
      if (/ running$/.test(line)) sawRunning = true;
      this.noteOutput(line, early);
    };
    for (const stream of [child.stdout!, child.stderr!]) {
      let partial = '';
      stream.on('data', (d: Buffer) => {
        const parts = (partial + d.toString()).split('\n');
        partial = parts.pop()!;
        for (const l of parts) if (l.trim()) onLine(l.trim());
      });
    }
    const run: Run = { child, startedAt: Date.now(), exited };
    // 2.x says "mosquitto version X running" once its listeners are open; 1.6 says nothing, so the port decides.
    const needsRunningLine = this.opts.version.major >= 2;
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let gone = false;
    void exited.then(() => (gone = true));
    for (;;) {
      if (gone || spawnError) {
        const { code, signal } = await exited;
        throw new Error(`Mosquitto (${this.opts.binary}) ${spawnError ? `could not start: ${spawnError.message}` : describeExit(code, signal)} before accepting connections: ${this.outputTail() || 'no output'}${this.accessHint()}`);
      }
      if ((!needsRunningLine || sawRunning) && (await connects(this.opts.connectHost, this.port)) && !gone) {
        for (const line of early) this.setup.log.warn({ mosquitto: line }, 'Mosquitto says');
        early = null;
        return run;
      }
      if (this.stopping || Date.now() > deadline) {
        child.kill('SIGKILL');
        await exited;
        if (this.stopping) throw new Error('stopped while Mosquitto was starting');
        throw new Error(`Mosquitto did not accept connections on ${this.opts.connectHost}:${this.port} within ${READY_TIMEOUT_MS / 1000} s: ${this.outputTail() || 'no output'}`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  private accessHint(): string {
    return this.runAs ? ` (Mosquitto runs as user ${this.runAs.user}: ${this.opts.binary}, ${this.dir} and the directories above them must be open to that user)` : '';
  }

  private noteOutput(line: string, early: string[] | null): void {
    const { log } = this.setup;
    this.output.push(line);
    if (this.output.length > OUTPUT_LINES_KEPT) this.output.shift();
    if (/disconnected, not authori[sz]ed|not authori[sz]ed\.$/i.test(line)) this.refused.logins++;
    if (/oversize packet/i.test(line)) this.refused.oversize++;
    if (EXPECTED_NOISE.some((re) => re.test(line))) return;
    if (/^(Error|Warning)/i.test(line)) {
      if (early) early.push(line);
      else log.warn({ mosquitto: line }, 'Mosquitto says');
    }
    else log.debug({ mosquitto: line }, 'Mosquitto says');
  }

  private outputTail(): string {
    return this.output.slice(-5).join(' | ');
  }

  /** Watches the child; restarts it with backoff until stop(). Logs once per change of state. */
  private async supervise(): Promise<void> {
    const { log } = this.setup;
    let delay = RESTART_MIN_MS;
    let lastReported = '';
    for (;;) {
      const run = this.run!;
      const { code, signal } = await run.exited;
      this.running = false;
      if (this.stopping) return;
      const why = describeExit(code, signal);
      this.lastExit = why;
      if (Date.now() - run.startedAt >= STABLE_RUN_MS) delay = RESTART_MIN_MS;
      const state = `exit ${why}`;
      if (state !== lastReported) log.warn({ why, last_output: this.outputTail(), restart_in_ms: delay }, `managed Mosquitto ${why}; restarting it in ${delay / 1000} s`);
      lastReported = state;
      for (;;) {
        await new Promise<void>((r) => {
          this.wakeRestart = r;
          this.restartTimer = setTimeout(r, delay);
        });
        this.restartTimer = undefined;
        if (this.stopping) return;
        delay = Math.min(delay * 2, RESTART_MAX_MS);
        try {
          this.run = await this.launch();
          break;
        } catch (e) {
          if (this.stopping) return;
          const msg = (e as Error).message;
          const failState = `fail ${msg.replace(/\d+/g, '#')}`;
          if (failState !== lastReported) log.error({ err: msg, retry_in_ms: delay }, 'managed Mosquitto failed to start again; retrying with backoff');
          lastReported = failState;
        }
      }
      if (this.stopping) {
        // stop() came during the launch: this child is the one to end.
        this.run.child.kill('SIGTERM');
        await this.run.exited;
        return;
      }
      this.restarts++;
      this.running = true;
      lastReported = '';
      log.info({ mosquitto_pid: this.run.child.pid, restarts: this.restarts }, 'managed Mosquitto running again');
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.wakeRestart?.();
    const run = this.run;
    if (run && run.child.exitCode === null && run.child.signalCode === null) {
      run.child.kill('SIGTERM');
      const killer = setTimeout(() => run.child.kill('SIGKILL'), STOP_GRACE_MS);
      await run.exited;
      clearTimeout(killer);
    }
    await this.supervisor;
    this.running = false;
    if (this.exitHook) process.off('exit', this.exitHook);
    this.exitHook = undefined;
    this.removeTempDir();
  }

  private removeTempDir(): void {
    if (this.tempDir && this.dir) rmSync(this.dir, { recursive: true, force: true });
  }

  stats(): Record<string, unknown> {
    return { pid: this.pid, restarts: this.restarts, last_exit: this.lastExit, state_dir: this.tempDir ? null : this.dir, persistence: this.setup.config.persistence };
  }

  metrics(): MetricFamily[] {
    return [{ name: 'pafcast_broker_restarts_total', type: 'counter', help: 'Times the managed Mosquitto died and was started again.', samples: [{ value: this.restarts }] }];
  }
}
