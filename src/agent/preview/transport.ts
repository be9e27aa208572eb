// WebRTC for the live view: werift (WebRTC in TypeScript: ICE, DTLS-SRTP, RTP/RTCP, NACK answered from a
// packet history with RTX). It forwards the encoder's RTP packets; nothing is encoded per viewer. Loaded on
// first use so commands without a live view never pay its ~0.6 s import.
// Why werift and not node-datachannel or @roamhq/wrtc: README, "Live view".

import type * as Werift from 'werift';
import { H264_FMTP } from './sdp.js';
import type { VideoCodec } from './rtp.js';

type WeriftModule = typeof Werift;
let loaded: Promise<WeriftModule> | undefined;

export function loadWerift(): Promise<WeriftModule> {
  loaded ??= import('werift').catch((e: Error) => {
    loaded = undefined;
    throw new Error(`preview: the WebRTC library werift cannot be loaded (${e.message}); reinstall the package (npm ci)`);
  });
  return loaded;
}

export type ConnectionState = 'new' | 'connecting' | 'connected' | 'disconnected' | 'failed' | 'closed';

/** One viewer's WebRTC peer, sending one video stream. */
export interface SendingPeer {
  readonly connectionState: ConnectionState;
  /** The SDP answer, with every candidate gathered (the WHEP endpoint takes no trickle ICE). */
  readonly answer: string;
  /** Sends one RTP packet (the sender sets its own SSRC and payload type, encrypts, and keeps it for NACKs). */
  send(packet: Buffer): void;
  onState(fn: (s: ConnectionState) => void): void;
  /** The viewer reported a lost picture (RTCP PLI): it needs a keyframe. */
  onPictureLoss(fn: () => void): void;
  /** performance.now() of the last sign of life from the viewer: RTCP (about every second) or an ICE check (~5 s). */
  readonly lastHeardMs: number;
  close(): void;
}

export class OfferRefused extends Error {}

const GATHER_TIMEOUT_MS = 3000;

function codecs(w: WeriftModule, codec: VideoCodec, payloadType: number) {
  const feedback = [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }];
  const video =
    codec === 'H264'
      ? new w.RTCRtpCodecParameters({ mimeType: 'video/H264', clockRate: 90000, rtcpFeedback: feedback, parameters: H264_FMTP, payloadType })
      : new w.RTCRtpCodecParameters({ mimeType: 'video/VP8', clockRate: 90000, rtcpFeedback: feedback, payloadType });
  // RTX: retransmissions of NACKed packets travel on their own SSRC, as browsers expect.
  const rtx = new w.RTCRtpCodecParameters({ mimeType: 'video/rtx', clockRate: 90000, parameters: `apt=${payloadType}`, payloadType: payloadType + 1 });
  // Audio is accepted but never sent: a player that also asks for audio still gets the video.
  return { video: [video, rtx], audio: [w.useOPUS()] };
}

/**
 * Answers a (checked and narrowed) offer with a peer that sends `codec` video. `loopback`: also offer a
 * 127.0.0.1 candidate (a viewer on this machine; werift skips loopback addresses otherwise).
 */
export async function answerOffer(offerSdp: string, codec: VideoCodec, payloadType: number, loopback: boolean): Promise<SendingPeer> {
  const w = await loadWerift();
  let lastHeardMs = performance.now();
  const pc = new w.RTCPeerConnection({
    codecs: codecs(w, codec, payloadType),
    iceServers: [],
    // Viewers are on the LAN: host candidates over IPv4 (IPv6 link-local pairs only slow ICE down here).
    iceUseIpv6: false,
    iceAdditionalHostAddresses: loopback ? ['127.0.0.1'] : undefined,
    // Every authenticated STUN check from the viewer (consent freshness, every ~5 s even without media) is a sign
    // of life; answer it as usual.
    iceFilterStunResponse: () => {
      lastHeardMs = performance.now();
      return true;
    },
  });
  try {
    try {
      await pc.setRemoteDescription({ type: 'offer', sdp: offerSdp });
    } catch (e) {
      throw new OfferRefused(`the offer was refused: ${(e as Error).message}`);
    }
    const transceiver = pc.getTransceivers().find((t) => t.kind === 'video');
    if (!transceiver) throw new OfferRefused('no video stream could be negotiated from this offer');
    const track = new w.MediaStreamTrack({ kind: 'video' });
    transceiver.setDirection('sendonly');
    await transceiver.sender.replaceTrack(track);
    await pc.setLocalDescription(await pc.createAnswer());
    await gathered(pc);
    const answer = pc.localDescription?.sdp ?? '';
    if (!/^m=video [1-9]/m.test(answer)) throw new OfferRefused('no video stream could be negotiated from this offer');
    const sender = transceiver.sender;
    sender.onRtcp.subscribe(() => (lastHeardMs = performance.now()));
    pc.connectionStateChange.subscribe((st) => st === 'connected' && (lastHeardMs = performance.now()));
    return {
      get lastHeardMs() {
        return lastHeardMs;
      },
      get connectionState() {
        return pc.connectionState as ConnectionState;
      },
      answer,
      send(packet) {
        // A packet for a peer that is closing is simply not sent; werift reports that as a rejection.
        sender.sendRtp(packet).catch(() => undefined);
      },
      onState(fn) {
        pc.connectionStateChange.subscribe((s) => fn(s as ConnectionState));
      },
      onPictureLoss(fn) {
        sender.onPictureLossIndication.subscribe(fn);
      },
      close() {
        track.stop();
        void pc.close().catch(() => undefined);
      },
    };
  } catch (e) {
    void pc.close().catch(() => undefined);
    throw e;
  }
}

/** Resolves when ICE gathering is complete, or after `timeoutMs` (the answer then carries what was gathered). */
export function gathered(pc: Werift.RTCPeerConnection, timeoutMs = GATHER_TIMEOUT_MS): Promise<void> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, timeoutMs);
    const sub = pc.iceGatheringStateChange.subscribe((s) => s === 'complete' && done());
    function done() {
      clearTimeout(timer);
      sub.unSubscribe();
      resolve();
    }
  });
}
