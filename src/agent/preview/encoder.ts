// The live view's encoder child: drawn I420 frames go to its stdin, RTP packets come back on its stdout
// (RFC 4571 framed), keyframe requests go to its fd 3 as RTCP. One child for all viewers; it runs only while
// someone watches (the service starts and stops it). A child that dies is restarted with backoff and the reason
// logged, until stop().
//
// Per packet, in place: the RTP timestamp becomes the frame's capture time (90 kHz), found from the frame number
// the child's timestamps count (frame × 90000 / fps), so viewers see real timing even when the pipeline delivers
// fewer frames than the nominal rate; sequence numbers continue across child restarts.

import { spawn, type ChildProcess } from 'node:child_process';
import type { Writable } from 'node:stream';
import { lastLine } from '../capture/exec.js';
import { allocI420, type I420Frame } from './i420.js';
import { keyframeStart, marker, pictureLossIndication, frame4571, Rfc4571Reader, rtpTimestamp, sequenceNumber, setRtpTimestamp, type VideoCodec } from './rtp.js';
import { encoderEnv, fpsFraction } from './encoder-plan.js';

export interface EncoderLog {
  info(obj: unknown, msg?: string): void;
  warn(obj: unknown, msg?: string): void;
}

export interface EncoderSpec {
  argv: readonly string[];
  codec: VideoCodec;
  width: number;
  height: number;
  fps: number;
  /** SSRC the child's payloader uses (the PLI names it). */
  ssrc: number;
  /** Logged with the command: which encoder and why. */
  describe: Record<string, unknown>;
  /** The child's environment (default: the agent's, with the malloc tunables of encoderEnv). */
  env?: NodeJS.ProcessEnv;
}

export interface EncoderCounters {
  /** Frames written to the child. */
  frames: number;
  /** Frames not drawn because the child was behind. */
  dropped: number;
  packets: number;
  bytes: number;
  keyframes: number;
  restarts: number;
}

export interface EncodedPacket {
  packet: Buffer;
  /** First packet of a frame (the previous packet ended one). */
  frameStart: boolean;
  /** A viewer can begin decoding at this packet (H.264: the SPS sent before each IDR; VP8: a keyframe's start). */
  keyframe: boolean;
}

/**
 * Frames in flight to the child: one being written, two waiting. Beyond that the child is behind and a frame is
 * dropped before it is drawn (counted), instead of queueing memory and latency.
 */
const POOL_SIZE = 3;
/** Capture times of the last frames written, by frame number; far more than the child ever holds. */
const TIME_RING = 256;
const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 30_000;
/** A child that ran this long resets the backoff: its death is news, not a crash loop. */
const HEALTHY_AFTER_MS = 10_000;
/** Keyframe requests closer than this are one request (viewers send PLI in bursts; an IDR is large). */
const KEYFRAME_REQUEST_GAP_MS = 300;
/** The SSRC the agent's RTCP claims to come from (rtpsession only needs it to be some other source). */
const AGENT_RTCP_SSRC = 0x7061_6663; // "pafc"
const STOP_GRACE_MS = 2000;

export class EncoderProcess {
  private child: ChildProcess | undefined;
  private stdin: Writable | undefined;
  private rtcp: Writable | undefined;
  private readonly free: I420Frame[] = [];
  /** Per pool frame, the write callback that returns it to the pool (made once: nothing allocated per frame). */
  private readonly backToPool = new Map<I420Frame, () => void>();
  private readonly times = new Float64Array(TIME_RING);
  private readonly fpsNum: number;
  private readonly fpsDen: number;
  /** Frames written to the current child: its next frame number. */
  private written = 0;
  private stopping = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private backoffMs = BACKOFF_MIN_MS;
  private startedAt = 0;
  private lastKeyRequest = -Infinity;
  private prevMarker = true;
  /** The current frame already counted as a keyframe (H.264 may repeat SPS before each slice). */
  private keyInFrame = false;
  /** Output sequence number = input + offset (mod 2^16); re-anchored for each child so numbers continue. */
  private seqOffset: number | undefined;
  private lastSeq = Math.floor(Math.random() * 0x10000);
  /** Random 90 kHz origin (RFC 3550 §5.1), then capture time. */
  private readonly tsOrigin = Math.floor(Math.random() * 0x1_0000_0000);
  private stderrTail = '';
  private exited: Promise<void> = Promise.resolve();
  private readonly stats: EncoderCounters = { frames: 0, dropped: 0, packets: 0, bytes: 0, keyframes: 0, restarts: 0 };

