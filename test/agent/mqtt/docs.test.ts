import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generateMqttDocs, mqttDocsPath, readmePath, readmeWithTopicTable, topicTable } from '../../../src/agent/mqtt/docs.js';
import { TOPICS } from '../../../src/agent/mqtt/topics.js';

describe('docs/mqtt.md', () => {
  it('has one table row and one example per declared topic', () => {
    const table = topicTable();
    const names = Object.keys(TOPICS);
    expect(table.split('\n')).toHaveLength(names.length + 2);
    for (const name of names) {
      expect(table).toContain(`| \`<prefix>/<device_id>/${name}\` |`);
      expect(generateMqttDocs()).toContain(`### \`${name}\``);
    }
    expect(table).toContain('| `<prefix>/<device_id>/status` | agent → you | yes | `mqtt.qos.status` (1) |');
  });

  it('is up to date (regenerate: npx tsc -p . && node dist/src/agent/mqtt/docs.js --write)', () => {
    expect(readFileSync(mqttDocsPath, 'utf8')).toBe(generateMqttDocs());
  });

  it('the README topic table is the generated one (same command regenerates it)', () => {
    const readme = readFileSync(readmePath, 'utf8');
    expect(readme).toBe(readmeWithTopicTable(readme));
    expect(readme).toContain(topicTable());
  });

  it('shows scores and confidences as they are published: 0..1', () => {
    const poses = TOPICS.poses.example;
    for (const p of poses.people) {
      expect(p.score).toBeGreaterThanOrEqual(0);
      expect(p.score).toBeLessThanOrEqual(1);
      for (let i = 2; i < p.pose_keypoints_2d.length; i += 3) expect(p.pose_keypoints_2d[i]).toBeLessThanOrEqual(1);
    }
  });
});
