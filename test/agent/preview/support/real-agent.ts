// Harness running the real Agent (capture → PoseRuntime → tracker → MQTT on its embedded broker) with the
// HTTP and preview modules added, as `pafcast run` will once it wires them. Same stdout protocol as
// street-agent.ts: {"event":"listening"}, {"event":"people"}, {"event":"stats"}.
// Run: node --import ./ts-register.mjs real-agent.ts --media <file> --host H --port P [--token T] [--net-height N]

import { parseArgs } from 'node:util';
import { Agent, type AgentModule, type AgentServices } from '../../../../src/agent/agent.js';
import { loadConfig } from '../../../../src/agent/config/load.js';
import { HttpModule } from '../../../../src/agent/http/module.js';
import { createLogger } from '../../../../src/agent/log.js';
import { PreviewModule } from '../../../../src/agent/preview/module.js';

const { values: opt } = parseArgs({
  options: {
    media: { type: 'string' },
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '8080' },
    token: { type: 'string', default: '' },
    'net-height': { type: 'string', default: '160' },
  },
});
const emit = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);
const { config, errors } = loadConfig({
  flags: {
    'source.uri': opt.media, 'source.loop': true, 'inference.height': opt['net-height'], 'log.level': 'warn',
    'http.host': opt.host, 'http.port': opt.port, 'http.token': opt.token, 'preview.enabled': true,
  },
});
if (errors.length) throw new Error(`config: ${errors.join('; ')}`);
const log = createLogger(config.log.level, { write: (s: string) => process.stderr.write(s) });

let preview: PreviewModule | undefined;
/** Reports what the test needs to know: where people are, and how many preview frames were drawn. */
class ReportModule implements AgentModule {
  readonly name = 'report';
  private timer: NodeJS.Timeout | undefined;
  constructor(private readonly s: AgentServices) {}
  async start(): Promise<void> {
    this.s.pipeline?.on({
      onFrame: (frame, tracked, meta) => {
        if (tracked.length === 0) return;
        const sx = meta.sourceToFrame.x, sy = meta.sourceToFrame.y;
        emit({ event: 'people', width: frame.width, height: frame.height, people: tracked.map((p) => ({ id: p.id, box: box(p.keypoints, sx, sy) })) });
      },
    });
    this.timer = setInterval(() => emit({ event: 'stats', drawn: preview?.framesDrawn ?? 0, viewers: preview?.viewers ?? 0 }), 1000);
  }
  async stop(): Promise<void> {
    clearInterval(this.timer);
  }
}

function box(kp: Float32Array, sx: number, sy: number): number[] {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (let i = 0; i < kp.length; i += 3) {
    if (!(kp[i + 2] > 0)) continue;
    x0 = Math.min(x0, kp[i] * sx); y0 = Math.min(y0, kp[i + 1] * sy);
    x1 = Math.max(x1, kp[i] * sx); y1 = Math.max(y1, kp[i + 1] * sy);
  }
  return [x0, y0, x1, y1].map(Math.round);
}

const http = new HttpModule(config.http, log.child({ module: 'http' }));
const agent = new Agent(config, log, {
  extraModules: (s) => {
    preview = new PreviewModule(s, http.server);
    return [http, preview, new ReportModule(s)];
  },
});
await agent.start();
emit({ event: 'listening', port: Number(opt.port) });

const stop = async () => {
  await agent.stop();
  process.exit(0); // wrtc: exit explicitly once its tracks are stopped
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
