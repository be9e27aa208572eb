// Checks a WHEP offer before it reaches the WebRTC stack, so that garbage gets a 400 that says what is wrong,
// and narrows the offer's video to the one payload type the encoder's stream can be sent as: the agent has a
// single encoded stream (one codec, one H.264 profile) for every viewer, so the answer must not leave the
// WebRTC stack a choice it cannot honour (werift takes the offer's first codec of a matching MIME type).

import type { VideoCodec } from './rtp.js';

export const MAX_OFFER_BYTES = 64 * 1024;

/** What the stream is sent as, for the answer: H.264 constrained baseline, packetization mode 1 (FU-A). */
export const H264_FMTP = 'profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1';

interface Section {
  lines: string[];
}

function split(sdp: string): { eol: string; session: string[]; media: Section[] } {
  const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
  const lines = sdp.split(/\r?\n/).filter((l) => l.length > 0);
  const session: string[] = [];
  const media: Section[] = [];
  for (const l of lines) {
    if (l.startsWith('m=')) media.push({ lines: [l] });
    else if (media.length) media[media.length - 1]!.lines.push(l);
    else session.push(l);
  }
  return { eol, session, media };
}

/** Payload type → "CODEC/clock" of a media section's rtpmap lines, and its fmtp parameters. */
function payloads(s: Section): Array<{ pt: number; codec: string; fmtp: Map<string, string> }> {
  const out: Array<{ pt: number; codec: string; fmtp: Map<string, string> }> = [];
  for (const l of s.lines) {
    const m = /^a=rtpmap:(\d+) ([^/\s]+)/.exec(l);
    if (m) out.push({ pt: Number(m[1]), codec: m[2]!.toUpperCase(), fmtp: new Map() });
  }
  for (const l of s.lines) {
    const m = /^a=fmtp:(\d+) (.*)$/.exec(l);
    const p = m && out.find((o) => o.pt === Number(m[1]));
    if (!p) continue;
    for (const kv of m[2]!.split(';')) {
      const [k, v] = kv.split('=');
      if (k) p.fmtp.set(k.trim().toLowerCase(), (v ?? '').trim().toLowerCase());
    }
  }
  return out;
}

const isVideo = (s: Section) => s.lines[0]!.startsWith('m=video ');
const receives = (s: Section) => !s.lines.includes('a=sendonly') && !s.lines.includes('a=inactive');

/**
 * Rank of an offered H.264 payload for a constrained-baseline stream (lower is better; undefined = unusable):
 * packetization mode 1 is required (the payloader fragments large NAL units as FU-A). Constrained baseline
 * (profile_idc 0x42 with constraint_set1) is exact; plain baseline decodes it too; any other profile's decoder
 * decodes baseline streams as well (the decoder of a higher profile is a superset).
 */
function h264Rank(fmtp: Map<string, string>): number | undefined {
  if (fmtp.get('packetization-mode') !== '1') return undefined;
  const plid = fmtp.get('profile-level-id') ?? '42001f';
  if (!/^[0-9a-f]{6}$/.test(plid)) return undefined;
  const profile = plid.slice(0, 2);
  const constraints = parseInt(plid.slice(2, 4), 16);
  if (profile === '42' && constraints & 0x40) return 0;
  if (profile === '42') return 1;
  return 2;
}

/** The offered payload type the stream will be sent as, or undefined when the section has none. */
function chosenPayload(s: Section, codec: VideoCodec): number | undefined {
  let best: { pt: number; rank: number } | undefined;
  for (const p of payloads(s)) {
    if (p.codec !== codec) continue;
    const rank = codec === 'H264' ? h264Rank(p.fmtp) : 0;
    if (rank !== undefined && (!best || rank < best.rank)) best = { pt: p.pt, rank };
  }
  return best?.pt;
}

/** Returns why `sdp` is not a usable offer for a receive-only viewer of a `codec` stream, or undefined when it is. */
export function offerProblem(sdp: string, codec: VideoCodec): string | undefined {
  if (sdp.trim().length === 0) return 'empty body: expected an SDP offer';
  const all = sdp.split(/\r?\n/).filter((l) => l.length > 0);
  if (all[0] !== 'v=0') return 'not SDP: the first line must be "v=0"';
  const bad = all.find((l) => !/^[a-z]=/.test(l));
  if (bad !== undefined) return `not SDP: line "${bad.slice(0, 40)}" is not <letter>=<value>`;
  if (!all.some((l) => l.startsWith('o='))) return 'SDP has no origin (o=) line';
  const { session, media } = split(sdp);
  const video = media.filter(isVideo);
  if (video.length === 0) return 'the offer has no video m-line (add a recvonly video transceiver)';
  const has = (s: Section, prefix: string) => s.lines.some((l) => l.startsWith(prefix)) || session.some((l) => l.startsWith(prefix));
  for (const prefix of ['a=ice-ufrag:', 'a=ice-pwd:', 'a=fingerprint:']) {
    if (!video.every((s) => has(s, prefix))) return `the offer lacks ${prefix.slice(2, -1)} (ICE/DTLS are required)`;
  }
  const usable = video.filter(receives);
  if (usable.length === 0) return 'the video m-line does not accept media (direction is sendonly or inactive)';
  if (!usable.some((s) => chosenPayload(s, codec) !== undefined)) {
    const offered = [...new Set(usable.flatMap((s) => payloads(s).map((p) => p.codec)))];
    const wanted = codec === 'H264' ? 'H264 with packetization-mode=1' : codec;
    return `no video codec in common: the offer has ${offered.join(', ') || 'none'}, the agent sends ${wanted}`;
  }
  return undefined;
}

/**
 * The offer with every receiving video section cut down to the chosen payload type (and its RTX, apt=that type),
 * so the answer can only pick that one. Other sections are left as they are. Expects a checked offer.
 */
export function narrowOffer(sdp: string, codec: VideoCodec): { sdp: string; payloadType: number } {
  const { eol, session, media } = split(sdp);
  let chosen: number | undefined;
  const out: string[] = [...session];
  for (const s of media) {
    const pt = isVideo(s) && receives(s) ? chosenPayload(s, codec) : undefined;
    if (pt === undefined) {
      out.push(...s.lines);
      continue;
    }
    chosen ??= pt;
    const rtx = payloads(s).find((p) => p.codec === 'RTX' && p.fmtp.get('apt') === String(pt))?.pt;
    const keep = new Set([pt, ...(rtx === undefined ? [] : [rtx])]);
    const [m, ...rest] = s.lines;
    const head = m!.split(' ').slice(0, 3);
    out.push([...head, ...keep].join(' '));
    for (const l of rest) {
      const ref = /^a=(?:rtpmap|fmtp|rtcp-fb):(\d+|\*)[ ]/.exec(l);
      if (ref && ref[1] !== '*' && !keep.has(Number(ref[1]))) continue;
      out.push(l);
    }
  }
  if (chosen === undefined) throw new Error(`narrowOffer: no ${codec} payload in the offer`);
  return { sdp: `${out.join(eol)}${eol}`, payloadType: chosen };
}
