// A receive-only WHEP client on werift: what a browser viewer does, from Node, without a decoder. Counts the
// video frames that arrive complete (every packet of the frame, in sequence) and the ones a decoder could
// decode (complete, from a keyframe on, with no frame lost since), and hands out every RTP packet for a real
// decoder (test/agent/preview/support/viewer.ts feeds GStreamer). Used by the tests, the preview benchmark and
// anything that checks a live view without a browser.

import type * as Werift from 'werift';
import { h264KeyframeStart, vp8KeyframeStart, type VideoCodec } from './rtp.js';
import { H264_FMTP } from './sdp.js';
import { gathered, loadWerift, type ConnectionState } from './transport.js';

export interface WhepClientOptions {
  token?: string;
  /** How long to gather ICE candidates before sending the offer (the server takes no trickle ICE). */
  gatherTimeoutMs?: number;
  /** Called with every video RTP packet as received, and its payload type. */
  onRtp?: (packet: Buffer, payloadType: number) => void;
}

/** Frame bookkeeping, kept apart from the network so it can be tested on recorded packet sequences. */
export class FrameCounter {
  complete = 0;
  decodable = 0;
  keyframes = 0;
  /** Frames with a missing packet (loss not repaired by the time the frame ended). */
  broken = 0;
  private expectSeq: number | undefined;
  private frameOk = true;
  private frameKey = false;
  private frameStarted = false;
  /** The decoder's reference chain is intact (a keyframe arrived and no frame was lost since). */
  private chain = false;

  constructor(private readonly codec: VideoCodec) {}

  /** One RTP packet (header + payload), in arrival order. */
  push(packet: Buffer, payloadStart: number): void {
    const seq = (packet[2]! << 8) | packet[3]!;
    const markerBit = (packet[1]! & 0x80) !== 0;
    if (this.expectSeq !== undefined && seq !== this.expectSeq) {
      // A gap (or reordering, which WebRTC's NACK/RTX would repair in a browser): this frame is lost.
      this.frameOk = false;
    }
    this.expectSeq = (seq + 1) & 0xffff;
    if (!this.frameStarted) {
      this.frameStarted = true;
      this.frameKey = false;
    }
    // A keyframe: H.264 parameter sets in the frame (sent with every IDR), or a VP8 key frame's first packet.
    if (this.codec === 'H264' ? h264KeyframeStart(packet, payloadStart) : vp8KeyframeStart(packet, payloadStart)) this.frameKey = true;
    if (!markerBit) return;
    if (this.frameOk) {
      this.complete++;
      if (this.frameKey) {
        this.keyframes++;
        this.chain = true;
      }
      if (this.chain) this.decodable++;
    } else {
      this.broken++;
      this.chain = false;
    }
    this.frameStarted = false;
    this.frameOk = true;
  }
}

export class WhepClient {
  private counter: FrameCounter | undefined;
  private watching = false;
  /** Codec the answer chose (from the first packet's payload type). */
  private negotiated: VideoCodec | undefined;

  private constructor(
    readonly pc: Werift.RTCPeerConnection,
    /** HTTP status of the offer: 201 when a session was created. */
    readonly status: number,
    /** Response body: the SDP answer on 201, the reason otherwise. */
    readonly body: string,
    /** Absolute URL of the session (DELETE ends it), null when refused. */
    readonly location: string | null,
    private readonly token: string | undefined,
  ) {}

  /** Posts an offer to `endpoint`. Resolves after the HTTP exchange; media follows once ICE connects. */
  static async connect(endpoint: string, opts: WhepClientOptions = {}): Promise<WhepClient> {
    const w = await loadWerift();
    const loopback = /^(127\.|\[::1\]|localhost)/.test(new URL(endpoint).hostname);
    const fb = [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }];
    const pc = new w.RTCPeerConnection({
      codecs: {
        video: [
          new w.RTCRtpCodecParameters({ mimeType: 'video/H264', clockRate: 90000, rtcpFeedback: fb, parameters: H264_FMTP }),
          new w.RTCRtpCodecParameters({ mimeType: 'video/VP8', clockRate: 90000, rtcpFeedback: fb }),
        ],
        audio: [],
      },
      iceServers: [],
      iceUseIpv6: false,
      iceAdditionalHostAddresses: loopback ? ['127.0.0.1'] : undefined,
    });
    pc.addTransceiver('video', { direction: 'recvonly' });
    let client: WhepClient | undefined;
    const early: Werift.MediaStreamTrack[] = [];
    pc.onTrack.subscribe((track) => (client ? client.watch(track, opts) : early.push(track)));
    try {
      await pc.setLocalDescription(await pc.createOffer());
      await gathered(pc, opts.gatherTimeoutMs ?? 3000);
      const headers: Record<string, string> = { 'Content-Type': 'application/sdp' };
      if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
      const res = await fetch(endpoint, { method: 'POST', headers, body: pc.localDescription?.sdp ?? '' });
      const body = await res.text();
      const loc = res.headers.get('location');
      client = new WhepClient(pc, res.status, body, loc ? new URL(loc, endpoint).href : null, opts.token);
      if (res.status === 201) await pc.setRemoteDescription({ type: 'answer', sdp: body });
      else await pc.close();
      for (const t of early) client.watch(t, opts);
      return client;
    } catch (e) {
      await pc.close().catch(() => undefined);
      throw e;
    }
  }

  get connectionState(): ConnectionState {
    return this.pc.connectionState as ConnectionState;
  }

  /** Resolves on every connection-state change with the new state. */
  onState(fn: (s: ConnectionState) => void): void {
    this.pc.connectionStateChange.subscribe((s) => fn(s as ConnectionState));
  }

  /** Frames that arrived complete. */
  get frames(): number {
    return this.counter?.complete ?? 0;
  }

  /** Complete frames a decoder could decode: from a keyframe on, none lost in between. */
  get decodableFrames(): number {
    return this.counter?.decodable ?? 0;
  }

  get keyframes(): number {
    return this.counter?.keyframes ?? 0;
  }

  /** Frames that lost a packet. */
  get brokenFrames(): number {
    return this.counter?.broken ?? 0;
  }

  get codec(): VideoCodec | undefined {
    return this.negotiated;
  }

  /** Ends the session: DELETE (unless `sendDelete` is false, to imitate a viewer that vanishes) and local close. */
  async close(sendDelete = true): Promise<void> {
    if (sendDelete && this.location) {
      const headers: Record<string, string> = this.token ? { Authorization: `Bearer ${this.token}` } : {};
      await fetch(this.location, { method: 'DELETE', headers }).catch(() => undefined);
    }
    await this.pc.close().catch(() => undefined);
  }

  private watch(track: Werift.MediaStreamTrack, opts: WhepClientOptions): void {
    if (this.watching || track.kind !== 'video') return;
    this.watching = true;
    track.onReceiveRtp.subscribe((rtp) => {
      if (!this.counter) {
        this.negotiated = (track.codec?.name ?? '').toUpperCase() === 'VP8' ? 'VP8' : 'H264';
        this.counter = new FrameCounter(this.negotiated);
      }
      const raw = rtp.serialize();
      this.counter.push(raw, rtp.header.serializeSize);
      opts.onRtp?.(raw, rtp.header.payloadType);
    });
  }
}

