// The set of WHEP viewers: one RTCPeerConnection each, all fed from one shared video source.
// Owns admission (viewer limit), the offer/answer exchange, and reaping sessions whose peer is gone.

import { randomUUID } from 'node:crypto';
import { HttpError } from '../http/errors.js';
import { withBandwidthLimit } from './sdp.js';
import { iceGatheringDone, type MediaTrack, type PeerConnection, type VideoSource, type Wrtc } from './wrtc.js';

export interface SessionPolicy {
  maxViewers: number;
  /** A session failed/disconnected/closed for this long is removed. */
  reapAfterMs: number;
  /** A session that has not connected this long after its offer is removed. */
  connectTimeoutMs: number;
  /** Send-bitrate cap per viewer, kbit/s; 0 = none. */
  maxBitrateKbps: number;
}

export interface SessionsLog {
  info(obj: unknown, msg?: string): void;
  warn(obj: unknown, msg?: string): void;
}

type ConnectionState = PeerConnection['connectionState'];

interface SessionState {
  state: ConnectionState;
  createdAt: number;
  everConnected: boolean;
  /** When the connection was first seen failed/disconnected/closed without recovering since. */
  downSince: number | undefined;
}

export type Verdict = 'keep' | 'vanished' | 'never-connected';

const DOWN_STATES: ReadonlySet<ConnectionState> = new Set(['failed', 'disconnected', 'closed']);

/** The reaping rule, kept pure so it can be tested without a network. */
export function verdict(s: SessionState, now: number, policy: SessionPolicy): Verdict {
  if (s.downSince !== undefined && now - s.downSince >= policy.reapAfterMs) return 'vanished';
  if (!s.everConnected && now - s.createdAt >= policy.connectTimeoutMs) return 'never-connected';
  return 'keep';
}

/** Updates the down/connected bookkeeping of `s` for the state seen at `now`. */
export function observe(s: SessionState, state: ConnectionState, now: number): void {
  s.state = state;
  if (state === 'connected') s.everConnected = true;
  if (DOWN_STATES.has(state)) s.downSince ??= now;
  else s.downSince = undefined;
}

interface Session extends SessionState {
  id: string;
  pc: PeerConnection;
  track: MediaTrack;
}

/** How long the answer waits for ICE candidates: host candidates come in milliseconds, this only caps odd hosts. */
const GATHER_TIMEOUT_MS = 3000;
const REAP_INTERVAL_MS = 1000;

export class ViewerSessions {
  private readonly sessions = new Map<string, Session>();
  /** Offers being answered: they hold a viewer slot so concurrent POSTs cannot overshoot the limit. */
  private pending = 0;
  private reaper: NodeJS.Timeout | undefined;

  constructor(
    private readonly wrtc: Wrtc,
    private readonly source: VideoSource,
    private readonly policy: SessionPolicy,
    private readonly log: SessionsLog,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Sessions in any state, plus offers being answered. */
  get count(): number {
    return this.sessions.size + this.pending;
  }

  /** Sessions whose peer is connected right now: the only ones that see frames. */
  get connected(): number {
    let n = 0;
    for (const s of this.sessions.values()) if (s.pc.connectionState === 'connected') n++;
    return n;
  }

  has(id: string): boolean {
    return this.sessions.has(id);
  }

  start(): void {
    this.reaper ??= setInterval(() => this.reap(), REAP_INTERVAL_MS);
    this.reaper.unref();
  }

  /** Answers a (validated) offer; throws HttpError 503 at the viewer limit, 400 when libwebrtc refuses the offer. */
  async open(offerSdp: string): Promise<{ id: string; answer: string }> {
    if (this.count >= this.policy.maxViewers)
      throw new HttpError(503, `viewer limit reached (${this.policy.maxViewers}); try again later`, { 'Retry-After': '10' });
    this.pending++;
    const pc = new this.wrtc.RTCPeerConnection({ iceServers: [] });
    let track: MediaTrack | undefined;
    try {
      try {
        await pc.setRemoteDescription({ type: 'offer', sdp: withBandwidthLimit(offerSdp, this.policy.maxBitrateKbps) });
      } catch (e) {
        throw new HttpError(400, `the offer was refused: ${(e as Error).message}`);
      }
      track = this.source.createTrack();
      pc.addTrack(track);
      await pc.setLocalDescription(await pc.createAnswer());
      await iceGatheringDone(pc, GATHER_TIMEOUT_MS);
      const answer = pc.localDescription?.sdp ?? '';
      // A video m-line answered with port 0 means libwebrtc found nothing it can send there.
      if (!/^m=video [1-9]/m.test(answer)) throw new HttpError(400, 'no video stream could be negotiated from this offer');
      const id = randomUUID();
      const session: Session = { id, pc, track, state: pc.connectionState, createdAt: this.now(), everConnected: false, downSince: undefined };
      pc.addEventListener('connectionstatechange', () => {
        observe(session, pc.connectionState, this.now());
        this.log.info({ session: id, state: pc.connectionState }, 'viewer connection state');
      });
      this.sessions.set(id, session);
      this.log.info({ session: id, viewers: this.sessions.size }, 'viewer session opened');
      return { id, answer };
    } catch (e) {
      track?.stop();
      pc.close();
      throw e;
    } finally {
      this.pending--;
    }
  }

  /** Ends a session; false when there is no such session. */
  close(id: string, why: string): boolean {
    const s = this.sessions.get(id);
    if (!s) return false;
    this.sessions.delete(id);
    s.track.stop();
    s.pc.close();
    this.log.info({ session: id, why, viewers: this.sessions.size }, 'viewer session closed');
    return true;
  }

  /** Removes sessions whose peer vanished or never arrived; runs every second while started. */
  reap(): void {
    const now = this.now();
    for (const s of [...this.sessions.values()]) {
      observe(s, s.pc.connectionState, now);
      const v = verdict(s, now, this.policy);
      if (v !== 'keep') this.close(s.id, v);
    }
  }

  stop(): void {
    if (this.reaper) clearInterval(this.reaper);
    this.reaper = undefined;
    for (const id of [...this.sessions.keys()]) this.close(id, 'preview stopped');
  }
}
