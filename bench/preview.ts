// Benchmark (issues 4 and 17): what the live view costs the agent with 0, 1 and 3 viewers in one run. The real
// agent (`node bin/pafcast.js run` on street.avi, looping, realtime mode, net height pinned, embedded broker,
// preview enabled) runs as a child; we count its `poses` messages and read CPU from /proc in windows with no
// viewer, one viewer and three viewers, in the order 0, 1, 0, 3, 0, 1, 0, 3, …, 0.
//
//   fps:              poses published per second in the window (realtime mode: the newest frame wins, so this
//                     is the rate the pipeline keeps up, inference-bound on this machine);
//   agent ms/frame:   /proc utime+stime of the agent's node process (pipeline, onnxruntime, drawing, WebRTC) per
//                     processed frame: steadier than FPS when other tenants take cores away;
//   encoder ms/frame: the live view's encoder child (gst-launch-1.0 … rtpstreampay), same unit; it exists only
//                     while someone watches, and there is one for any number of viewers;
//   extra:            agent + encoder ms/frame over the mean of all no-viewer windows.
// Targets (issue 17): the extra CPU of one viewer at most half of the previous path's (≈ 13 ms a frame, wrtc's
// per-viewer VP8 encoder in the agent), and three viewers at most 1.5 × one viewer.
//
// The viewers stand for browsers on other machines: one child process at nice 10 holding 1 or 3 werift WHEP
// sessions (receiving and counting frames, no decoding). At nice 19 it starved next to the CPU-bound agent (no
// RTCP for seconds, so the agent rightly took it for gone); at 10 it gets ~10 % of a core when it wants it.
// A second table isolates the live view from inference: the real PreviewService (drawing, the encoder child,
// werift) in a process of its own, fed street.avi frames at 15 fps with six people's poses, in the same 0/1/3
// viewer windows. Its CPU per frame is the live view's own cost, without the ±15 % swings that CPU inference
// on a shared 2-core machine puts on the agent's (which are larger than the whole effect measured).
// PAFCAST_BENCH_PREVIEW_PREVIOUS=<child built by bench/previous-live-view.sh> adds the previous live view (wrtc) to
// that table, measured alternately with this one (and with this one at the bit rate the previous one delivered:
// the table's kbit/s column), and judges the one-viewer target against it.
//
// This file is also those children: `node dist/bench/preview.js viewer` and `… alone <port>` (commands on stdin).

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { MqttClient } from 'mqtt';
import type { StatsPayload } from '../src/agent/mqtt/topics.js';
import { HttpServer } from '../src/agent/http/server.js';
import { previewConfig } from '../src/agent/preview/config-schema.js';
import { PreviewService } from '../src/agent/preview/service.js';
import { registerWhep } from '../src/agent/preview/whep.js';
import { WhepClient } from '../src/agent/preview/whep-client.js';
import { layoutOf, loadManifest } from '../src/runtime/manifest.js';
import { packageRoot } from '../src/runtime/package-root.js';
import { connectWithRetry, descendants, freePort, procTimes, ticksPerSecond } from './proc.js';
import { fmt, median, type Row } from './table.js';

const self = fileURLToPath(import.meta.url);
const NET_HEIGHT = 256;
/** Seconds per measured window: several inference-speed swings of a shared machine average out in one. */
const WINDOW_S = Number(process.env.PAFCAST_BENCH_PREVIEW_S ?? 8);
/** Cycles of (0, 1, 0, 3) viewer windows, then a closing 0. */
const CYCLES = Number(process.env.PAFCAST_BENCH_PREVIEW_CYCLES ?? 3);
/** After the first poses: the model has run every code path once and capture is steady. */
const WARMUP_S = 8;
/** After the viewers connect: the encoder's start, the first keyframe and the rate control are not steady state. */
const SETTLE_S = 2;
/**
 * One unmeasured viewer before the first window: the first viewing session in a process JIT-compiles werift's
 * packet path. Isolated live view, one viewer, 10 s steps (this 2-core x86): the process's first session took
 * 3.9–4.5, 2.9–3.6, 2.4–2.8, 2.5 ms of agent CPU a frame; its later sessions 2.7–3.0 in their first 10 s (the
 * connection's own setup), then 2.5–2.8. Without it, one of each run's 1-viewer windows carried the cold start.
 */
