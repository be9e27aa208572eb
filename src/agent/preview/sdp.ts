// Checks a WHEP offer before it reaches libwebrtc, so that garbage gets a 400 that says what is wrong
// (libwebrtc's own parse errors are terse) and an offer we cannot serve is refused before a peer is built.

/** Codecs @roamhq/wrtc can encode (its libwebrtc build has no H.264). */
export const SENDABLE_CODECS = ['VP8', 'VP9', 'AV1'] as const;

export const MAX_OFFER_BYTES = 64 * 1024;

/** Returns why `sdp` is not a usable offer for a receive-only video viewer, or undefined when it is. */
export function offerProblem(sdp: string): string | undefined {
  if (sdp.trim().length === 0) return 'empty body: expected an SDP offer';
  const lines = sdp.split(/\r?\n/).filter((l) => l.length > 0);
  if (lines[0] !== 'v=0') return 'not SDP: the first line must be "v=0"';
  const bad = lines.find((l) => !/^[a-z]=/.test(l));
  if (bad !== undefined) return `not SDP: line "${bad.slice(0, 40)}" is not <letter>=<value>`;
  if (!lines.some((l) => l.startsWith('o='))) return 'SDP has no origin (o=) line';
  // Split into sections: [session, media 1, media 2, …].
  const sections: string[][] = [[]];
  for (const l of lines) {
    if (l.startsWith('m=')) sections.push([]);
    sections[sections.length - 1].push(l);
  }
  const session = sections[0];
  const video = sections.slice(1).filter((s) => s[0].startsWith('m=video '));
  if (video.length === 0) return 'the offer has no video m-line (add a recvonly video transceiver)';
  const has = (section: string[], prefix: string) => section.some((l) => l.startsWith(prefix)) || session.some((l) => l.startsWith(prefix));
  for (const prefix of ['a=ice-ufrag:', 'a=ice-pwd:', 'a=fingerprint:']) {
    if (!video.every((s) => has(s, prefix))) return `the offer lacks ${prefix.slice(2, -1)} (ICE/DTLS are required)`;
  }
  const usable = video.filter((s) => !s.includes('a=sendonly') && !s.includes('a=inactive'));
  if (usable.length === 0) return 'the video m-line does not accept media (direction is sendonly or inactive)';
  const codecs = new Set(
    usable.flatMap((s) => s.filter((l) => l.startsWith('a=rtpmap:')).map((l) => l.split(' ')[1]?.split('/')[0]?.toUpperCase() ?? '')),
  );
  if (!SENDABLE_CODECS.some((c) => codecs.has(c)))
    return `no video codec in common: the offer has ${[...codecs].join(', ') || 'none'}, the agent sends ${SENDABLE_CODECS.join(', ')}`;
  return undefined;
}

/**
 * Caps what the agent sends to one viewer at `kbps`: bandwidth lines (RFC 4566 §5.8 `b=AS`, kbps; RFC 3890
 * `b=TIAS`, bps) in every video section of the viewer's offer, which libwebrtc takes as the receiver's limit
 * for its sender. An existing lower limit of the viewer's own is kept. Bandwidth lines follow the section's
 * i= and c= lines (RFC 4566 §5 order). `sender.setParameters` would be the API for this, but wrtc rejects it
 * (InvalidStateError: the transaction id expires before the call reaches libwebrtc's signalling thread).
 */
export function withBandwidthLimit(sdp: string, kbps: number): string {
  if (!(kbps > 0)) return sdp;
  const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
  const lines = sdp.split(/\r?\n/);
  const out: string[] = [];
  for (let i = 0; i < lines.length; ) {
    const line = lines[i]!;
    if (!line.startsWith('m=video ')) {
      out.push(line);
      i++;
      continue;
    }
    let end = i + 1;
    while (end < lines.length && !lines[end]!.startsWith('m=')) end++;
    const section = lines.slice(i + 1, end);
    const own = section.find((l) => l.startsWith('b=AS:'));
    const limit = Math.min(Math.round(kbps), own ? Number(own.slice(5)) || Infinity : Infinity);
    const rest = section.filter((l) => !l.startsWith('b=AS:') && !l.startsWith('b=TIAS:'));
    // After the leading i=/c= lines, before the first attribute.
    let at = 0;
    while (at < rest.length && /^[ic]=/.test(rest[at]!)) at++;
    out.push(line, ...rest.slice(0, at), `b=AS:${limit}`, `b=TIAS:${limit * 1000}`, ...rest.slice(at));
    i = end;
  }
  return out.join(eol);
}