  constructor(
    private readonly spec: EncoderSpec,
    private readonly onPacket: (p: EncodedPacket) => void,
    private readonly log: EncoderLog,
  ) {
    ({ num: this.fpsNum, den: this.fpsDen } = fpsFraction(spec.fps));
    for (let i = 0; i < POOL_SIZE; i++) {
      const f = allocI420(spec.width, spec.height);
      this.free.push(f);
      this.backToPool.set(f, () => this.free.push(f));
    }
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get counters(): Readonly<EncoderCounters> {
    return this.stats;
  }

  start(): void {
    if (this.child || this.stopping) return;
    const [cmd, ...args] = this.spec.argv;
    const env = this.spec.env ?? encoderEnv((this.spec.width * this.spec.height * 3) / 2, process.env);
    this.log.info({ ...this.spec.describe, pipeline: this.spec.argv.join(' '), glibc_tunables: env.GLIBC_TUNABLES }, 'preview encoder');
    const child = spawn(cmd!, args, { stdio: ['pipe', 'pipe', 'pipe', 'pipe'], env });
    this.child = child;
    this.stdin = child.stdin!;
    this.rtcp = child.stdio[3] as Writable;
    this.written = 0;
    this.prevMarker = true;
    this.seqOffset = undefined;
    this.startedAt = performance.now();
    this.stderrTail = '';
    // EPIPE on a dying child's pipes: its exit handler reports why.
    this.stdin.on('error', () => undefined);
    this.rtcp.on('error', () => undefined);
    const reader = new Rfc4571Reader((p) => this.packet(p));
    child.stdout!.on('data', (chunk: Buffer) => reader.push(chunk));
    child.stderr!.setEncoding('utf8').on('data', (s: string) => (this.stderrTail = (this.stderrTail + s).slice(-2000)));
    this.exited = new Promise((resolve) => {
      child.once('error', (e) => {
        this.stderrTail += `\n${(e as NodeJS.ErrnoException).code === 'ENOENT' ? `${cmd} is not installed` : e.message}`;
      });
      child.once('close', (code, signal) => {
        this.gone(child, code, signal);
        resolve();
      });
    });
  }

  /** A free frame to draw the next picture into, or undefined when the child is behind (or not running). */
  acquire(): I420Frame | undefined {
    if (!this.child) return undefined;
    const f = this.free.pop();
    if (!f) this.stats.dropped++;
    return f;
  }

  /** Gives back a frame from acquire() that was not drawn after all. */
  release(frame: I420Frame): void {
    this.free.push(frame);
  }

  /** Hands a drawn frame (from acquire) to the child; it returns to the pool once written. */
  submit(frame: I420Frame, captureMs: number): void {
    const stdin = this.stdin;
    if (!stdin || !this.child) {
      this.free.push(frame);
      return;
    }
    this.times[this.written % TIME_RING] = captureMs;
    this.written++;
    this.stats.frames++;
    stdin.write(frame.data, this.backToPool.get(frame));
  }

  /** Asks the child for a keyframe now (a viewer joined, or reported picture loss). */
  requestKeyframe(): void {
    const now = performance.now();
    if (!this.rtcp || now - this.lastKeyRequest < KEYFRAME_REQUEST_GAP_MS) return;
    this.lastKeyRequest = now;
    this.rtcp.write(frame4571(pictureLossIndication(AGENT_RTCP_SSRC, this.spec.ssrc)));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    const child = this.child;
    if (!child) return;
    // EOS first (stdin closed) so the child ends cleanly; then a signal if it does not.
    child.stdin?.end();
    const t = setTimeout(() => child.kill('SIGTERM'), 200);
    const k = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    await this.exited;
    clearTimeout(t);
    clearTimeout(k);
  }

  private packet(p: Buffer): void {
    if (p.length < 12) return;
    // Frame number from the child's own timestamp, then that frame's capture time.
    const n = Math.round((rtpTimestamp(p) * this.fpsNum) / (90000 * this.fpsDen));
    const captured = n < this.written && this.written - n <= TIME_RING ? this.times[n % TIME_RING]! : performance.now();
    setRtpTimestamp(p, (this.tsOrigin + Math.round(captured * 90)) >>> 0);
    const seq = sequenceNumber(p);
    if (this.seqOffset === undefined) this.seqOffset = (this.lastSeq + 1 - seq) & 0xffff;
    const out = (seq + this.seqOffset) & 0xffff;
    p[2] = out >> 8;
    p[3] = out & 0xff;
    this.lastSeq = out;
    const frameStart = this.prevMarker;
    this.prevMarker = marker(p);
    // H.264: the SPS before an IDR (after an access unit delimiter, if any); VP8: the frame's first packet.
    const keyframe = keyframeStart(this.spec.codec, p);
    if (keyframe && !this.keyInFrame) this.stats.keyframes++;
    this.keyInFrame = (this.keyInFrame || keyframe) && !this.prevMarker;
    this.stats.packets++;
    this.stats.bytes += p.length;
    this.onPacket({ packet: p, frameStart, keyframe });
  }

  private gone(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child !== child) return;
    this.child = undefined;
    this.stdin = undefined;
    this.rtcp = undefined;
    // Frames still queued on the dead pipe come back through their write callbacks (with an error).
    if (this.stopping) return;
    const ranMs = performance.now() - this.startedAt;
    if (ranMs >= HEALTHY_AFTER_MS) this.backoffMs = BACKOFF_MIN_MS;
    this.stats.restarts++;
    this.log.warn(
      { code, signal, ran_s: Math.round(ranMs / 100) / 10, retry_in_ms: this.backoffMs, why: lastLine(this.stderrTail) },
      'preview encoder exited; restarting',
    );
    this.restartTimer = setTimeout(() => this.start(), this.backoffMs);
    this.restartTimer.unref();
    this.backoffMs = Math.min(this.backoffMs * 2, BACKOFF_MAX_MS);
  }
}
