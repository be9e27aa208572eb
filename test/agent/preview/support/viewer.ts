// A headless WHEP viewer for tests (no browser): connects to a live view's WHEP URL (with an optional token),
// counts the video frames it receives complete and the ones a decoder could decode, and — with `decode` —
// feeds every packet to a real decoder (GStreamer) and counts the frames it actually decodes, with their size.
//
//   const v = await connectViewer(`http://127.0.0.1:${port}/whep/live`, { token, decode: true });
//   expect(v.status).toBe(201);
//   await v.waitForFrames(10, 15_000);            // decoded frames with `decode`, else decodable ones
//   expect(v.decodedSize).toEqual({ width: 640, height: 360 });
//   await v.close();                              // DELETE + close; close(false) vanishes without DELETE
//
// Needs werift (a dependency of the agent); `decode` needs gst-launch-1.0 with rtpstreamdepay and
// avdec_h264 (gstreamer1.0-libav) or vp8dec (gstreamer1.0-plugins-good).

import { WhepClient } from '../../../../src/agent/preview/whep-client.js';
import type { VideoCodec } from '../../../../src/agent/preview/rtp.js';
import { RtpDecoder } from './rtp-decoder.js';

export interface ViewerOptions {
  token?: string;
  /** Decode for real (GStreamer) and count decoded frames. */
  decode?: boolean;
}

export interface HeadlessViewer {
  /** HTTP status of the offer (201 = session created) and the body (answer or reason). */
  readonly status: number;
  readonly body: string;
  /** Session URL (DELETE ends it); null when refused. */
  readonly location: string | null;
  readonly connectionState: string;
  /** Codec of the received stream, once a packet arrived. */
  readonly codec: VideoCodec | undefined;
  /** Frames that arrived with every packet. */
  readonly framesReceived: number;
  /** Received frames a decoder could decode (from a keyframe on, nothing lost in between). */
  readonly framesDecodable: number;
  /** Frames the real decoder decoded (0 without `decode`). */
  readonly framesDecoded: number;
  /** Size of the decoded pictures (null without `decode` or before the first frame). */
  readonly decodedSize: { width: number; height: number } | null;
  readonly keyframes: number;
  /** Resolves once the peer is connected; rejects after `ms`. */
  waitForConnected(ms: number): Promise<void>;
  /** Resolves once `n` frames are in (decoded with `decode`, else decodable); rejects after `ms` saying how many came. */
  waitForFrames(n: number, ms: number): Promise<void>;
  /** DELETE (unless `sendDelete` is false: a viewer that vanishes) and close; stops the decoder. */
  close(sendDelete?: boolean): Promise<void>;
}

export async function connectViewer(url: string, opts: ViewerOptions = {}): Promise<HeadlessViewer> {
  let decoder: RtpDecoder | undefined;
  const client = await WhepClient.connect(url, {
    token: opts.token,
    onRtp: opts.decode
      ? (packet, pt) => {
        decoder ??= new RtpDecoder(client.codec ?? 'H264', pt);
        decoder.push(packet);
      }
      : undefined,
  });
  const count = () => (opts.decode ? decoder?.frames ?? 0 : client.decodableFrames);
  const poll = async (what: () => string, done: () => boolean, ms: number) => {
    const end = Date.now() + ms;
    while (!done()) {
      if (Date.now() > end) throw new Error(`headless viewer: ${what()} after ${ms} ms`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  return {
    status: client.status,
    body: client.body,
    location: client.location,
    get connectionState() {
      return client.connectionState;
    },
    get codec() {
      return client.codec;
    },
    get framesReceived() {
      return client.frames;
    },
    get framesDecodable() {
      return client.decodableFrames;
    },
    get framesDecoded() {
      return decoder?.frames ?? 0;
    },
    get decodedSize() {
      return decoder?.size ?? null;
    },
    get keyframes() {
      return client.keyframes;
    },
    waitForConnected: (ms) => poll(() => `not connected (state ${client.connectionState})`, () => client.connectionState === 'connected', ms),
    waitForFrames: (n, ms) => poll(
      () => `${count()} of ${n} frames (received ${client.frames}, decodable ${client.decodableFrames}, keyframes ${client.keyframes}, state ${client.connectionState})`,
      () => count() >= n, ms),
    async close(sendDelete = true) {
      await client.close(sendDelete);
      decoder?.kill();
    },
  };
}
