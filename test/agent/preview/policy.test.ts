import { describe, expect, it } from 'vitest';
import { previewConfig } from '../../../src/agent/preview/config-schema.js';
import { FrameRateCap } from '../../../src/agent/preview/rate-cap.js';
import { offerProblem, withBandwidthLimit } from '../../../src/agent/preview/sdp.js';
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

const goodOffer = [
  'v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=group:BUNDLE 0',
  'm=video 9 UDP/TLS/RTP/SAVPF 96 102', 'c=IN IP4 0.0.0.0', 'a=mid:0', 'a=recvonly',
  'a=ice-ufrag:abcd', 'a=ice-pwd:abcdefghijklmnopqrstuvwx', 'a=fingerprint:sha-256 AA:BB', 'a=setup:actpass',
  'a=rtpmap:96 VP8/90000', 'a=rtpmap:102 H264/90000', '',
].join('\r\n');

describe('offerProblem', () => {
  it('accepts a recvonly video offer with a VP8 codec', () => {
    expect(offerProblem(goodOffer)).toBeUndefined();
  });

  it('explains what is wrong with garbage and with unusable offers', () => {
    expect(offerProblem('')).toMatch(/empty/);
    expect(offerProblem('hello world')).toMatch(/v=0/);
    expect(offerProblem('v=0\r\nthis is not sdp')).toMatch(/not <letter>=<value>/);
    expect(offerProblem(goodOffer.replace(/m=video/, 'm=audio'))).toMatch(/no video m-line/);
    expect(offerProblem(goodOffer.replace(/a=fingerprint:[^\r]*\r\n/, ''))).toMatch(/fingerprint/);
    expect(offerProblem(goodOffer.replace('a=recvonly', 'a=sendonly'))).toMatch(/sendonly/);
    expect(offerProblem(goodOffer.replace('a=rtpmap:96 VP8/90000\r\n', ''))).toMatch(/no video codec in common.*H264/);
  });
});

describe('withBandwidthLimit', () => {
  const audioAndVideo = goodOffer.replace('m=video', 'm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\nm=video');

  it('puts b=AS (kbps) and b=TIAS (bps) after c= in every video section only, and keeps the offer valid', () => {
    const capped = withBandwidthLimit(audioAndVideo, 800);
    const lines = capped.split('\r\n');
    const video = lines.indexOf('m=video 9 UDP/TLS/RTP/SAVPF 96 102');
    expect(lines.slice(video, video + 4)).toEqual(['m=video 9 UDP/TLS/RTP/SAVPF 96 102', 'c=IN IP4 0.0.0.0', 'b=AS:800', 'b=TIAS:800000']);
    expect(lines.filter((l) => l.startsWith('b='))).toHaveLength(2); // none in the audio section
    expect(capped.endsWith('\r\n')).toBe(true);
    expect(offerProblem(capped)).toBeUndefined();
  });

  it('keeps a lower limit the viewer asked for itself, replaces a higher one, and does nothing at 0', () => {
    const own = (kbps: number) => goodOffer.replace('c=IN IP4 0.0.0.0\r\n', `c=IN IP4 0.0.0.0\r\nb=AS:${kbps}\r\n`);
    expect(withBandwidthLimit(own(300), 1000)).toContain('b=AS:300\r\nb=TIAS:300000\r\n');
    expect(withBandwidthLimit(own(5000), 1000)).toContain('b=AS:1000\r\nb=TIAS:1000000\r\n');
    expect(withBandwidthLimit(own(5000), 1000)).not.toContain('b=AS:5000');
    expect(withBandwidthLimit(goodOffer, 0)).toBe(goodOffer);
  });
});

describe('session reaping rule', () => {
  const policy = { maxViewers: 2, reapAfterMs: 10_000, connectTimeoutMs: 30_000, maxBitrateKbps: 0 };
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
    expect(previewConfig()).toMatchObject({ width: 640, height: 360, fps: 15, enabled: false });
    expect(() => previewConfig({ width: 641 })).toThrow(/width/);
    expect(() => previewConfig({ colour: 'red' } as never)).toThrow();
  });
});