const WARM_VIEW_S = 30;

/**
 * Issue 17's figure for the previous path (wrtc, one VP8 encoder per viewer in the agent): agent CPU per frame added
 * by one viewer, measured on a day this shared machine was 2–3× slower than it is at others. An absolute
 * figure says little here; PAFCAST_BENCH_PREVIEW_PREVIOUS measures the previous path in the same run instead. Its
 * windows sit early in libwebrtc's rate ramp, which does not flatter it: one viewer held 120 s cost 4.8–5.3 ms a
 * frame at every step from 324 to 930 kbit/s, every keyframe 640×360.
 */
const PREVIOUS_EXTRA_MS = 13;

/** The unmeasured viewing period of WARM_VIEW_S, and the settle time after it. */
async function warmUpViewer(viewer: Viewer, url: string): Promise<void> {
  await viewer.connect(url, 1);
  await sleep(WARM_VIEW_S * 1000);
  await viewer.disconnect();
  await sleep(SETTLE_S * 1000);
}

/** One viewer's extra against issue 17's absolute figure: half of PREVIOUS_EXTRA_MS. */
const absoluteVerdict = (e1: number) => `${fmt(e1, 2)} ms: ${e1 <= PREVIOUS_EXTRA_MS / 2 ? 'ok' : 'MISSED'}`;

interface Window {
  viewers: number;
  seconds: number;
  frames: number;
  agentTicks: number;
  encoderTicks: number;
  captureTicks: number;
  drawn: number;
  received: number;
}

interface AgentProbe {
  pid: number;
  posesSeen(): number;
  framesDrawn(): number;
}

function sharedDir(): string {
  return process.env.PAFCAST_SHARED ?? resolve(packageRoot, '..', 'shared');
}

const cmdline = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
};

/**
 * CPU ticks of the agent itself, of its encoder child and of everything else below it (capture). Children that
 * ended within the window are counted through the agent's reaped-children times, as "other": an encoder stops
 * only between windows (when its viewers leave), and its reaped time is taken out by sampling it just before.
 */
function ticks(pid: number): { agent: number; encoder: number; other: number } {
  const self = procTimes(pid);
  if (!self) return { agent: NaN, encoder: NaN, other: NaN };
  let encoder = 0, other = self.reaped;
  for (const k of descendants(pid)) {
    const t = procTimes(k);
    if (!t) continue;
    if (cmdline(k).includes('rtpstreampay')) encoder += t.own + t.reaped;
    else other += t.own + t.reaped;
  }
  return { agent: self.own, encoder, other };
}

async function measure(agent: AgentProbe, viewer: Viewer, viewers: number, seconds: number): Promise<Window> {
  const f0 = agent.posesSeen(), d0 = agent.framesDrawn(), r0 = viewer.frames, t0 = ticks(agent.pid), w0 = performance.now();
  await sleep(seconds * 1000);
  const t1 = ticks(agent.pid), wall = (performance.now() - w0) / 1000;
  await sleep(1100); // the viewer and the agent's stats report once a second
  return {
    viewers, seconds: wall, frames: agent.posesSeen() - f0, agentTicks: t1.agent - t0.agent, encoderTicks: t1.encoder - t0.encoder,
    captureTicks: t1.other - t0.other, drawn: agent.framesDrawn() - d0, received: viewer.frames - r0,
  };
}

function lines(child: ChildProcess, onEvent: (ev: Record<string, unknown>) => void): void {
  createInterface({ input: child.stdout! }).on('line', (l) => {
    try {
      onEvent(JSON.parse(l) as Record<string, unknown>);
    } catch {
      // not one of our lines (a library printing): ignore
    }
  });
}

