// The few RTP facts the live view needs about the encoder's packets, read straight from the bytes (RFC 3550
// header; H.264 payload per RFC 6184, VP8 per RFC 7741): where a frame starts, whether it is a keyframe, and
// the RFC 4571 framing the encoder child uses on its stdout and the agent uses on the child's RTCP pipe.
// No allocation per packet: the fan-out runs these on every packet of every frame.

export type VideoCodec = 'H264' | 'VP8';

const RTP_VERSION = 2;
const MIN_HEADER = 12;

/** Offset of the payload in an RTP packet, or -1 when the bytes are not a plausible RTP packet. */
export function payloadOffset(p: Uint8Array): number {
  if (p.length < MIN_HEADER || p[0]! >> 6 !== RTP_VERSION) return -1;
  let off = MIN_HEADER + 4 * (p[0]! & 0x0f); // CSRC list
  if (p[0]! & 0x10) {
    // Header extension: 16-bit profile, 16-bit length in 32-bit words.
    if (p.length < off + 4) return -1;
    off += 4 + 4 * ((p[off + 2]! << 8) | p[off + 3]!);
  }
  return off < p.length ? off : -1;
}

export const marker = (p: Uint8Array): boolean => (p[1]! & 0x80) !== 0;
export const sequenceNumber = (p: Uint8Array): number => (p[2]! << 8) | p[3]!;
export const rtpTimestamp = (p: Uint8Array): number => ((p[4]! << 24) | (p[5]! << 16) | (p[6]! << 8) | p[7]!) >>> 0;

export function setRtpTimestamp(p: Uint8Array, ts: number): void {
  p[4] = (ts >>> 24) & 0xff;
  p[5] = (ts >>> 16) & 0xff;
  p[6] = (ts >>> 8) & 0xff;
  p[7] = ts & 0xff;
}

const NAL_IDR = 5;
const NAL_SPS = 7;
const NAL_STAP_A = 24;
const NAL_FU_A = 28;

/**
 * True when this packet starts an H.264 keyframe for a receiver that joins here: it carries the sequence
 * parameter set, as a single NAL unit or inside a STAP-A aggregate. The payloader sends SPS and PPS right
 * before every IDR (rtph264pay config-interval=-1), so from here on everything decodes; an IDR slice alone is
 * not enough (the decoder needs the parameter sets, and a frame may have several slices).
 */
export function h264KeyframeStart(p: Uint8Array, off = payloadOffset(p)): boolean {
  if (off < 0) return false;
  const type = p[off]! & 0x1f;
  if (type === NAL_SPS) return true;
  return type === NAL_STAP_A && stapAHas(p, off, NAL_SPS);
}

/** Whether the STAP-A aggregate at `off` ([STAP-A byte] then (16-bit size, NAL unit) pairs) holds a NAL unit of `nal` type. */
function stapAHas(p: Uint8Array, off: number, nal: number): boolean {
  for (let i = off + 1; i + 2 < p.length; ) {
    const size = (p[i]! << 8) | p[i + 1]!;
    if ((p[i + 2]! & 0x1f) === nal) return true;
    i += 2 + size;
  }
  return false;
}

/** True when this packet carries (the start of) an IDR slice. */
export function h264IdrSlice(p: Uint8Array, off = payloadOffset(p)): boolean {
  if (off < 0) return false;
  const type = p[off]! & 0x1f;
  if (type === NAL_IDR) return true;
  if (type === NAL_FU_A) return ((p[off + 1] ?? 0) & 0x1f) === NAL_IDR;
  return type === NAL_STAP_A && stapAHas(p, off, NAL_IDR);
}

/**
 * True when this packet starts a VP8 keyframe: the payload descriptor's S bit with partition 0, followed by a
 * frame header whose P bit (inverse key frame flag) is 0 (RFC 7741 §4.2, §4.3).
 */
export function vp8KeyframeStart(p: Uint8Array, off = payloadOffset(p)): boolean {
  if (off < 0) return false;
  const d = p[off]!;
  if (!(d & 0x10) || (d & 0x07) !== 0) return false; // S bit, PID 0
  let i = off + 1;
  if (d & 0x80) {
    // X: extension byte with I, L, T, K flags.
    const x = p[i++]!;
    if (x & 0x80) i += p[i]! & 0x80 ? 2 : 1; // PictureID, 7 or 15 bits
    if (x & 0x40) i++; // TL0PICIDX
    if (x & 0x30) i++; // TID / KEYIDX
  }
  return i < p.length && (p[i]! & 0x01) === 0;
}

export function keyframeStart(codec: VideoCodec, p: Uint8Array): boolean {
  return codec === 'H264' ? h264KeyframeStart(p) : vp8KeyframeStart(p);
}

/**
 * A compound RTCP packet (RFC 4585 §6.3.1): an empty receiver report from `senderSsrc` and a Picture Loss
 * Indication for `mediaSsrc`. GStreamer's rtpsession answers it by asking the encoder for a keyframe.
 */
export function pictureLossIndication(senderSsrc: number, mediaSsrc: number): Uint8Array {
  const out = new Uint8Array(20);
  const view = new DataView(out.buffer);
  view.setUint8(0, 0x80); // V=2, RC=0
  view.setUint8(1, 201); // RR
  view.setUint16(2, 1); // length in words - 1
  view.setUint32(4, senderSsrc >>> 0);
  view.setUint8(8, 0x81); // V=2, FMT=1 (PLI)
  view.setUint8(9, 206); // PSFB
  view.setUint16(10, 2);
  view.setUint32(12, senderSsrc >>> 0);
  view.setUint32(16, mediaSsrc >>> 0);
  return out;
}

/** RFC 4571 framing: a 16-bit big-endian length before each packet. */
export function frame4571(packet: Uint8Array): Uint8Array {
  const out = new Uint8Array(packet.length + 2);
  out[0] = packet.length >> 8;
  out[1] = packet.length & 0xff;
  out.set(packet, 2);
  return out;
}

/**
 * Splits an RFC 4571 byte stream into packets. A packet is a view into the chunk it arrived in (a pipe hands
 * out a fresh buffer per read, never reused), so no packet is copied; one split across two reads is joined.
 */
export class Rfc4571Reader {
  private pending: Buffer | undefined;

  constructor(private readonly onPacket: (packet: Buffer) => void) {}

  push(chunk: Buffer): void {
    const buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = undefined;
    let at = 0;
    while (buf.length - at >= 2) {
      const n = buf.readUInt16BE(at);
      if (buf.length - at - 2 < n) break;
      this.onPacket(buf.subarray(at + 2, at + 2 + n));
      at += 2 + n;
    }
    if (at < buf.length) this.pending = Buffer.from(buf.subarray(at));
  }
}
