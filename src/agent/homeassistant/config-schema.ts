// Config section `homeassistant`: MQTT discovery, so that the device appears in Home Assistant by
// itself (docs/homeassistant.md). On by default: every agent has a broker, configured or embedded.

import { Type, type Static } from '@sinclair/typebox';

// Home Assistant's discovery prefix and birth topic are plain topic levels; the embedded broker writes
// the prefix into its ACL, so nothing beyond letters, digits, `_` and `-` per level.
const TOPIC_LEVELS = '^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$';

export const HomeAssistantConfigSchema = Type.Object(
  {
    enabled: Type.Boolean({
      default: true,
      description:
        'Publish one retained Home Assistant device discovery message (`<prefix>/device/<device id>/config`) with read-only entities. ' +
        'Turning it off deletes that message, and with it the device in Home Assistant.',
    }),
    prefix: Type.String({
      default: 'homeassistant',
      pattern: TOPIC_LEVELS,
      description: "Home Assistant's discovery prefix (its MQTT integration option, default `homeassistant`).",
    }),
    birth_topic: Type.String({
      default: '',
      pattern: `(${TOPIC_LEVELS})|^$`,
      description:
        "Topic of Home Assistant's birth message; on `online` the agent publishes its discovery and current states again. Empty = `<prefix>/status` (Home Assistant's default).",
    }),
    name: Type.String({
      default: '',
      maxLength: 64,
      pattern: '^[^\\x00-\\x1f\\x7f]*$',
      description: 'Device name shown in Home Assistant (entity names are prefixed with it). Empty = `pafcast <device id>`.',
    }),
    suggested_area: Type.String({
      default: '',
      maxLength: 64,
      pattern: '^[^\\x00-\\x1f\\x7f]*$',
      description: 'Area Home Assistant puts the device in when it is first discovered (e.g. `Hallway`). Empty = none.',
    }),
  },
  { additionalProperties: false, default: {} },
);

export type HomeAssistantConfig = Static<typeof HomeAssistantConfigSchema>;
