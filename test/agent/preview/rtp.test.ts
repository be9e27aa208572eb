// RTP facts the live view reads from the encoder's packets, on hand-built packets (RFC 3550 / 6184 / 7741
// layouts), and the frame counting of the headless viewer.

import { describe, expect, it } from 'vitest';
import { FrameCounter } from '../../../src/agent/preview/whep-client.js';
import {
  frame4571, h264IdrSlice, h264KeyframeStart, marker, payloadOffset, pictureLossIndication, Rfc4571Reader, rtpTimestamp,
  sequenceNumber, setRtpTimestamp, vp8KeyframeStart,
} from '../../../src/agent/preview/rtp.js';

/** An RTP packet: V=2, optional CSRCs and header extension, marker bit, seq, timestamp, then the payload. */
function rtp(payload: number[], o: { seq?: number; ts?: number; marker?: boolean; csrcs?: number; ext?: number } = {}): Buffer {
  const csrc = o.csrcs ?? 0;
  const head = [0x80 | (o.ext !== undefined ? 0x10 : 0) | csrc, (o.marker ? 0x80 : 0) | 96, (o.seq ?? 0) >> 8, (o.seq ?? 0) & 0xff, 0, 0, 0, 0, 0, 0, 0x12, 0x34];
  const b = Buffer.from([...head, ...new Array(4 * csrc).fill(0), ...(o.ext !== undefined ? [0xbe, 0xde, 0, o.ext, ...new Array(4 * o.ext).fill(0)] : []), ...payload]);
  b.writeUInt32BE(o.ts ?? 0, 4);
  return b;
}

describe('RTP header', () => {
  it('finds the payload after CSRCs and a header extension, and reads/writes the fields', () => {
    expect(payloadOffset(rtp([0x67]))).toBe(12);
    expect(payloadOffset(rtp([0x67], { csrcs: 2, ext: 1 }))).toBe(12 + 8 + 4 + 4);
    expect(payloadOffset(Buffer.from([0x40, 0, 0, 0]))).toBe(-1); // not RTP v2
    const p = rtp([0x41], { seq: 0xbeef, ts: 0xdeadbeef, marker: true });
    expect([sequenceNumber(p), rtpTimestamp(p), marker(p)]).toEqual([0xbeef, 0xdeadbeef, true]);
    setRtpTimestamp(p, 0x01020304);
    expect(rtpTimestamp(p)).toBe(0x01020304);
  });
});

describe('H.264 keyframe starts (RFC 6184)', () => {
  it('starts at an SPS, alone or in a STAP-A; not at an AUD, a P slice or a bare IDR fragment', () => {
    expect(h264KeyframeStart(rtp([0x67, 0x42, 0xe0]))).toBe(true); // SPS
    expect(h264KeyframeStart(rtp([0x78, 0x00, 0x02, 0x09, 0x10, 0x00, 0x03, 0x67, 0x42, 0xe0]))).toBe(true); // STAP-A [AUD, SPS]
    expect(h264KeyframeStart(rtp([0x09, 0x10]))).toBe(false); // AUD
    expect(h264KeyframeStart(rtp([0x41, 0x9a]))).toBe(false); // non-IDR slice
    expect(h264KeyframeStart(rtp([0x7c, 0x85, 0x88]))).toBe(false); // FU-A start of an IDR: the parameter sets come first
    expect(h264IdrSlice(rtp([0x7c, 0x85, 0x88]))).toBe(true);
    expect(h264IdrSlice(rtp([0x65, 0x88]))).toBe(true);
    expect(h264IdrSlice(rtp([0x7c, 0x81, 0x9a]))).toBe(false); // FU-A of a P slice
  });
});

describe('VP8 keyframe starts (RFC 7741)', () => {
  it('needs the S bit, partition 0 and a frame header whose P bit is 0, past the optional descriptor bytes', () => {
    expect(vp8KeyframeStart(rtp([0x10, 0x00]))).toBe(true); // S, PID 0, key frame
    expect(vp8KeyframeStart(rtp([0x10, 0x01]))).toBe(false); // inter frame
    expect(vp8KeyframeStart(rtp([0x00, 0x00]))).toBe(false); // not the start of a partition
    // X with a 15-bit PictureID (I, M bit): descriptor 4 bytes, then the key frame header.
    expect(vp8KeyframeStart(rtp([0x90, 0x80, 0x81, 0x23, 0x00]))).toBe(true);
    expect(vp8KeyframeStart(rtp([0x90, 0x80, 0x81, 0x23, 0x01]))).toBe(false);
  });
});

describe('RTCP and RFC 4571 framing', () => {
  it('builds a compound RR + PLI naming the media SSRC', () => {
    const p = Buffer.from(pictureLossIndication(0x11111111, 0x22222222));
    expect(p.length).toBe(20);
    expect([p[1], p.readUInt16BE(2), p[8]! & 0x1f, p[9], p.readUInt16BE(10)]).toEqual([201, 1, 1, 206, 2]);
    expect([p.readUInt32BE(4), p.readUInt32BE(12), p.readUInt32BE(16)]).toEqual([0x11111111, 0x11111111, 0x22222222]);
  });

  it('splits a framed stream into packets however the reads cut it', () => {
    const packets = [rtp([1, 2, 3]), rtp([4]), rtp(new Array(3000).fill(7))];
    const stream = Buffer.concat(packets.map((p) => Buffer.from(frame4571(p))));
    for (const cut of [1, 2, 5, 14, 100, stream.length]) {
      const got: Buffer[] = [];
      const r = new Rfc4571Reader((p) => got.push(Buffer.from(p)));
      for (let i = 0; i < stream.length; i += cut) r.push(stream.subarray(i, i + cut));
      expect(got).toEqual(packets);
    }
  });
});

describe('FrameCounter (headless viewer)', () => {
  const sps = [0x67, 0x42], idr = [0x65, 0x88], p = [0x41, 0x9a];
  it('counts complete frames, decodable ones from a keyframe on, and breaks the chain at a lost packet', () => {
    const c = new FrameCounter('H264');
    let seq = 100;
    const send = (payload: number[], last: boolean) => c.push(rtp(payload, { seq: seq++, marker: last }), 12);
    send(p, true); // a P frame before any keyframe: complete, not decodable
    send(sps, false); send(idr, true); // keyframe
    send(p, true);
    seq++; // a packet of the next frame is lost
    send(p, true);
    send(p, true); // still no keyframe since the loss
    send(sps, false); send(idr, true);
    send(p, true);
    expect({ complete: c.complete, decodable: c.decodable, keyframes: c.keyframes, broken: c.broken }).toEqual({ complete: 6, decodable: 4, keyframes: 2, broken: 1 });
  });
});
