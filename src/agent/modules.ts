// The optional modules `pafcast run` adds around the core (broker, config, pipeline, stats), in
// start order: HTTP first so the others can register routes, then what watches the pipeline.

import type { AgentModule, AgentServices } from './agent.js';
import { HomeAssistantComponents } from './homeassistant/components.js';
import { HomeAssistantModule } from './homeassistant/module.js';
import { HttpModule } from './http/module.js';
import { NotifyModule } from './notify/module.js';
import { PreviewModule } from './preview/module.js';
import { RemoteConfigModule, type RemoteModuleOptions } from './remote/module.js';
import { TelemetryModule } from './telemetry-module.js';
import { EventsModule } from './events/module.js';

export function agentModules(s: AgentServices, remote: RemoteModuleOptions): { modules: AgentModule[]; notify: NotifyModule | undefined } {
  const { config, log } = s;
  const modules: AgentModule[] = [];
  // Home Assistant entities of other modules (the pose events' zones and events): they add them when they start.
  const haComponents = new HomeAssistantComponents();
  const http = config.http.enabled ? new HttpModule(config.http, log.child({ module: 'http' }), () => s.health.report()) : undefined;
  if (http) modules.push(http);
  const events = new EventsModule(s, haComponents);
  if (http && config.preview.enabled) modules.push(new PreviewModule(s, http.server, {}, () => events.current));
  else if (config.preview.enabled) log.warn('preview is enabled but http.enabled is false: the live view needs the HTTP server');
  modules.push(new TelemetryModule(s, http?.server));
  let notify: NotifyModule | undefined;
  try {
    notify = NotifyModule.fromEnv(s);
    modules.push(notify);
  } catch (e) {
    // Under systemd without the addon the service would be killed at its start timeout: say why now.
    log.error({ err: (e as Error).message }, 'sd_notify is unavailable');
  }
  modules.push(events);
  modules.push(new RemoteConfigModule(s, remote));
  // Discovery goes last, so that its first message has the entities the modules above add to haComponents.
  modules.push(new HomeAssistantModule(s, haComponents));
  return { modules, notify };
}
