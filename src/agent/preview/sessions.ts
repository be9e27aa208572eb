// WHEP viewer sessions: one WebRTC peer per viewer, the viewer limit, handing every viewer the one encoded
// stream, and reaping sessions whose peer is gone. A viewer is sent packets from the first keyframe after it
// connects (the encoder is asked for one right then), so it never starts on frames it cannot decode.

import { randomUUID } from 'node:crypto';
import { HttpError } from '../http/errors.js';
import type { VideoCodec } from './rtp.js';
import { narrowOffer } from './sdp.js';
import { answerOffer, OfferRefused, type ConnectionState, type SendingPeer } from './transport.js';

export interface SessionPolicy {
  maxViewers: number;
  /** A session failed/disconnected/closed for this long is removed. */
  reapAfterMs: number;
  /** A session that has not connected this long after its offer is removed. */
  connectTimeoutMs: number;
}

export interface SessionsLog {
  info(obj: unknown, msg?: string): void;
  warn(obj: unknown, msg?: string): void;
}

/** What the sessions need from the stream they hand out. */
export interface StreamControl {
  codec: VideoCodec;
  /** A session was opened: the stream must run (it may take a moment to start). */
  demand(): void;
  /** The last session closed: the stream may stop. */
  idle(): void;
  /** A viewer needs a keyframe (it just connected, or reported picture loss). */
  requestKeyframe(): void;
}

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
  peer: SendingPeer;
  /** Packets flow once a keyframe starts after the peer connected. */
  live: boolean;
}

const REAP_INTERVAL_MS = 1000;
/**
 * A connected viewer not heard from for this long counts as disconnected (and is reaped reap_timeout_s later):
 * browsers send RTCP about once a second while media flows and ICE consent checks every ~5 s (RFC 7675) even when
 * it does not; werift's own consent expiry only gives up after 30 s.
 */
export const SILENCE_MS = 8000;

export class ViewerSessions {
  private readonly sessions = new Map<string, Session>();
  /** Offers being answered: they hold a viewer slot so concurrent POSTs cannot overshoot the limit. */
  private pending = 0;
  private reaper: NodeJS.Timeout | undefined;
  private connectedCount = 0;

  constructor(
    private readonly stream: StreamControl,
    private readonly policy: SessionPolicy,
    private readonly log: SessionsLog,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Sessions in any state, plus offers being answered. */
  get count(): number {
    return this.sessions.size + this.pending;
  }

  /** Sessions whose peer is connected right now: the only ones anything is drawn for. */
  get connected(): number {
    return this.connectedCount;
  }

  has(id: string): boolean {
    return this.sessions.has(id);
  }

  start(): void {
    this.reaper ??= setInterval(() => this.reap(), REAP_INTERVAL_MS);
    this.reaper.unref();
  }

  /**
   * Answers a checked offer; throws HttpError 503 at the viewer limit, 400 when the WebRTC stack refuses it.
   * `loopback`: the viewer is on this machine.
   */
  async open(offerSdp: string, loopback: boolean): Promise<{ id: string; answer: string }> {
    if (this.count >= this.policy.maxViewers)
      throw new HttpError(503, `viewer limit reached (${this.policy.maxViewers}); try again later`, { 'Retry-After': '10' });
    this.pending++;
    // The encoder starts now, while ICE and DTLS connect: its first frame is ready when the viewer is.
    this.stream.demand();
    let peer: SendingPeer | undefined;
    try {
      const { sdp, payloadType } = narrowOffer(offerSdp, this.stream.codec);
      try {
        peer = await answerOffer(sdp, this.stream.codec, payloadType, loopback);
      } catch (e) {
        if (e instanceof OfferRefused) throw new HttpError(400, e.message);
        throw e;
      }
      const id = randomUUID();
      const session: Session = { id, peer, state: peer.connectionState, createdAt: this.now(), everConnected: false, downSince: undefined, live: false };
      peer.onState((state) => this.changed(session, state));
      peer.onPictureLoss(() => this.stream.requestKeyframe());
      this.sessions.set(id, session);
      this.log.info({ session: id, viewers: this.sessions.size }, 'viewer session opened');
      return { id, answer: peer.answer };
    } catch (e) {
      peer?.close();
      throw e;
    } finally {
      this.pending--;
      if (this.count === 0) this.stream.idle();
    }
  }

  /** Hands one encoded packet to every connected viewer (from its first keyframe on). */
  forward(packet: Buffer, keyframe: boolean): void {
    for (const s of this.sessions.values()) {
      if (!s.live) {
        if (!keyframe || s.state !== 'connected') continue;
        s.live = true;
      }
      s.peer.send(packet);
    }
  }

  /** Ends a session; false when there is no such session. */
  close(id: string, why: string): boolean {
    const s = this.sessions.get(id);
    if (!s) return false;
    this.sessions.delete(id);
    if (s.state === 'connected') this.connectedCount--;
    s.state = 'closed';
    s.peer.close();
    this.log.info({ session: id, why, viewers: this.sessions.size }, 'viewer session closed');
    if (this.count === 0) this.stream.idle();
    return true;
  }

  /** Removes sessions whose peer vanished or never arrived; runs every second while started. */
  reap(): void {
    const now = this.now();
    for (const s of [...this.sessions.values()]) {
      const state = s.peer.connectionState;
      this.changed(s, state === 'connected' && now - s.peer.lastHeardMs > SILENCE_MS ? 'disconnected' : state, now);
      const v = verdict(s, now, this.policy);
      if (v !== 'keep') this.close(s.id, v);
    }
  }

  stop(): void {
    if (this.reaper) clearInterval(this.reaper);
    this.reaper = undefined;
    for (const id of [...this.sessions.keys()]) this.close(id, 'preview stopped');
  }

  private changed(s: Session, state: ConnectionState, now = this.now()): void {
    if (!this.sessions.has(s.id) || state === s.state) {
      observe(s, state, now);
      return;
    }
    const was = s.state;
    observe(s, state, now);
    if (was === 'connected') this.connectedCount--;
    if (state === 'connected') {
      this.connectedCount++;
      // Start this viewer at a fresh keyframe rather than waiting for the next one of the GOP.
      s.live = false;
      this.stream.requestKeyframe();
    }
    this.log.info({ session: s.id, state }, 'viewer connection state');
  }
}
