// Writes docs/mqtt.md from the topic map in topics.ts (and the QoS defaults in the config schema),
// so the documented topics are exactly the ones the code uses. A test fails when the file is stale.
// Regenerate: `npx tsc -p . && node dist/src/agent/mqtt/docs.js --write`.

import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultConfig } from '../config/load.js';
import { packageRoot } from '../config/docs.js';
import { TOPICS, encodePayload, type TopicName } from './topics.js';

export const mqttDocsPath = join(packageRoot(), 'docs', 'mqtt.md');
export const readmePath = join(packageRoot(), 'README.md');

const TABLE_BEGIN = '<!-- topic-table:begin (generated from src/agent/mqtt/topics.ts by src/agent/mqtt/docs.ts) -->';
const TABLE_END = '<!-- topic-table:end -->';

/** The README with its topic table block replaced by the generated one. */
export function readmeWithTopicTable(readme: string): string {
  const a = readme.indexOf(TABLE_BEGIN);
  const b = readme.indexOf(TABLE_END);
  if (a < 0 || b < a) throw new Error(`README.md has no ${TABLE_BEGIN} … ${TABLE_END} block`);
  return `${readme.slice(0, a + TABLE_BEGIN.length)}\n${topicTable()}\n${readme.slice(b)}`;
}

/** The topic table alone (also pasted into the README). */
export function topicTable(): string {
  const qos = defaultConfig().mqtt.qos;
  const rows = (Object.keys(TOPICS) as TopicName[]).map((name) => {
    const t = TOPICS[name];
    const dir = t.direction === 'out' ? 'agent → you' : 'you → agent';
    return `| \`<prefix>/<device_id>/${name}\` | ${dir} | ${t.retained ? 'yes' : 'no'} | \`mqtt.qos.${t.qos}\` (${qos[t.qos]}) | ${t.description.replaceAll('|', '\\|')} |`;
  });
  return ['| topic | direction | retained | QoS (default) | what |', '|---|---|---|---|---|', ...rows].join('\n');
}

export function generateMqttDocs(): string {
  const out = [
    '# pafcast MQTT topics',
    '',
    '<!-- Generated from src/agent/mqtt/topics.ts by src/agent/mqtt/docs.ts; do not edit by hand. -->',
    '',
    'Every topic lives under `<prefix>/<device_id>/` (config `mqtt.prefix`, default `pafcast`, and',
    '`mqtt.device_id`, default the hostname). Payloads are JSON except `status`, which is plain text.',
    'Keypoints follow the model\'s part order (OpenPose COCO-18 for the default model) in source pixels,',
    'as flat `[x, y, confidence, ...]`; a part that was not found is `0, 0, 0`.',
    '',
    'Watch everything a device publishes (embedded broker or any other):',
    '',
    '```sh',
    "mosquitto_sub -h 127.0.0.1 -t 'pafcast/#' -v",
    '```',
    '',
    topicTable(),
    '',
    'While the broker is unreachable the agent keeps the newest `mqtt.queue_max` messages, counts the',
    'rest in `stats.mqtt.dropped`, and sends the kept ones in order once it reconnects; retained topics',
    'keep only their newest value, and every retained topic the agent owns is published again on each',
    'reconnect (a broker restarted without persistence has forgotten them) and put right at once when',
    'another client overwrites it.',
    '',
    '## MQTT 5',
    '',
    'The agent connects with MQTT 5 by default (`mqtt.protocol_version`: 5, or 4 for 3.1.1); a broker',
    'that refuses v5 is retried with 3.1.1 and one warning line. With v5 every message carries',
    '`content-type` (`application/json`, or `text/plain` for `status`) and the payload-format indicator',
    '(UTF-8); `poses` expire after `mqtt.poses_expiry_s` (default 5 s), so a consumer that reconnects',
    'after an outage gets what is true now instead of a backlog of old frames; and the session outlives',
    'a short outage (`mqtt.session_expiry_s`, default 300 s), so `config/set` requests published',
    'meanwhile are still delivered. Read the properties with `mosquitto_sub -V mqttv5 -F \'%t %C %E %p\'`.',
    '',
    '## Many devices on one broker (fleets)',
    '',
    '- **One base per device.** `<prefix>/<device_id>/...` keeps devices apart; give every device its',
    '  own `mqtt.device_id` (default: the hostname). Two agents with the same id are detected (a second',
    '  publisher on the device\'s topics, or the broker taking over the session) and each logs an error',
    '  with the fix. Group sites with a multi-level prefix (`mqtt.prefix: site/hall-2`).',
    '- **All devices at once.** Subscribe with wildcards: `pafcast/+/people` (every count),',
    '  `pafcast/+/status` (what is online), `pafcast/+/stats`.',
    '- **Pools of consumers.** With MQTT 5 shared subscriptions a pool of workers shares one stream,',
    '  each message going to one member: `$share/pose-workers/pafcast/+/poses`. Add workers to scale',
    '  processing without duplicating it; the agent needs nothing for this.',
    '- **Bridging upstream.** Keep a broker per site (or the embedded one per device) and bridge only',
    '  what the centre needs, e.g. a Mosquitto bridge `topic pafcast/+/people out 1` and',
    '  `topic pafcast/+/status out 1`, plus `topic pafcast/+/config/set in 1` for remote config;',
    '  `poses` usually stay on site (they are per frame). Retained state topics make a bridged view',
    '  correct after any reconnect.',
    '- **Remote config at scale.** Sign updates once per device (`pafcast remote set --device ID`);',
    '  the signature binds each update to one device id (docs/remote-config.md).',
    '',
    '## Payload examples',
    '',
  ];
  for (const name of Object.keys(TOPICS) as TopicName[]) {
    const t = TOPICS[name];
    const body = name === 'status' ? encodePayload(name, TOPICS.status.example) : JSON.stringify(t.example, null, 2);
    out.push(`### \`${name}\``, '', t.description, '', '```' + (name === 'status' ? '' : 'json'), body, '```', '');
  }
  return out.join('\n');
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url) && process.argv.includes('--write')) {
  writeFileSync(mqttDocsPath, generateMqttDocs());
  writeFileSync(readmePath, readmeWithTopicTable(readFileSync(readmePath, 'utf8')));
  process.stdout.write(`wrote ${mqttDocsPath} and the topic table in ${readmePath}\n`);
}
