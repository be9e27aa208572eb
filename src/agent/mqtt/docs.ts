// Writes docs/mqtt.md from the topic map in topics.ts (and the QoS defaults in the config schema),
// so the documented topics are exactly the ones the code uses. A test fails when the file is stale.
// Regenerate: `npx tsc -p . && node dist/src/agent/mqtt/docs.js --write`.

import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultConfig } from '../config/load.js';
import { packageRoot } from '../config/docs.js';
import { TOPICS, encodePayload, type TopicName } from './topics.js';

export const mqttDocsPath = join(packageRoot(), 'docs', 'mqtt.md');

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
    'keep only their newest value.',
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
  process.stdout.write(`wrote ${mqttDocsPath}\n`);
}
