// Pose events as an agent module: the pure engine (src/runtime/events) fed with every processed
// frame's tracked people in source time, publishing `events` (one message per event), the retained
// `zones/<name>` and `person_down` states, and the Home Assistant entities for them. Restarted with
// the pipeline (its people and source time start anew) and when `events.*` changes.

import type { AgentModule, AgentServices } from '../agent.js';
import type { HomeAssistantComponents } from '../homeassistant/components.js';
import { personDownComponent, poseEventComponent, zoneComponents } from '../homeassistant/event-components.js';
import type { ModuleScope } from '../lifecycle.js';
import { PoseEvents } from '../../runtime/events/engine.js';
import { eventMessage, personDownMessage, zoneMessage } from '../../runtime/events/messages.js';
import { loadManifest } from '../../runtime/manifest.js';

export class EventsModule implements AgentModule {
  readonly name = 'events';
  /** Holds per-person state in the pipeline's source time: rebuilt when the pipeline restarts. */
  readonly followsPipeline = true;
  private engine: PoseEvents | undefined;

  constructor(
    private readonly s: AgentServices,
    private readonly haComponents?: HomeAssistantComponents,
  ) {}

  /** The running engine (the live view asks it who is down). */
  get current(): PoseEvents | undefined {
    return this.engine;
  }

  async start(scope: ModuleScope): Promise<void> {
    const { config, pipeline, mqtt, log, stats } = this.s;
    const cfg = config.events;
    if (!pipeline) throw new Error('pose events need the pose pipeline, which is not running');
    if (!cfg.enabled) {
      log.info({ module: 'events' }, 'pose events are off (events.enabled=false)');
      return;
    }
    if (!config.tracking.enabled) log.warn({ module: 'events' }, 'tracking.enabled is false: events need confirmed person ids, so none will be raised');
    const manifest = loadManifest(config.inference.model);
    const engine = new PoseEvents(cfg, manifest.keypoints, { width: 1, height: 1 });
    this.engine = engine;
    scope.own(() => {
      if (this.engine === engine) this.engine = undefined;
    });
    const decimals = config.mqtt.decimals;
    const zoneNames = new Set(cfg.zones.map((z) => z.name));

    // Zones removed from the config (now, or since an earlier run) must not stay on the broker as if they were watched.
    for (const topic of mqtt.retainedOf('zones/{zone}')) if (!zoneNames.has(topic.slice(topic.lastIndexOf('/') + 1))) mqtt.clearRetained(topic);
    void mqtt.purgeStale('zones/{zone}', zoneNames);

    const counted = { events: 0, falls: 0 };
    const publishStates = (frame: number, clock: { mediaMs: number; ts: number }, zones: readonly string[], personDown: boolean) => {
      for (const name of zones) mqtt.publish('zones/{zone}', zoneMessage(engine.zoneState(name, clock.mediaMs), frame, clock.ts), name);
      if (personDown) mqtt.publish('person_down', personDownMessage(engine.personDown(), frame, clock));
    };
    // Before the first frame: every zone empty, nobody down (retained topics say what is true now).
    const now = Date.now();
    publishStates(0, { mediaMs: 0, ts: now }, [...zoneNames], true);

    scope.own(
      pipeline.on({
        onFrame: (frame, tracked, meta) => {
          engine.setSourceSize(meta.source); // returns at once when the size is unchanged
          const mediaMs = frame.mediaMs ?? frame.ts;
          const index = frame.index ?? frame.seq;
          const events = engine.update(tracked, mediaMs, index);
          const clock = { mediaMs, ts: frame.ts };
          for (const e of events) {
            mqtt.publish('events', eventMessage(e, decimals, clock));
            counted.events++;
            if (e.type === 'fall') {
              counted.falls++;
              log.warn({ module: 'events', id: e.id, zone: e.zone, frame: e.frame }, 'a person fell and is down');
            }
          }
          const changes = engine.changes;
          if (changes.zones.length || changes.personDown) publishStates(index, clock, changes.zones, changes.personDown);
        },
      }),
    );
    scope.own(
      stats.addSection('events', () => ({
        events: counted.events,
        falls: counted.falls,
        zones: Object.fromEntries(engine.zoneStates().map((z) => [z.name, z.count])),
        people_down: engine.personDown().people.length,
      })),
    );
    if (this.haComponents)
      scope.own(
        this.haComponents.add('events', [...cfg.zones.flatMap((z) => zoneComponents(z.name)), personDownComponent(), poseEventComponent()]),
      );
    log.info({ module: 'events', zones: [...zoneNames], lines: cfg.lines.map((l) => l.name) }, 'pose events running');
  }
}
