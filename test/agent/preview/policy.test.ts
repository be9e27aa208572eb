import { describe, expect, it } from 'vitest';
import { previewConfig } from '../../../src/agent/preview/config-schema.js';
import { FrameRateCap } from '../../../src/agent/preview/rate-cap.js';
import { narrowOffer, offerProblem } from '../../../src/agent/preview/sdp.js';
import { observe, verdict } from '../../../src/agent/preview/sessions.js';

describe('FrameRateCap', () => {
  it('passes 15 of 30 fps input at a 15 fps cap, and every frame of a jittery 15 fps input', () => {
    const cap = new FrameRateCap(15);
    let passed = 0;
    for (let i = 0; i < 300; i++) if (cap.admit(i * (1000 / 30))) passed++;
    expect(passed).toBe(150);
    const same = new FrameRateCap(15);
    let all = 0;
    for (let i = 0; i < 150; i++) if (same.admit(i * (1000 / 15) + (i % 2 ? 5 : -5))) all++;
    expect(all).toBe(150);
    expect(() => new FrameRateCap(0)).toThrow(/> 0/);
  });

  it('does not burst after a pause', () => {
    const cap = new FrameRateCap(10);
    expect(cap.admit(0)).toBe(true);
    expect(cap.admit(5000)).toBe(true);
    expect(cap.admit(5010)).toBe(false);
  });
});

// Shaped like Chromium's: VP8 first, then H.264 in several profiles and packetization modes, each with its RTX.
const goodOffer = [
  'v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=group:BUNDLE 0',
  'm=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103 106 107 127 125', 'c=IN IP4 0.0.0.0', 'a=mid:0', 'a=recvonly',
  'a=ice-ufrag:abcd', 'a=ice-pwd:abcdefghijklmnopqrstuvwx', 'a=fingerprint:sha-256 AA:BB', 'a=setup:actpass',
  'a=rtpmap:96 VP8/90000', 'a=rtcp-fb:96 nack', 'a=rtpmap:97 rtx/90000', 'a=fmtp:97 apt=96',
  'a=rtpmap:102 H264/90000', 'a=rtcp-fb:102 nack', 'a=rtcp-fb:102 nack pli', 'a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f',
  'a=rtpmap:103 rtx/90000', 'a=fmtp:103 apt=102',
  'a=rtpmap:106 H264/90000', 'a=fmtp:106 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f',
  'a=rtpmap:107 rtx/90000', 'a=fmtp:107 apt=106',
  'a=rtpmap:127 H264/90000', 'a=rtcp-fb:127 nack pli', 'a=fmtp:127 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
  'a=rtpmap:125 rtx/90000', 'a=fmtp:125 apt=127', '',
].join('\r\n');

describe('offerProblem', () => {
  it('accepts a recvonly video offer with the encoder\'s codec', () => {
    expect(offerProblem(goodOffer, 'H264')).toBeUndefined();
    expect(offerProblem(goodOffer, 'VP8')).toBeUndefined();
  });

  it('explains what is wrong with garbage and with unusable offers', () => {
    expect(offerProblem('', 'H264')).toMatch(/empty/);
    expect(offerProblem('hello world', 'H264')).toMatch(/v=0/);
    expect(offerProblem('v=0\r\nthis is not sdp', 'H264')).toMatch(/not <letter>=<value>/);
    expect(offerProblem(goodOffer.replace(/m=video/, 'm=audio'), 'H264')).toMatch(/no video m-line/);
    expect(offerProblem(goodOffer.replace(/a=fingerprint:[^\r]*\r\n/, ''), 'H264')).toMatch(/fingerprint/);
    expect(offerProblem(goodOffer.replace('a=recvonly', 'a=sendonly'), 'H264')).toMatch(/sendonly/);
    expect(offerProblem(goodOffer.replace(/a=rtpmap:(102|106|127) H264/g, 'a=rtpmap:$1 H265'), 'H264')).toMatch(/no video codec in common: the offer has VP8, RTX, H265, the agent sends H264 with packetization-mode=1/);
    // H.264 only in packetization mode 0 (single NAL units) cannot carry the payloader's fragments.
    const mode0 = goodOffer.replace(/packetization-mode=1/g, 'packetization-mode=0');
    expect(offerProblem(mode0, 'H264')).toMatch(/no video codec in common/);
  });
});

