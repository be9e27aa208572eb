// Config section `mqtt`: the client that publishes everything. The embedded broker's section
// `broker` lives with it in src/agent/broker/config-schema.ts.

import { Type, type Static } from '@sinclair/typebox';

const Qos = (description: string, fallback: 0 | 1 | 2) =>
  Type.Union([Type.Literal(0), Type.Literal(1), Type.Literal(2)], { default: fallback, description });

// Topic levels must never carry MQTT wildcards; '/' is allowed in the prefix (e.g. "site/cams").
const TOPIC_LEVELS = '^[^#+/]+(/[^#+/]+)*$';

export const MqttConfigSchema = Type.Object(
  {
    url: Type.String({
      default: '',
      description:
        'Broker URL mqtt://host[:port], mqtts://, ws:// or wss:// (port 1..65535). Empty = start the embedded broker (section `broker`) and connect to it.',
    }),
    protocol_version: Type.Union([Type.Literal(5), Type.Literal(4)], {
      default: 5,
      description:
        'MQTT protocol: 5 (default; message expiry, content type, session expiry) or 4 (3.1.1). With 5, a broker that refuses it is ' +
        'retried with 3.1.1 and one warning (Home Assistant 2027.1 and later need an MQTT 5 broker).',
    }),
    poses_expiry_s: Type.Integer({
      minimum: 0,
      maximum: 3600,
      default: 5,
      description:
        'MQTT 5 message expiry of `poses`: a consumer reconnecting after an outage gets at most this many seconds of old frames, not a backlog (0 = none).',
    }),
    session_expiry_s: Type.Integer({
      minimum: 0,
      maximum: 86400,
      default: 300,
      description:
        'MQTT 5 session expiry: the broker keeps the agent\'s subscription (so `config/set` requests sent meanwhile are delivered) across an outage this long; 0 = clean session.',
    }),
    prefix: Type.String({
      default: 'pafcast',
      pattern: TOPIC_LEVELS,
      description: 'First topic level(s); topics are <prefix>/<device_id>/<topic>.'
    }),
    device_id: Type.String({
      default: '',
      pattern: '^([^#+/]+)?$',
      description: 'Second topic level, one level without wildcards. Empty = the hostname.'
    }),
    client_id: Type.String({ default: '', description: 'MQTT client id. Empty = pafcast_<prefix>_<device_id> (slashes become underscores).',}),
    qos: Type.Object(
      {
        status: Qos('QoS of `status` (online/offline/stopped, also used for the last will).', 1),
        poses: Qos('QoS of `poses` (one message per processed frame).', 0),
        people: Qos('QoS of `people` (retained count).', 1),
        stats: Qos('QoS of `stats`.', 0),
        events: Qos('QoS of `events`, `zones/<name>` and `person_down`.', 1),
        config: Qos('QoS of `config`, `config/set` and `config/result`.', 1),
      },
      { additionalProperties: false, default: {} },
    ),
    tls: Type.Object(
      {
        ca: Type.String({ default: '', description: 'PEM file of the CA that signed the broker certificate (mqtts://). Empty = system CAs.' }),
        cert: Type.String({ default: '', description: 'PEM client certificate file, for brokers that require client certificates.' }),
        key: Type.String({ default: '', description: 'PEM private key file of the client certificate.' }),
        reject_unauthorized: Type.Boolean({ default: true, description: 'Refuse brokers whose certificate does not verify. Only disable for testing.' }),
      },
      { additionalProperties: false, default: {},},
    ),
    username: Type.String({ default: '', description: 'Broker user name; env PAFCAST_MQTT_USERNAME overrides.',}),
    password: Type.String({ default: '', description: 'Broker password; env PAFCAST_MQTT_PASSWORD overrides.', secret: true }),
    keepalive_s: Type.Integer({ minimum: 5, maximum: 3600, default: 30, description: 'MQTT keepalive; a dead broker is noticed after 1.5 × this.',}),
    reconnect: Type.Object(
      {
        min_ms: Type.Integer({ minimum: 100, maximum: 60000, default: 1000, description: 'First reconnect delay after the broker goes away.' }),
        max_ms: Type.Integer({ minimum: 100, maximum: 600000, default: 30000, description: 'The delay doubles on each failed attempt up to this.' }),
      },
      { additionalProperties: false, default: {},},
    ),
    queue_max: Type.Integer({
      minimum: 1,
      maximum: 100000,
      default: 500,
      description: 'Messages kept while the broker is away; when full the oldest is dropped (newest win) and counted in `stats`.',
    }),
    skip_empty_frames: Type.Boolean({ default: false, description: 'Do not publish `poses` for frames with nobody in them.' }),
    stats_interval_s: Type.Number({ minimum: 0.5, maximum: 3600, default: 10, description: 'Period of the `stats` message.' }),
    decimals: Type.Integer({ minimum: 0, maximum: 6, default: 1, description: 'Decimals of keypoint coordinates in `poses` (confidences keep 3).' }),
  },
  { additionalProperties: false, default: {} },
);

export type MqttConfig = Static<typeof MqttConfigSchema>;
