// A receive-only WHEP client on @roamhq/wrtc: what a browser viewer does, from Node. Used by the tests,
// the preview benchmark and anything that needs to check a live view without a browser.

import { iceGatheringDone, loadWrtc, type MediaTrack, type PeerConnection, type VideoSink } from './wrtc.js';

export interface WhepClientOptions {
  token?: string;
  /** How long to gather ICE candidates before sending the offer (the server takes no trickle ICE). */
  gatherTimeoutMs?: number;
}

export class WhepClient {
  private framesSeen = 0;
  private size: { width: number; height: number } | null = null;
  private sink: VideoSink | undefined;

  private constructor(
    readonly pc: PeerConnection,
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
    const wrtc = loadWrtc();
    const pc = new wrtc.RTCPeerConnection({ iceServers: [] });
    pc.addTransceiver('video', { direction: 'recvonly' });
    let client: WhepClient | undefined;
    let earlyTrack: MediaTrack | undefined;
    pc.addEventListener('track', (ev) => {
      if (!ev.track) return;
      if (client) client.watch(ev.track);
      else earlyTrack = ev.track;
    });
    try {
      await pc.setLocalDescription(await pc.createOffer());
      await iceGatheringDone(pc, opts.gatherTimeoutMs ?? 3000);
      const headers: Record<string, string> = { 'Content-Type': 'application/sdp' };
      if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
      const res = await fetch(endpoint, { method: 'POST', headers, body: pc.localDescription?.sdp ?? '' });
      const body = await res.text();
      const loc = res.headers.get('location');
      client = new WhepClient(pc, res.status, body, loc ? new URL(loc, endpoint).href : null, opts.token);
      if (res.status === 201) await pc.setRemoteDescription({ type: 'answer', sdp: body });
      else pc.close();
      if (earlyTrack) client.watch(earlyTrack);
      return client;
    } catch (e) {
      pc.close();
      throw e;
    }
  }

  get connectionState(): PeerConnection['connectionState'] {
    return this.pc.connectionState;
  }

  /** Decoded frames received so far. */
  get frames(): number {
    return this.framesSeen;
  }

  get lastSize(): { width: number; height: number } | null {
    return this.size;
  }

  /** Ends the session: DELETE (unless `sendDelete` is false, to imitate a viewer that vanishes) and local close. */
  async close(sendDelete = true): Promise<void> {
    this.sink?.stop();
    this.sink = undefined;
    if (sendDelete && this.location) {
      const headers: Record<string, string> = this.token ? { Authorization: `Bearer ${this.token}` } : {};
      await fetch(this.location, { method: 'DELETE', headers }).catch(() => undefined);
    }
    this.pc.close();
  }

  private watch(track: MediaTrack): void {
    if (this.sink || track.kind !== 'video') return;
    const sink = new (loadWrtc().nonstandard.RTCVideoSink)(track);
    sink.onframe = ({ frame }) => {
      this.framesSeen++;
      this.size = { width: frame.width, height: frame.height };
    };
    this.sink = sink;
  }
}
