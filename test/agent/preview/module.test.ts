import { describe, expect, it } from 'vitest';
import type { AgentServices } from '../../../src/agent/agent.js';
import { HttpModule } from '../../../src/agent/http/module.js';
import { previewConfig } from '../../../src/agent/preview/config-schema.js';
import { PreviewModule } from '../../../src/agent/preview/module.js';
import type { PipelineEvents } from '../../../src/agent/pipeline.js';
import { layoutOf, loadManifest } from '../../../src/runtime/manifest.js';

const quiet = { info() {}, warn() {}, error() {}, child() { return quiet; } };

function services(withPipeline: boolean) {
  const listeners = new Set<PipelineEvents>();
  const sections = new Map<string, () => unknown>();
  const s = {
    stats: { addSection: (name: string, provider: () => unknown) => sections.set(name, provider) },
    config: { preview: previewConfig({ enabled: true }) },
    log: quiet,
    runtime: withPipeline ? { layout: layoutOf(loadManifest('lightweight-openpose-coco18')) } : undefined,
    pipeline: withPipeline ? { on: (e: PipelineEvents) => (listeners.add(e), () => listeners.delete(e)) } : undefined,
  } as unknown as AgentServices;
  return { s, listeners, sections };
}

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
    await expect(new PreviewModule(services(false).s, http.server).start()).rejects.toThrow(/pose pipeline/);
  });

  it('listens to pipeline frames while started, draws nothing without viewers, and unsubscribes on stop', async () => {
    const { s, listeners, sections } = services(true);
    const http = new HttpModule({ enabled: true, host: '127.0.0.1', port: 0, token: '' }, quiet);
    const m = new PreviewModule(s, http.server);
    await m.start();
    expect(listeners.size).toBe(1);
    const [events] = [...listeners];
    const frame = { data: new Uint8Array(64 * 36 * 3), width: 64, height: 36, order: 'rgb' as const, seq: 1, ts: 0, sourceWidth: 64, sourceHeight: 36 };
    const meta = { seq: 1, ts: 0, source: { width: 64, height: 36 }, net: { width: 64, height: 32 }, sourceToFrame: { x: 1, y: 1 }, latency_ms: 0 };
    for (let i = 0; i < 5; i++) events.onFrame!(frame, [], meta);
    expect(m.framesDrawn).toBe(0);
    expect(sections.get('preview')!()).toEqual({ viewers: 0, frames_drawn: 0 });
    expect(m.viewers).toBe(0);
    await m.stop();
    expect(listeners.size).toBe(0);
  });
});
