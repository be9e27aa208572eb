// pafcast viewer: receives the agent's annotated stream over WHEP and shows live stats.
// Plain browser JavaScript, no build step. Reconnects on its own when the agent restarts.
'use strict';

(() => {
  const video = document.getElementById('video');
  const statusEl = document.getElementById('status');
  const params = new URLSearchParams(location.search);
  const token = params.get('token');
  const endpoint = new URL(document.querySelector('meta[name="pafcast-whep"]').content, location.href);
  /** How long to wait for ICE candidates before sending the offer anyway (the agent does not take trickle ICE). */
  const GATHER_TIMEOUT_MS = 2000;
  /** A connection disconnected this long is given up and rebuilt. */
  const STALL_MS = 4000;

  let pc = null;
  let sessionUrl = null;
  let retryMs = 1000;
  let stallTimer = null;
  let last = null; // previous inbound-rtp sample, for rates

  // State the page exposes for scripts and tests: window.pafcast.stats is refreshed every second; timing holds
  // performance.now() of the last offer sent, its answer and the first frame shown after it.
  const state = {
    status: 'connecting', connects: 0, stats: null, timing: { postAt: null, answerAt: null, firstFrameAt: null },
    getStats: () => (pc ? pc.getStats() : Promise.resolve(null)),
  };
  window.pafcast = state;

  function setStatus(kind, text) {
    state.status = kind;
    statusEl.dataset.state = kind;
    statusEl.textContent = text;
  }

  function authHeaders(extra) {
    return token ? { ...extra, Authorization: `Bearer ${token}` } : extra;
  }

  function gathered(peer) {
    if (peer.iceGatheringState === 'complete') return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, GATHER_TIMEOUT_MS);
      peer.addEventListener('icegatheringstatechange', () => {
        if (peer.iceGatheringState === 'complete') { clearTimeout(timer); resolve(); }
      });
    });
  }

  async function connect() {
    teardown();
    setStatus('connecting', 'connecting…');
    const peer = new RTCPeerConnection();
    pc = peer;
    peer.addTransceiver('video', { direction: 'recvonly' });
    peer.addEventListener('track', (ev) => {
      video.srcObject = ev.streams[0] ?? new MediaStream([ev.track]);
      watchFirstFrame(peer);
    });
    peer.addEventListener('connectionstatechange', () => onState(peer));
    try {
      await peer.setLocalDescription(await peer.createOffer());
      await gathered(peer);
      state.timing = { postAt: performance.now(), answerAt: null, firstFrameAt: null };
      const res = await fetch(endpoint, {
        method: 'POST',
        headers: authHeaders({ 'Content-Type': 'application/sdp' }),
        body: peer.localDescription.sdp,
      });
      if (res.status !== 201) {
        const why = (await res.text()).trim();
        // 401 will not fix itself: say so and stop; anything else (503, agent restarting) is retried.
        if (res.status === 401) { setStatus('error', `not authorised: open this page with ?token=<token> (${why})`); return; }
        throw new Error(`${res.status} ${why}`);
      }
      sessionUrl = new URL(res.headers.get('Location'), endpoint);
      state.timing.answerAt = performance.now();
      await peer.setRemoteDescription({ type: 'answer', sdp: await res.text() });
      retryMs = 1000;
    } catch (err) {
      if (pc !== peer) return;
      retry(`cannot connect (${err.message})`);
    }
  }

  /** Notes when the first frame of this connection is shown (requestVideoFrameCallback where the browser has it). */
  function watchFirstFrame(peer) {
    const mark = () => {
      if (pc === peer && state.timing.firstFrameAt === null) {
        state.timing.firstFrameAt = performance.now();
        const ms = state.timing.postAt === null ? null : Math.round(state.timing.firstFrameAt - state.timing.postAt);
        document.getElementById('stat-first').textContent = ms === null ? '–' : `${ms} ms after the offer`;
      }
    };
    if (typeof video.requestVideoFrameCallback === 'function') video.requestVideoFrameCallback(mark);
    else video.addEventListener('loadeddata', mark, { once: true });
  }

  function onState(peer) {
    if (pc !== peer) return;
    const s = peer.connectionState;
    clearTimeout(stallTimer);
    if (s === 'connected') { state.connects++; setStatus('connected', 'live'); }
    else if (s === 'disconnected') stallTimer = setTimeout(() => retry('connection lost'), STALL_MS);
    else if (s === 'failed' || s === 'closed') retry(`connection ${s}`);
  }

  function retry(why) {
    teardown();
    setStatus('error', `${why}; retrying in ${Math.round(retryMs / 1000)} s`);
    setTimeout(connect, retryMs);
    retryMs = Math.min(retryMs * 2, 8000);
  }

  function teardown() {
    clearTimeout(stallTimer);
    if (sessionUrl) {
      // Best effort: tells the agent to free the viewer slot now instead of reaping it later.
      fetch(sessionUrl, { method: 'DELETE', headers: authHeaders({}), keepalive: true }).catch(() => {});
      sessionUrl = null;
    }
    if (pc) { const old = pc; pc = null; old.close(); }
    last = null;
  }

  async function sampleStats() {
    if (!pc) return;
    const report = await pc.getStats();
    let inbound = null;
    const codecs = new Map();
    report.forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'video') inbound = s;
      if (s.type === 'codec') codecs.set(s.id, s.mimeType);
    });
    if (!inbound) return;
    const now = inbound.timestamp;
    const dt = last ? (now - last.timestamp) / 1000 : 0;
    const fps = inbound.framesPerSecond ?? (dt > 0 ? (inbound.framesDecoded - last.framesDecoded) / dt : 0);
    const kbps = dt > 0 ? ((inbound.bytesReceived - last.bytesReceived) * 8) / dt / 1000 : 0;
    last = inbound;
    state.stats = {
      fps,
      width: inbound.frameWidth ?? 0,
      height: inbound.frameHeight ?? 0,
      kbps,
      framesDecoded: inbound.framesDecoded ?? 0,
      codec: codecs.get(inbound.codecId) ?? '',
    };
    const st = state.stats;
    document.getElementById('stat-fps').textContent = st.fps.toFixed(1);
    document.getElementById('stat-resolution').textContent = st.width ? `${st.width}×${st.height}` : '–';
    document.getElementById('stat-bitrate').textContent = `${Math.round(st.kbps)} kbit/s`;
    document.getElementById('stat-decoded').textContent = String(st.framesDecoded);
    document.getElementById('stat-codec').textContent = st.codec || '–';
  }

  setInterval(() => { sampleStats().catch(() => {}); }, 1000);
  window.addEventListener('pagehide', teardown);
  connect();
})();
