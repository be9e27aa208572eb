import { describe, expect, it } from 'vitest';
import type { AgentServices } from '../../../src/agent/agent.js';
import { defaultConfig } from '../../../src/agent/config/load.js';
import { HttpModule } from '../../../src/agent/http/module.js';
import { ModuleScope } from '../../../src/agent/lifecycle.js';
import { previewConfig } from '../../../src/agent/preview/config-schema.js';
import { PreviewModule } from '../../../src/agent/preview/module.js';
import type { PipelineEvents } from '../../../src/agent/pipeline.js';
import { layoutOf, loadManifest } from '../../../src/runtime/manifest.js';

const quiet = { info() {}, warn() {}, error() {}, child() { return quiet; } };

function services(withPipeline: boolean) {
  const listeners = new Set<PipelineEvents>();
  const sections = new Map<string, () => unknown>();
  const metrics = new Map<string, () => unknown>();
  const s = {
    stats: {
      addSection: (name: string, provider: () => unknown) => (sections.set(name, provider), () => sections.delete(name)),
      addMetrics: (owner: string, provider: () => unknown) => (metrics.set(owner, provider), () => metrics.delete(owner)),
    },
    config: { ...defaultConfig(), preview: previewConfig({ enabled: true }) },
    log: quiet,
    layout: withPipeline ? layoutOf(loadManifest('lightweight-openpose-coco18')) : undefined,
    pipeline: withPipeline ? { on: (e: PipelineEvents) => (listeners.add(e), () => listeners.delete(e)) } : undefined,
  } as unknown as AgentServices;
  return { s, listeners, sections, metrics };
}
/** A recorded machine with x264enc and no NVENC: the module starts without probing the host. */
const tools = { gstLaunch: true, nvencDevice: null, elements: new Set(['fdsrc', 'rawvideoparse', 'rtpsession', 'rtpstreampay', 'rtpstreamdepay', 'fdsink', 'fakesink', 'x264enc', 'rtph264pay']) };

describe('HttpModule', () => {
  it('treats an empty configured token as no authentication', async () => {
    const m = new HttpModule({ enabled: true, host: '127.0.0.1', port: 0, token: '' }, quiet);
    m.server.route('GET', '/x', (_req, res) => void res.end('x'));
    const { port } = await m.server.start();
    try {
      expect((await fetch(`http://127.0.0.1:${port}/x`)).status).toBe(200);
    } finally {
      await m.stop();
    }
  });
});

describe('PreviewModule', () => {
  it('refuses to start without the pose pipeline', async () => {
    const http = new HttpModule({ enabled: true, host: '127.0.0.1', port: 0, token: '' }, quiet);
    await expect(new PreviewModule(services(false).s, http.server, { tools }).start(new ModuleScope('preview'))).rejects.toThrow(/pose pipeline/);
  });

  it('fails alone, saying why, when no encoder can run here, and leaves nothing registered', async () => {
    const { s, listeners, sections } = services(true);
    const http = new HttpModule({ enabled: true, host: '127.0.0.1', port: 0, token: '' }, quiet);
    const scope = new ModuleScope('preview');
    const none = { gstLaunch: true, nvencDevice: null, elements: new Set<string>() };
    await expect(new PreviewModule(s, http.server, { tools: none }).start(scope)).rejects.toThrow(/no encoder for the live view: not nvv4l2h264enc: .*not x264enc: gst-inspect-1.0 does not find/);
    await scope.dispose();
    expect(listeners.size).toBe(0);
    expect(sections.size).toBe(0);
    // No route was left behind: a fresh registration of the same paths is accepted.
    const again = new PreviewModule(s, http.server, { tools });
    const scope2 = new ModuleScope('preview');
    await again.start(scope2);
    await scope2.dispose();
  });

  it('listens to pipeline frames while started, draws nothing without viewers, and unregisters everything with its scope', async () => {
    const { s, listeners, sections, metrics } = services(true);
    const http = new HttpModule({ enabled: true, host: '127.0.0.1', port: 0, token: '' }, quiet);
    const m = new PreviewModule(s, http.server, { tools });
    const scope = new ModuleScope('preview');
    await m.start(scope);
    expect(listeners.size).toBe(1);
    const [events] = [...listeners];
    const frame = { data: new Uint8Array(64 * 36 * 3), width: 64, height: 36, order: 'rgb' as const, seq: 1, ts: 0, sourceWidth: 64, sourceHeight: 36 };
    const meta = { seq: 1, ts: 0, source: { width: 64, height: 36 }, net: { width: 64, height: 32 }, sourceToFrame: { x: 1, y: 1 }, latency_ms: 0 };
    for (let i = 0; i < 5; i++) events.onFrame!(frame, [], meta);
    expect(m.framesDrawn).toBe(0);
    expect(sections.get('preview')!()).toMatchObject({ viewers: 0, frames_drawn: 0, encoder: 'x264enc', encoder_running: false });
    expect(m.viewers).toBe(0);
    await scope.dispose();
    expect(listeners.size).toBe(0);
    expect(sections.size).toBe(0);
    expect(metrics.size).toBe(0);
    // The routes are gone too: registering them again (as a restarted module does) is accepted.
    const scope2 = new ModuleScope('preview');
    await new PreviewModule(s, http.server, { tools }).start(scope2);
    await scope2.dispose();
  });
});
