// The slice of @roamhq/wrtc the preview uses, typed here because the package's own types lean on DOM
// declarations this Node project does not load. Loaded on first use so commands without a preview never pay for it.

import { createRequire } from 'node:module';

export interface SessionDescription {
  type: 'offer' | 'answer';
  sdp: string;
}

export interface MediaTrack {
  readonly kind: string;
  stop(): void;
}

export interface PeerConnection {
  readonly connectionState: 'new' | 'connecting' | 'connected' | 'disconnected' | 'failed' | 'closed';
  readonly iceGatheringState: 'new' | 'gathering' | 'complete';
  readonly localDescription: SessionDescription | null;
  setRemoteDescription(d: SessionDescription): Promise<void>;
  setLocalDescription(d: SessionDescription): Promise<void>;
  createOffer(): Promise<SessionDescription>;
  createAnswer(): Promise<SessionDescription>;
  addTrack(track: MediaTrack): unknown;
  addTransceiver(kind: 'video' | 'audio', init: { direction: 'recvonly' | 'sendonly' }): unknown;
  addEventListener(type: string, listener: (ev: { track?: MediaTrack }) => void): void;
  removeEventListener(type: string, listener: (ev: { track?: MediaTrack }) => void): void;
  getStats(): Promise<Map<string, Record<string, unknown>>>;
  close(): void;
}

/** Frame layout RTCVideoSource takes: I420, data = Y then U then V. */
export interface VideoFrame {
  width: number;
  height: number;
  data: Uint8Array;
}

export interface VideoSource {
  createTrack(): MediaTrack;
  onFrame(frame: VideoFrame): void;
}

export interface VideoSink {
  stop(): void;
  onframe: ((ev: { frame: VideoFrame }) => void) | null;
}

export interface Wrtc {
  RTCPeerConnection: new (config?: { iceServers?: unknown[] }) => PeerConnection;
  nonstandard: {
    RTCVideoSource: new (init?: { isScreencast?: boolean }) => VideoSource;
    RTCVideoSink: new (track: MediaTrack) => VideoSink;
  };
}

let loaded: Wrtc | undefined;

/** The native module; throws with a hint when the platform has no prebuilt binary. */
export function loadWrtc(): Wrtc {
  if (loaded) return loaded;
  try {
    loaded = createRequire(import.meta.url)('@roamhq/wrtc') as Wrtc;
  } catch (e) {
    throw new Error(`preview: @roamhq/wrtc cannot be loaded (${(e as Error).message}); ` +
      'it ships binaries for linux x64/arm64 and macOS; set preview.enabled=false to run without the live view');
  }
  return loaded;
}

/** Resolves when ICE gathering is complete, or after `timeoutMs` with whatever was gathered (non-trickle WHEP). */
export function iceGatheringDone(pc: PeerConnection, timeoutMs: number): Promise<void> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      pc.removeEventListener('icegatheringstatechange', check);
      resolve();
    };
    const check = () => {
      if (pc.iceGatheringState === 'complete') done();
    };
    const timer = setTimeout(done, timeoutMs);
    pc.addEventListener('icegatheringstatechange', check);
  });
}