describe('narrowOffer', () => {
  it('keeps only the constrained-baseline, packetization-mode 1 H.264 payload and its RTX, whatever the order', () => {
    const { sdp, payloadType } = narrowOffer(goodOffer, 'H264');
    expect(payloadType).toBe(127);
    const lines = sdp.split('\r\n');
    expect(lines).toContain('m=video 9 UDP/TLS/RTP/SAVPF 127 125');
    expect(lines.filter((l) => l.startsWith('a=rtpmap:'))).toEqual(['a=rtpmap:127 H264/90000', 'a=rtpmap:125 rtx/90000']);
    expect(lines.filter((l) => l.startsWith('a=rtcp-fb:'))).toEqual(['a=rtcp-fb:127 nack pli']);
    expect(lines).toContain('a=ice-ufrag:abcd');
    expect(offerProblem(sdp, 'H264')).toBeUndefined();
  });

  it('falls back to plain baseline, then to any profile in mode 1; picks VP8 for a VP8 stream', () => {
    const noCb = goodOffer.replace('packetization-mode=1;profile-level-id=42e01f', 'packetization-mode=1;profile-level-id=640c1f');
    expect(narrowOffer(noCb, 'H264').payloadType).toBe(102);
    const highOnly = noCb.replace('profile-level-id=42001f', 'profile-level-id=4d001f');
    expect(narrowOffer(highOnly, 'H264').payloadType).toBe(102);
    expect(narrowOffer(goodOffer, 'VP8')).toMatchObject({ payloadType: 96 });
    expect(narrowOffer(goodOffer, 'VP8').sdp).toContain('m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\n');
  });
});

describe('session reaping rule', () => {
  const policy = { maxViewers: 2, reapAfterMs: 10_000, connectTimeoutMs: 30_000 };
  it('reaps a session only after it has been down for the whole timeout, and forgives a recovery', () => {
    const s = { state: 'new' as const, createdAt: 0, everConnected: false, downSince: undefined as number | undefined };
    const st = s as Parameters<typeof observe>[0];
    observe(st, 'connected', 1000);
    observe(st, 'disconnected', 2000);
    expect(verdict(st, 11_999, policy)).toBe('keep');
    observe(st, 'connected', 5000);
    expect(verdict(st, 13_000, policy)).toBe('keep');
    observe(st, 'failed', 20_000);
    observe(st, 'failed', 25_000); // still down: the clock runs from the first sighting
    expect(verdict(st, 30_000, policy)).toBe('vanished');
  });

  it('reaps a session that never connects after the connect timeout', () => {
    const s = { state: 'connecting' as const, createdAt: 0, everConnected: false, downSince: undefined };
    expect(verdict(s, 29_000, policy)).toBe('keep');
    expect(verdict(s, 30_000, policy)).toBe('never-connected');
  });
});

describe('previewConfig', () => {
  it('fills defaults from the schema and rejects odd sizes and unknown keys', () => {
    expect(previewConfig()).toMatchObject({ width: 640, height: 360, fps: 15, enabled: false, max_bitrate_kbps: 1000, encoder: { use: 'auto', keyframe_interval_s: 2, pipeline: [] } });
    expect(() => previewConfig({ encoder: { use: 'ffmpeg' } } as never)).toThrow(/encoder/);
    expect(() => previewConfig({ width: 641 })).toThrow(/width/);
    expect(() => previewConfig({ colour: 'red' } as never)).toThrow();
  });
});
