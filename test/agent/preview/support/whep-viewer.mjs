// A minimal WHEP viewer on @roamhq/wrtc, for tests and the benchmark: POSTs a recvonly video offer,
// applies the answer and counts decoded frames. Run as a script it connects to argv[2], prints
// JSON lines ({"event":"connected"}, {"event":"frames",...}) and stays until it is killed.

import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const wrtc = createRequire(import.meta.url)('@roamhq/wrtc');

function gathered(pc, timeoutMs = 3000) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(resolve, timeoutMs);
    pc.addEventListener('icegatheringstatechange', () => {
      if (pc.iceGatheringState === 'complete') { clearTimeout(t); resolve(); }
    });
  });
}

/** A recvonly video offer with all candidates; the caller owns (and must close) `pc`. */
export async function makeOffer() {
  const pc = new wrtc.RTCPeerConnection({ iceServers: [] });
  pc.addTransceiver('video', { direction: 'recvonly' });
  await pc.setLocalDescription(await pc.createOffer());
  await gathered(pc);
  return { pc, sdp: pc.localDescription.sdp };
}

/**
 * Connects to a WHEP endpoint. Resolves once the HTTP exchange is done (not when media flows):
 * { status, location, pc, frames(): number, lastSize(): {width,height}|null, close(): Promise<void> }.
 */
export async function connectViewer(endpoint, { token } = {}) {
  const { pc, sdp } = await makeOffer();
  let frames = 0;
  let size = null;
  let sink = null;
  pc.addEventListener('track', (ev) => {
    sink = new wrtc.nonstandard.RTCVideoSink(ev.track);
    sink.onframe = ({ frame }) => { frames++; size = { width: frame.width, height: frame.height }; };
  });
  const headers = { 'Content-Type': 'application/sdp' };
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(endpoint, { method: 'POST', headers, body: sdp });
  const body = await res.text();
  const location = res.headers.get('location');
  if (res.status === 201) await pc.setRemoteDescription({ type: 'answer', sdp: body });
  return {
    status: res.status,
    body,
    location: location ? new URL(location, endpoint).href : null,
    pc,
    frames: () => frames,
    lastSize: () => size,
    async close() {
      sink?.stop();
      pc.close();
    },
  };
}

async function main() {
  const [endpoint, token] = process.argv.slice(2);
  const v = await connectViewer(endpoint, { token });
  if (v.status !== 201) {
    process.stdout.write(JSON.stringify({ event: 'refused', status: v.status, body: v.body }) + '\n');
    process.exit(1);
  }
  v.pc.addEventListener('connectionstatechange', () => {
    if (v.pc.connectionState === 'connected') process.stdout.write(JSON.stringify({ event: 'connected', location: v.location }) + '\n');
  });
  setInterval(() => process.stdout.write(JSON.stringify({ event: 'frames', frames: v.frames(), size: v.lastSize() }) + '\n'), 1000);
  const stop = async () => { await v.close(); process.exit(0); };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
