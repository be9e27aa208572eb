// Home Assistant MQTT discovery as an agent module: publishes the device's retained discovery message,
// answers Home Assistant's birth message with the discovery and the current states, republishes when
// other modules' components change, and deletes the message when discovery is turned off.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentModule, AgentServices } from '../agent.js';
import type { ModuleScope } from '../lifecycle.js';
import { packageRoot } from '../../runtime/package-root.js';
import { readDeviceInfo } from '../../telemetry/device-info.js';
import type { HomeAssistantComponents } from './components.js';
import { discoveryDevice, discoveryMessage, discoveryObjectId, discoveryTopic, type DiscoveryOrigin } from './discovery.js';

export interface HomeAssistantTiming {
  /**
   * Longest random wait before answering a birth message. Home Assistant's MQTT docs recommend a random
   * delay, so that every device on a broker does not answer in the same instant.
   */
  birthJitterMs: number;
  /**
   * Stats go out at once after the birth message and again this much later: Home Assistant subscribes to
   * an entity's state topic only once it has processed the discovery message, and `stats` is not retained.
   */
  statesSettleMs: number;
  /**
   * Component changes within this window make one new discovery message. A module restart removes and
   * adds its components a few ms apart; publishing the gap would make Home Assistant delete those
   * entities (and the user's settings for them) and create them again.
   */
  changeDebounceMs: number;
}

export const DEFAULT_TIMING: HomeAssistantTiming = { birthJitterMs: 1000, statesSettleMs: 5000, changeDebounceMs: 2000 };

interface PackageInfo {
  version: string;
  homepage?: string;
  bugs?: string | { url?: string };
}

function origin(): DiscoveryOrigin {
  const pkg = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as PackageInfo;
  const bugs = typeof pkg.bugs === 'string' ? pkg.bugs : pkg.bugs?.url;
  const support_url = pkg.homepage ?? bugs;
  return { name: 'pafcast', sw_version: pkg.version, ...(support_url ? { support_url } : {}) };
}

export class HomeAssistantModule implements AgentModule {
  readonly name = 'homeassistant';
  /** The discovery topic this process last published, so a prefix changed live does not leave a ghost device. */
  private published: string | undefined;

  constructor(
    private readonly s: AgentServices,
    private readonly components: HomeAssistantComponents,
    private readonly timing: HomeAssistantTiming = DEFAULT_TIMING,
  ) {}

  async start(scope: ModuleScope): Promise<void> {
    const { config, mqtt, stats } = this.s;
    const cfg = config.homeassistant;
    const log = this.s.log.child({ module: 'homeassistant' });
    const objectId = discoveryObjectId(config.mqtt.device_id);
    const topic = discoveryTopic(cfg.prefix, objectId);
    if (this.published && this.published !== topic) mqtt.deleteRetained(this.published);
    if (!cfg.enabled) {
      // Also when this process never published it: a previous run may have left it on the broker.
      mqtt.deleteRetained(topic);
      this.published = undefined;
      log.info({ topic }, 'Home Assistant discovery is off; its retained discovery message is deleted');
      return;
    }

    const info = await readDeviceInfo(config.telemetry.root).catch(() => null);
    const org = origin();
    const device = discoveryDevice({ objectId, deviceId: config.mqtt.device_id, name: cfg.name, suggestedArea: cfg.suggested_area, info, version: org.sw_version });
    // Sorted by key: the message depends on which components there are, not on the order their modules started in.
    const extra = () => this.components.list().sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const build = () => JSON.stringify(discoveryMessage({ base: mqtt.base, objectId, device, origin: org }, extra()));
    let current = build();
    const publish = () => mqtt.publishExternal(topic, current, { retain: true, qos: 1 });
    publish();
    this.published = topic;
    // A restart publishes (or deletes) it again; a stop of the agent leaves it, so Home Assistant keeps the device, unavailable.
    scope.own(() => mqtt.forgetRetained(topic));

    const timers = new Set<NodeJS.Timeout>();
    const later = (ms: number, fn: () => void): NodeJS.Timeout => {
      const t = setTimeout(() => {
        timers.delete(t);
        fn();
      }, ms);
      t.unref();
      timers.add(t);
      return t;
    };
    scope.own(() => {
      for (const t of timers) clearTimeout(t);
      timers.clear();
    });

    let changeTimer: NodeJS.Timeout | undefined;
    scope.own(
      this.components.onChange(() => {
        if (changeTimer) {
          clearTimeout(changeTimer);
          timers.delete(changeTimer);
        }
        changeTimer = later(this.timing.changeDebounceMs, () => {
          changeTimer = undefined;
          let next: string;
          try {
            next = build();
          } catch (e) {
            log.error({ err: (e as Error).message }, 'Home Assistant discovery not updated');
            return;
          }
          if (next === current) return;
          current = next;
          publish();
          log.info({ topic, entities: Object.keys(JSON.parse(next).components).length }, 'Home Assistant discovery updated');
        });
      }),
    );

    const birthTopic = cfg.birth_topic || `${cfg.prefix}/status`;
    // Birth messages while an answer is under way join it: anyone may publish on this topic, and a flood
    // of them must not become a flood of discovery messages (at most one answer per settle time).
    let answering = false;
    scope.own(
      mqtt.subscribeExternal(birthTopic, (payload) => {
        // Home Assistant also says `offline` here when it stops: nothing to do then.
        if (payload.toString('utf8').trim() !== 'online' || answering) return;
        answering = true;
        later(Math.random() * this.timing.birthJitterMs, () => {
          log.info({ birth_topic: birthTopic }, 'Home Assistant came online; publishing discovery and states again');
          publish();
          mqtt.resendRetained(['status', 'people']);
          stats.publishNow();
          later(this.timing.statesSettleMs, () => {
            answering = false;
            stats.publishNow();
          });
        });
      }),
    );
    log.info({ topic, birth_topic: birthTopic, entities: Object.keys(JSON.parse(current).components).length }, 'Home Assistant discovery published');
  }
}
