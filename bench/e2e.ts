// End-to-end benchmark (issue 3, acceptance 4): the real agent (`node bin/pafcast.js run`, embedded
// broker) over street.avi at a pinned net height of 256, against an inference-only baseline on the
// same frames in this process, so the table shows what capture, MQTT and the agent's plumbing cost.
//
// Both sides process every frame of the file in order: the agent in `--every-frame` mode (the
// capture process waits for the pipeline), the baseline over frames decoded up front. Realtime mode
// would make the agent's FPS depend on how many frames it drops, not on how fast it works.
//
//   e2e FPS:      frames published per second, from the poses' own publish instants (ts + latency_ms),
//                 frames after the first WARMUP;
//   latency:      the poses' latency_ms (capture → publish, as the agent measures it), same frames;
//   CPU %:        /proc utime+stime of the agent, of its live descendants (the ffmpeg capture process)
//                 and of children it has reaped (cutime+cstime), over the same window; 100 % = one core;
//   peak RSS:     VmHWM of the agent's node process (the capture process's own peak is shown apart);
//   inference-only FPS: PoseRuntime.estimate (preprocess + inference + parse) back to back on the
//                 same frames, scaled to 368 px as the capture process delivers them; measured
//                 before and after the agent run (the mean is the baseline; both are shown, so drift
//                 from other load on the machine is visible).

import { spawn } from 'node:child_process';
import { cpus } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import type { PosesPayload } from '../src/agent/mqtt/topics.js';
import { packageRoot } from '../src/runtime/package-root.js';
import { PoseRuntime } from '../src/runtime/pose-runtime.js';
import type { RawFrame } from '../src/runtime/types.js';
import { decodeFrames } from './frames.js';
import { connectWithRetry, descendants, freePort, sampleTree, ticksPerSecond, vmHwmKb, type ProcSample } from './proc.js';
import { fmt, median, quantile, type Row } from './table.js';

const NET_HEIGHT = 256;
/** Height the agent's capture process scales frames to (source.output_height's default). */
const CAPTURE_HEIGHT = 368;
/** Frames left out at the start of every measurement (model warm-up, first allocations). */
const WARMUP = 5;
/** street.avi has 205 frames; a larger number just means "all". */
const MAX_FRAMES = Number(process.env.PAFCAST_BENCH_E2E_FRAMES ?? 10_000);
const TARGET_RATIO = 0.85;
const TARGET_RSS_MB = 350;

/** BGR, as the capture process delivers (decodeFrames gives RGB): same bytes through the same code paths. */
function toBgr(frames: RawFrame[]): RawFrame[] {
  return frames.map((f) => {
    const d = Uint8Array.from(f.data);
    for (let i = 0; i < d.length; i += 3) {
      const r = d[i]!;
      d[i] = d[i + 2]!;
      d[i + 2] = r;
    }
    return { ...f, data: d, order: 'bgr' };
  });
}

interface Baseline {
  fps: number;
  /** Median time of one estimate, ms (robust to stalls from other load; the FPS is the plain mean). */
  frameMs: number;
  cpuPct: number;
  frames: number;
}

async function inferenceOnly(runtime: PoseRuntime, frames: RawFrame[]): Promise<Baseline> {
  for (let i = 0; i < WARMUP; i++) await runtime.estimate(frames[i % frames.length]!, NET_HEIGHT);
  const measured = frames.slice(WARMUP);
  const cpu0 = process.cpuUsage();
  const each = new Float64Array(measured.length);
  const t0 = performance.now();
  for (let i = 0; i < measured.length; i++) {
    const t = performance.now();
    await runtime.estimate(measured[i]!, NET_HEIGHT);
    each[i] = performance.now() - t;
  }
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { fps: (measured.length * 1000) / ms, frameMs: median(each), cpuPct: ((cpu.user + cpu.system) / 1000 / ms) * 100, frames: measured.length };
}

interface AgentRun {
  frames: number;
  measured: number;
  missing: number;
  fps: number;
  /** Median time between consecutive publishes, ms. */
  frameMs: number;
  latencyP50: number;
  latencyP99: number;
  cpuPct: number;
  rssPeakMb: number;
  captureRssPeakMb: number;
  exit: string;
  stderr: string;
}

