// The Home Assistant entities of the pose events (src/runtime/events, docs/events.md), over the
// messages of src/runtime/events/messages.ts: per zone an occupancy binary_sensor and a people count,
// the person-down binary_sensor with the people who are down as attributes, and one event entity for
// the momentary events. The events module registers them with HomeAssistantComponents.add().

import type { HaComponent } from './discovery.js';

/** Event types the `event` entity fires; zone_enter / zone_leave are the zones' occupancy sensors instead. */
export const HA_EVENT_TYPES = ['fall', 'hands_up', 'wave', 'line_cross', 'loitering'] as const;

/** Zone names are already topic levels and ids ([A-Za-z0-9_-], events config schema). */
export function zoneComponents(zone: string): HaComponent[] {
  const topic = `zones/${zone}`;
  return [
    {
      key: `zone_${zone}_occupancy`,
      platform: 'binary_sensor',
      name: `Zone ${zone} occupancy`,
      topic,
      value_template: "{{ 'ON' if value_json.occupied else 'OFF' }}",
      device_class: 'occupancy',
      qos: 1,
    },
    {
      key: `zone_${zone}_people`,
      platform: 'sensor',
      name: `Zone ${zone} people`,
      topic,
      value_template: '{{ value_json.count }}',
      state_class: 'measurement',
      suggested_display_precision: 0,
      icon: 'mdi:account-group',
      qos: 1,
    },
  ];
}

/** On while somebody is down; the attributes say who, since when (ms, like `ts`) and in which zone. */
export function personDownComponent(): HaComponent {
  return {
    key: 'person_down',
    platform: 'binary_sensor',
    name: 'Person down',
    topic: 'person_down',
    value_template: "{{ 'ON' if value_json.down else 'OFF' }}",
    // `safety`: on means unsafe.
    device_class: 'safety',
    json_attributes_template: "{{ {'count': value_json.count, 'people': value_json.people} | tojson }}",
    qos: 1,
  };
}

/**
 * The event entity: `type` becomes Home Assistant's `event_type`; the person's id, zone, line, direction,
 * hand and dwell are the event's attributes (keypoints are left out: they would bloat the recorder).
 * Other types render nothing, which Home Assistant ignores without a warning.
 */
export function poseEventComponent(): HaComponent {
  const attrs = ['zone', 'line', 'direction', 'hand', 'dwell_s'].map((k) => `'${k}': value_json.${k} | default(None)`).join(', ');
  return {
    key: 'pose_event',
    platform: 'event',
    name: 'Pose event',
    topic: 'events',
    event_types: [...HA_EVENT_TYPES],
    value_template:
      `{{ {'event_type': value_json.type, 'person_id': value_json.id, ${attrs}} | tojson ` +
      `if value_json.type in [${HA_EVENT_TYPES.map((t) => `'${t}'`).join(', ')}] else '' }}`,
    icon: 'mdi:human-handsup',
    qos: 1,
  };
}