function waitFor<T>(what: string, ms: number, register: (done: (v: T) => void) => void): Promise<T> {
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`bench preview: timed out waiting for ${what}`)), ms);
    register((v) => {
      clearTimeout(timer);
      ok(v);
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The viewer process, started once at the lowest priority and idle between its sessions: each viewer window
 * opens fresh WHEP sessions and ends them with DELETE, so a window costs seconds, not a process start.
 */
class Viewer {
  private received = 0;
  private bytes = { total: 0, atMs: 0 };
  private onEvent: ((ev: string) => void) | undefined;
  private constructor(private readonly child: ChildProcess) {
    lines(child, (ev) => {
      if (typeof ev.frames === 'number') this.received = ev.frames;
      if (typeof ev.bytes === 'number') this.bytes = { total: ev.bytes, atMs: performance.now() };
      this.onEvent?.(ev.event as string);
    });
  }

  static start(): Viewer {
    return new Viewer(spawn('nice', ['-n', '10', process.execPath, self, 'viewer'], { stdio: ['pipe', 'pipe', 'inherit'] }));
  }

  /** Decodable frames received by all sessions since the process started (reported once a second). */
  get frames(): number {
    return this.received;
  }

  /** RTP bytes received by all sessions since the process started, and when that report arrived. */
  get bytesReceived(): { total: number; atMs: number } {
    return this.bytes;
  }

  private command(line: string, until: string, ms: number): Promise<void> {
    const done = waitFor<void>(`the viewer (${line.split(' ')[0]})`, ms, (ok) => (this.onEvent = (ev) => ev === until && ok()));
    this.child.stdin!.write(`${line}\n`);
    return done;
  }

  connect(url: string, count: number): Promise<void> {
    return this.command(`connect ${url} ${count}`, 'connected', 30_000);
  }

  disconnect(): Promise<void> {
    return this.command('disconnect', 'closed', 10_000);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.stdin!.end();
    const t = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  }
}

export async function benchPreview(): Promise<Row[]> {
  const media = join(sharedDir(), 'media', 'street.avi');
  if (!existsSync(media)) return [{ benchmark: 'preview', skipped: `no ${media} (set PAFCAST_SHARED)` }];
  const [brokerPort, httpPort] = [await freePort(), await freePort()];
  const prefix = 'pafbench';
  const device = `preview${process.pid}`;
  const child = spawn(process.execPath, [
    join(packageRoot, 'bin', 'pafcast.js'), 'run', '--source', media, '--loop', '--height', String(NET_HEIGHT),
    '--broker-port', String(brokerPort), '--prefix', prefix, '--device-id', device, '--log-level', 'warn',
    '--set', 'telemetry.scale.enabled=false', '--set', 'preview.enabled=true', '--set', `http.port=${httpPort}`,
    '--set', 'mqtt.stats_interval_s=1',
  ], { cwd: packageRoot, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  const alive = () => child.exitCode === null && child.signalCode === null;
  let client: MqttClient | undefined;
  const viewer = Viewer.start();
  try {
    client = await connectWithRetry(`mqtt://127.0.0.1:${brokerPort}`, Date.now() + 120_000, alive);
    let poses = 0;
    let drawn = 0;
    let encoder = '';
    let firstPose: (() => void) | undefined;
    client.on('message', (topic, payload) => {
      if (topic.endsWith('/poses')) {
        poses++;
        firstPose?.();
      } else if (topic.endsWith('/stats')) {
        const preview = (JSON.parse(payload.toString()) as StatsPayload).preview as { frames_drawn?: number; encoder?: string } | undefined;
        drawn = preview?.frames_drawn ?? drawn;
        encoder = preview?.encoder ?? encoder;
      }
    });
    await client.subscribeAsync([`${prefix}/${device}/poses`, `${prefix}/${device}/stats`], { qos: 0 });
    await waitFor<void>('the first poses', 120_000, (done) => (firstPose = done));
    firstPose = undefined;
    const agent: AgentProbe = { pid: child.pid!, posesSeen: () => poses, framesDrawn: () => drawn };
    await sleep(WARMUP_S * 1000);
    await warmUpViewer(viewer, `http://127.0.0.1:${httpPort}/whep/live`);

    const windows: Window[] = [await measure(agent, viewer, 0, WINDOW_S)];
    for (let c = 0; c < CYCLES; c++) {
      for (const n of [1, 3]) {
        await viewer.connect(`http://127.0.0.1:${httpPort}/whep/live`, n);
        await sleep(SETTLE_S * 1000);
        windows.push(await measure(agent, viewer, n, WINDOW_S));
        await viewer.disconnect();
        await sleep(SETTLE_S * 1000); // the sessions close and the encoder stops
        windows.push(await measure(agent, viewer, 0, WINDOW_S));
      }
    }
    if (!alive()) throw new Error(`the agent exited during the benchmark: ${stderr}`);

    const hz = ticksPerSecond();
    const fps = (w: Window) => w.frames / w.seconds;
    const sum = (ws: Window[], f: (w: Window) => number) => ws.reduce((a, w) => a + f(w), 0);
    const perFrame = (ws: Window[], f: (w: Window) => number) => (sum(ws, f) / hz) * 1000 / Math.max(1, sum(ws, (w) => w.frames));
    const of = (n: number) => windows.filter((w) => w.viewers === n);
    const base = perFrame(of(0), (w) => w.agentTicks + w.encoderTicks);
    const extra = (n: number) => perFrame(of(n), (w) => w.agentTicks + w.encoderTicks) - base;
    const row = (n: number): Row => {
      const ws = of(n);
      const secs = sum(ws, (w) => w.seconds);
      return {
        case: n === 0 ? '0 viewers' : `${n} viewer${n > 1 ? 's' : ''}`,
        windows: `${ws.length} × ${WINDOW_S} s`,
        'fps (median)': fmt(median(ws.map(fps))),
        'fps range': `${fmt(Math.min(...ws.map(fps)))}..${fmt(Math.max(...ws.map(fps)))}`,
        'agent ms/frame': fmt(perFrame(ws, (w) => w.agentTicks), 1),
        'encoder ms/frame': fmt(perFrame(ws, (w) => w.encoderTicks), 1),
        'extra ms/frame': n === 0 ? '' : fmt(extra(n), 1),
        'capture CPU %': fmt((sum(ws, (w) => w.captureTicks) / hz / secs) * 100, 0),
        'frames drawn': sum(ws, (w) => w.drawn),
        'viewer frames': n === 0 ? '' : sum(ws, (w) => w.received),
      };
    };
    const e1 = extra(1), e3 = extra(3);
    return [
      row(0),
      row(1),
      row(3),
      {
        case: `target: extra of 1 viewer ≤ ${PREVIOUS_EXTRA_MS / 2} ms (half of issue 17's ${PREVIOUS_EXTRA_MS} for wrtc)`,
        windows: encoder,
        'fps (median)': `${fmt(e1, 1)} ms: ${e1 <= PREVIOUS_EXTRA_MS / 2 ? 'ok' : 'MISSED'}`,
      },
      {
        case: 'target: extra of 3 viewers ≤ 1.5 × 1 viewer',
        windows: '',
        // Below a millisecond the difference is inside the noise of this machine: no ratio is worth printing.
        'fps (median)': e1 < 1 ? `${fmt(e3, 1)} vs ${fmt(e1, 1)} ms (both within noise)` : `${fmt(e3 / e1, 2)}× (${fmt(e3, 1)} vs ${fmt(e1, 1)} ms): ${e3 <= 1.5 * e1 ? 'ok' : 'MISSED'}`,
      },
    ];
  } finally {
    await viewer.stop();
    await client?.endAsync().catch(() => undefined);
    if (alive()) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    }
  }
}

interface AloneRun {
  rows: Array<{ n: number; ms: number; enc: number; frames: number; received: number; kbps: number }>;
}

/**
 * One isolated live view child (`script`, speaking the `ready`/`sample` protocol) through the 0/1/0/3/0 windows;
 * `kbps`, when given, is the new path's preview.max_bitrate_kbps (the previous path's child ignores it).
 */
async function measureAlone(script: string, kbps?: number): Promise<AloneRun> {
  const port = await freePort();
  // The previous path's child lives in another checkout: tell it where this one's shared media are.
  const env = { ...process.env, PAFCAST_SHARED: sharedDir() };
  const args = [script, 'alone', String(port), ...(kbps ? [String(kbps)] : [])];
  const child = spawn(process.execPath, args, { cwd: packageRoot, env, stdio: ['pipe', 'pipe', 'inherit'] });
  let cpuMs = 0, frames = 0, encoderPid = 0;
  let ready: (() => void) | undefined;
  lines(child, (ev) => {
    if (ev.event === 'ready') ready?.();
    if (ev.event === 'sample') {
      cpuMs = ev.cpuMs as number;
      frames = ev.offered as number;
      encoderPid = (ev.encoderPid as number) ?? 0;
    }
  });
  const sample = async () => {
    child.stdin!.write('sample\n');
    await sleep(300);
    return { cpuMs, frames, enc: encoderPid ? encoderTicks(encoderPid) : 0 };
  };
  const viewer = Viewer.start();
  try {
    await waitFor<void>('the isolated live view', 60_000, (done) => (ready = done));
    const rows: AloneRun['rows'] = [];
    const run = async (n: number) => {
      if (n > 0) {
        await viewer.connect(`http://127.0.0.1:${port}/whep/live`, n);
        await sleep(SETTLE_S * 1000);
      }
      const r0 = viewer.frames, bytes0 = viewer.bytesReceived;
      const a = await sample();
      await sleep(WINDOW_S * 1000);
      const b = await sample();
      await sleep(1100);
      // Bytes are reported once a second: the rate between the two reports, per viewer, in kbit/s.
      const bytes1 = viewer.bytesReceived;
      const kbps = n > 0 && bytes1.atMs > bytes0.atMs ? ((bytes1.total - bytes0.total) * 8) / (bytes1.atMs - bytes0.atMs) / n : 0;
      // The encoder child of this window (a new one per viewing period): its ticks since it started when it is new.
      const enc = a.enc && b.enc >= a.enc ? b.enc - a.enc : b.enc;
      rows.push({ n, ms: b.cpuMs - a.cpuMs, enc: (enc / ticksPerSecond()) * 1000, frames: b.frames - a.frames, received: viewer.frames - r0, kbps });
      if (n > 0) {
        await viewer.disconnect();
        await sleep(SETTLE_S * 1000);
      }
    };
    await warmUpViewer(viewer, `http://127.0.0.1:${port}/whep/live`);
    await run(0);
    for (let c = 0; c < CYCLES; c++) for (const n of [1, 0, 3, 0]) await run(n);
    return { rows };
  } finally {
    await viewer.stop();
    child.stdin!.end();
    await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
  }
}

/** Per frame over all windows with `n` viewers: the sum of `f` over their frames. */
function perFrame(run: AloneRun, n: number, f: (r: AloneRun['rows'][number]) => number): number {
  const ws = run.rows.filter((r) => r.n === n);
  return ws.reduce((a, r) => a + f(r), 0) / Math.max(1, ws.reduce((a, r) => a + r.frames, 0));
}

/** Median over the windows with `n` viewers of the bit rate one viewer received, kbit/s. */
const kbpsOf = (run: AloneRun, n: number) => median(run.rows.filter((r) => r.n === n).map((r) => r.kbps));

const extraOf = (run: AloneRun, n: number) => perFrame(run, n, (r) => r.ms + r.enc) - perFrame(run, 0, (r) => r.ms + r.enc);

function aloneRows(label: string, run: AloneRun): Row[] {
  return [0, 1, 3].map((n) => {
    const ws = run.rows.filter((r) => r.n === n);
    return {
      case: `${label}${n === 0 ? '0 viewers' : `${n} viewer${n > 1 ? 's' : ''}`}`,
      windows: `${ws.length} × ${WINDOW_S} s`,
      'frames offered': ws.reduce((a, r) => a + r.frames, 0),
      'service ms/frame': fmt(perFrame(run, n, (r) => r.ms), 2),
      'encoder ms/frame': fmt(perFrame(run, n, (r) => r.enc), 2),
      'extra ms/frame': n === 0 ? '' : fmt(extraOf(run, n), 2),
      'viewer frames': n === 0 ? '' : ws.reduce((a, r) => a + r.received, 0),
      'kbit/s a viewer': n === 0 ? '' : Math.round(kbpsOf(run, n)),
    };
  });
}

/**
 * The isolated live view (see the header): one row per viewer count. With PAFCAST_BENCH_PREVIEW_PREVIOUS set to the
 * child that bench/previous-live-view.sh builds, the previous live view is measured too, alternately with this one
 * (new, previous, new at the previous path's delivered bit rate; twice), and the one-viewer target is judged against
 * it: the same machine state, where the fixed figure of issue 17 (≈ 13 ms) was taken on a day this machine was
 * 2–3× slower.
 */
export async function benchPreviewAlone(): Promise<Row[]> {
  const media = join(sharedDir(), 'media', 'street.avi');
  if (!existsSync(media)) return [{ benchmark: 'preview alone', skipped: `no ${media}` }];
  const previous = process.env.PAFCAST_BENCH_PREVIEW_PREVIOUS;
  if (!previous) {
    const run = await measureAlone(self);
    const e1 = extraOf(run, 1), e3 = extraOf(run, 3);
    return [
      ...aloneRows('', run),
      { case: `target: extra of 1 viewer ≤ ${PREVIOUS_EXTRA_MS / 2} ms (issue 17's figure; see PAFCAST_BENCH_PREVIEW_PREVIOUS)`, windows: '', 'frames offered': absoluteVerdict(e1) },
      { case: 'target: extra of 3 viewers ≤ 1.5 × 1 viewer', windows: '', 'frames offered': `${fmt(e3 / e1, 2)}× (${fmt(e3, 2)} vs ${fmt(e1, 2)} ms): ${e3 <= 1.5 * e1 ? 'ok' : 'MISSED'}` },
    ];
  }
  if (!existsSync(previous)) throw new Error(`PAFCAST_BENCH_PREVIEW_PREVIOUS: no ${previous} (build it with bench/previous-live-view.sh)`);
  // Each round: the new path at its default bitrate, the previous path, then the new path again at the bitrate the
  // previous one actually delivered (libwebrtc's congestion control starts low and ramps: 360–400 kbit/s a viewer
  // in these windows here against the new encoder's 955–1023), so the last pair compares like with like. Rounded
  // to 10 kbit/s; 100 is the floor should no viewer bytes have been counted (0 would mean the encoder's default).
  const out: Row[] = [];
  const verdicts: Row[] = [];
  for (let round = 1; round <= 2; round++) {
    const n = await measureAlone(self);
    const p = await measureAlone(previous);
    const delivered = Math.max(100, Math.round(kbpsOf(p, 1) / 10) * 10);
    const same = await measureAlone(self, delivered);
    out.push(...aloneRows(`new, run ${round}: `, n), ...aloneRows(`previous, run ${round}: `, p), ...aloneRows(`new at ${delivered} kbit/s, run ${round}: `, same));
    const p1 = extraOf(p, 1), p3 = extraOf(p, 3);
    for (const [label, run] of [['1000 kbit/s (default)', n], [`${delivered} kbit/s (the previous path's rate)`, same]] as const) {
      const e1 = extraOf(run, 1), e3 = extraOf(run, 3);
      verdicts.push({ case: `target, run ${round}, new at ${label}: extra of 1 viewer ≤ ${PREVIOUS_EXTRA_MS / 2} ms (issue 17's figure)`, windows: '', 'frames offered': absoluteVerdict(e1) });
      verdicts.push({ case: `target, run ${round}, new at ${label}: extra of 1 viewer ≤ half of the previous path's`, windows: '', 'frames offered': `${fmt(e1, 2)} vs ${fmt(p1, 2)} ms (${fmt(e1 / p1, 2)}×): ${e1 <= p1 / 2 ? 'ok' : 'MISSED'}` });
      verdicts.push({ case: `target, run ${round}, new at ${label}: extra of 3 viewers ≤ 1.5 × 1 viewer`, windows: '', 'frames offered': `${fmt(e3 / e1, 2)}× (previous path: ${fmt(p3 / p1, 2)}×): ${e3 <= 1.5 * e1 ? 'ok' : 'MISSED'}` });
    }
  }
  out.push(...verdicts);
  return out;
}

function encoderTicks(pid: number): number {
  const t = procTimes(pid);
  return t ? t.own : 0;
}

/**
 * Child: the isolated live view on `port`. Decodes street.avi once (at the capture's 654×368), then offers a frame
 * every 1/15 s with six people's poses; `sample` on stdin prints its CPU so far, frames offered and the encoder pid.
 */
async function runAlone(port: number, kbps?: number): Promise<void> {
  const emit = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);
  const media = join(sharedDir(), 'media', 'street.avi');
  const w = 654, h = 368;
  const clip = await new Promise<Uint8Array[]>((ok, fail) => {
    const ff = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', media, '-frames:v', '60', '-vf', `scale=${w}:${h}`, '-f', 'rawvideo', '-pix_fmt', 'bgr24', 'pipe:1'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const chunks: Buffer[] = [];
    ff.stdout.on('data', (c: Buffer) => chunks.push(c));
    ff.on('exit', (code) => {
      const all = Buffer.concat(chunks);
      const n = Math.floor(all.length / (w * h * 3));
      if (code !== 0 || n === 0) return fail(new Error(`ffmpeg could not decode ${media}`));
      ok(Array.from({ length: n }, (_, i) => new Uint8Array(all.subarray(i * w * h * 3, (i + 1) * w * h * 3))));
    });
  });
  const layout = layoutOf(loadManifest('lightweight-openpose-coco18'));
  // Six standing people across the frame: every limb of the COCO-18 layout drawn, as on street.avi.
  const people = Array.from({ length: 6 }, (_, p) => {
    const kp = new Float32Array(layout.numParts * 3);
    const cx = 60 + p * 100, top = 80;
    for (let k = 0; k < layout.numParts; k++) {
      kp[k * 3] = cx + ((k % 3) - 1) * 12;
      kp[k * 3 + 1] = top + (k / layout.numParts) * 220;
      kp[k * 3 + 2] = 0.9;
    }
    return { id: p + 1, keypoints: kp };
  });
  const quiet = { info() {}, warn() {}, error() {} };
  const http = new HttpServer({ host: '127.0.0.1', port, token: undefined }, quiet);
  const cfg = previewConfig({ enabled: true, ...(kbps ? { max_bitrate_kbps: kbps } : {}) });
  const preview = new PreviewService(cfg, layout, quiet);
  await preview.start();
  registerWhep(http, cfg.stream, () => (preview.sessions ? { sessions: preview.sessions, codec: preview.codec } : undefined));
  await http.start();
  let offered = 0;
  const timer = setInterval(() => {
    preview.offer({ data: clip[offered % clip.length]!, width: w, height: h, order: 'bgr' }, people, { fps: 15, netWidth: 456, netHeight: 256 });
    offered++;
  }, 1000 / 15);
  emit({ event: 'ready' });
  const input = createInterface({ input: process.stdin });
  for await (const line of input) {
    if (line.trim() === 'sample') {
      const u = process.cpuUsage();
      emit({ event: 'sample', cpuMs: (u.user + u.system) / 1000, offered, encoderPid: preview.encoderPid ?? 0 });
    }
  }
  clearInterval(timer);
  await preview.stop();
  await http.stop();
  process.exit(0);
}

/**
 * Child: the viewers. Reads `connect <url> <count>` / `disconnect` lines; prints {"event":"connected"} once every
 * session is connected and {"event":"closed"}, and the decodable frames of all sessions so far every second.
 * Ends with its stdin.
 */
async function runViewer(): Promise<void> {
  const emit = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);
  let clients: WhepClient[] = [];
  let past = 0;
  let bytes = 0;
  const total = () => past + clients.reduce((a, c) => a + c.decodableFrames, 0);
  const report = setInterval(() => emit({ event: 'frames', frames: total(), bytes }), 1000);
  const input = createInterface({ input: process.stdin });
  for await (const line of input) {
    const [cmd, url, count] = line.trim().split(/\s+/);
    if (cmd === 'connect' && url && clients.length === 0) {
      for (let i = 0; i < Number(count ?? 1); i++) {
        const c = await WhepClient.connect(url, { onRtp: (packet) => (bytes += packet.length) });
        if (c.status !== 201) throw new Error(`viewer refused: ${c.status} ${c.body}`);
        clients.push(c);
      }
      const check = () => clients.every((c) => c.connectionState === 'connected') && (emit({ event: 'connected' }), true);
      if (!check()) for (const c of clients) c.onState(() => void check());
    } else if (cmd === 'disconnect') {
      past = total();
      await Promise.all(clients.map((c) => c.close()));
      clients = [];
      emit({ event: 'closed' });
    }
  }
  clearInterval(report);
  await Promise.all(clients.map((c) => c.close()));
  process.exit(0);
}

if (process.argv[1] === self) {
  if (process.argv[2] === 'viewer') await runViewer();
  else if (process.argv[2] === 'alone') await runAlone(Number(process.argv[3]), process.argv[4] ? Number(process.argv[4]) : undefined);
  else {
    for (const row of [...(await benchPreview()), ...(await benchPreviewAlone())]) process.stdout.write(`${JSON.stringify(row)}\n`);
    process.exit(0);
  }
}