async function runAgent(video: string, sourceFrames: number): Promise<AgentRun> {
  const port = await freePort();
  const prefix = 'pafbench';
  const device = `e2e${process.pid}`;
  const args = [
    join(packageRoot, 'bin', 'pafcast.js'), 'run',
    '--source', video, '--every-frame',
    '--height', String(NET_HEIGHT),
    '--set', 'telemetry.scale.enabled=false',
    '--broker-port', String(port), '--prefix', prefix, '--device-id', device,
    // /metrics on any free port: another agent on this machine may hold 8080.
    '--set', 'http.port=0',
    '--log-level', 'warn',
  ];
  const child = spawn(process.execPath, args, { cwd: packageRoot, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? `code ${code}`)));
  const alive = () => child.exitCode === null && child.signalCode === null;
  const pid = child.pid!;

  const poses: Array<{ frame: number; publishedMs: number; latencyMs: number }> = [];
  let first: ProcSample | null = null;
  let last: ProcSample | null = null;
  let rssPeakKb = 0;
  let captureRssPeakKb = 0;
  const watch = (): void => {
    rssPeakKb = Math.max(rssPeakKb, vmHwmKb(pid) ?? 0);
    for (const k of descendants(pid)) captureRssPeakKb = Math.max(captureRssPeakKb, vmHwmKb(k) ?? 0);
  };
  const watcher = setInterval(watch, 200);

  let client: MqttClient | undefined;
  try {
    client = await connectWithRetry(`mqtt://127.0.0.1:${port}`, Date.now() + 120_000, alive);
    client.on('message', (_topic, payload) => {
      const p = JSON.parse(payload.toString()) as PosesPayload;
      poses.push({ frame: p.frame, publishedMs: p.ts + p.latency_ms, latencyMs: p.latency_ms });
      if (p.frame < WARMUP) return;
      const s = sampleTree(pid);
      if (!s) return;
      first ??= s;
      last = s;
      watch();
    });
    await client.subscribeAsync(`${prefix}/${device}/poses`, { qos: 0 });
    const exit = await exited;
    // Messages published just before the end may still be on their way.
    await new Promise((r) => setTimeout(r, 300));

    const measured = poses.filter((p) => p.frame >= WARMUP).sort((a, b) => a.publishedMs - b.publishedMs);
    const span = measured.length > 1 ? measured.at(-1)!.publishedMs - measured[0]!.publishedMs : NaN;
    const f = first as ProcSample | null;
    const l = last as ProcSample | null;
    const cpuPct = f && l && l.atMs > f.atMs ? ((l.ticks - f.ticks) / ticksPerSecond() / ((l.atMs - f.atMs) / 1000)) * 100 : NaN;
    const latencies = measured.map((p) => p.latencyMs);
    return {
      frames: poses.length,
      measured: measured.length,
      missing: Math.max(0, sourceFrames - poses.length),
      fps: ((measured.length - 1) * 1000) / span,
      frameMs: median(measured.slice(1).map((p, i) => p.publishedMs - measured[i]!.publishedMs)),
      latencyP50: median(latencies),
      latencyP99: quantile(latencies, 0.99),
      cpuPct,
      rssPeakMb: rssPeakKb / 1024,
      captureRssPeakMb: captureRssPeakKb / 1024,
      exit,
      stderr,
    };
  } finally {
    clearInterval(watcher);
    await client?.endAsync().catch(() => undefined);
    if (alive()) child.kill('SIGKILL');
  }
}

export async function benchEndToEnd(video: string): Promise<Row[]> {
  const decoded = await decodeFrames(video, MAX_FRAMES, CAPTURE_HEIGHT);
  if (decoded.length <= WARMUP + 1) throw new Error(`only ${decoded.length} frames decoded from ${video}`);
  const frames = toBgr(decoded);
  const src = frames[0]!;
  // Same inference config as the agent's defaults (onnxruntime/TensorRT auto, threads 0 = library default).
  const runtime = await PoseRuntime.create({ heights: [NET_HEIGHT], sourceSize: { width: src.width, height: src.height } });
  let before: Baseline, after: Baseline, agent: AgentRun;
  const device = runtime.backend.info.device;
  try {
    before = await inferenceOnly(runtime, frames);
    agent = await runAgent(video, frames.length);
    after = await inferenceOnly(runtime, frames);
  } finally {
    await runtime.dispose();
  }
  if (agent.measured < 2) throw new Error(`the agent published ${agent.frames} poses (exit ${agent.exit}): ${agent.stderr.slice(-500)}`);
  const baseFps = (before.fps + after.fps) / 2;
  const ratio = agent.fps / baseFps;
  const cores = cpus().length;
  return [
    {
      run: `inference only (PoseRuntime in-process, ${device})`,
      mode: 'every frame, decoded up front',
      frames: `${before.frames} + ${after.frames}`,
      fps: `${fmt(baseFps)} (before ${fmt(before.fps)}, after ${fmt(after.fps)})`,
      'frame ms p50': `${fmt(before.frameMs, 1)} / ${fmt(after.frameMs, 1)}`,
      'CPU % (100 = 1 core)': `${fmt((before.cpuPct + after.cpuPct) / 2, 0)} of ${cores * 100}`,
    },
    {
      run: 'pafcast run (embedded broker, agent + ffmpeg)',
      mode: 'every-frame (file, no loop)',
      frames: `${agent.measured}${agent.missing ? ` (${agent.missing} not received)` : ''}`,
      fps: fmt(agent.fps),
      'frame ms p50': fmt(agent.frameMs, 1),
      'e2e / inference-only': `${fmt(100 * ratio, 1)} % (target ≥ ${TARGET_RATIO * 100} %: ${ratio >= TARGET_RATIO ? 'ok' : 'MISSED'})`,
      'latency p50 ms': fmt(agent.latencyP50, 1),
      'latency p99 ms': fmt(agent.latencyP99, 1),
      'CPU % (100 = 1 core)': `${fmt(agent.cpuPct, 0)} of ${cores * 100}`,
      'peak RSS MB': `${fmt(agent.rssPeakMb, 0)} (target ≤ ${TARGET_RSS_MB}: ${agent.rssPeakMb <= TARGET_RSS_MB ? 'ok' : 'MISSED'}); ffmpeg ${fmt(agent.captureRssPeakMb, 0)}`,
      exit: agent.exit,
    },
  ];
}
