// WHEP (WebRTC-HTTP Egress Protocol) endpoint on the agent's HTTP server:
//   POST   /whep/<stream>       application/sdp offer → 201 Created, SDP answer, Location of the session
//   DELETE /whep/<stream>/<id>  ends the session
//   PATCH  (trickle ICE) is not offered: the answer carries all candidates, and the server answers 405 with Allow.

import type { HttpServer } from '../http/server.js';
import { HttpError, readBody } from '../http/server.js';
import { MAX_OFFER_BYTES, offerProblem } from './sdp.js';
import type { VideoCodec } from './rtp.js';
import type { ViewerSessions } from './sessions.js';

/** A viewer on this machine also gets a 127.0.0.1 candidate (WebRTC stacks skip loopback otherwise). */
function isLoopback(addr: string | undefined): boolean {
  return !!addr && (addr.startsWith('127.') || addr === '::1' || addr.startsWith('::ffff:127.'));
}

export function whepPath(stream: string): string {
  return `/whep/${stream}`;
}

/** What the endpoint serves: the running sessions and the codec of the stream (undefined while stopped). */
export interface WhepTarget {
  sessions: ViewerSessions;
  codec: VideoCodec;
}

export function registerWhep(http: HttpServer, stream: string, target: () => WhepTarget | undefined): () => void {
  const live = (): WhepTarget => {
    const t = target();
    if (!t) throw new HttpError(503, 'the live view is not running');
    return t;
  };
  const checkStream = (name: string) => {
    if (name !== stream) throw new HttpError(404, `no stream "${name}"; this agent serves "${stream}"`);
  };

  const removeOffer = http.route('POST', /^\/whep\/([^/]+)$/, async (req, res, { params }) => {
    checkStream(params[0]);
    const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (type !== 'application/sdp') throw new HttpError(415, `the offer must be sent as application/sdp, got "${type || 'nothing'}"`);
    const sdp = (await readBody(req, MAX_OFFER_BYTES)).toString('utf8');
    const { sessions, codec } = live();
    const problem = offerProblem(sdp, codec);
    if (problem) throw new HttpError(400, problem);
    const { id, answer } = await sessions.open(sdp, isLoopback(req.socket.remoteAddress));
    res.writeHead(201, {
      'Content-Type': 'application/sdp',
      Location: `${whepPath(stream)}/${id}`,
      'Cache-Control': 'no-store',
    });
    res.end(answer);
  });

  const removeDelete = http.route('DELETE', /^\/whep\/([^/]+)\/([A-Za-z0-9-]+)$/, (_req, res, { params }) => {
    checkStream(params[0]);
    if (!live().sessions.close(params[1], 'viewer sent DELETE')) throw new HttpError(404, 'no such session');
    res.writeHead(200, { 'Cache-Control': 'no-store' });
    res.end();
  });
  return () => {
    removeOffer();
    removeDelete();
  };
}
