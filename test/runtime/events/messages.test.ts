import { describe, expect, it } from 'vitest';
import { eventMessage, personDownMessage, zoneMessage } from '../../../src/runtime/events/messages.js';
import type { FallEvent, LineCrossEvent } from '../../../src/runtime/events/types.js';

describe('event messages', () => {
  const kp = Float32Array.from([612.5049, 201.0001, 0.91234, 0, 0, 0]);

  it('rounds keypoints like poses and moves source times onto the publishing clock', () => {
    const fall: FallEvent = { type: 'fall', id: 3, zone: 'hall', since: 3533.3, ts: 5066.7, frame: 152, keypoints: kp };
    const m = eventMessage(fall, 1, { mediaMs: 5066.7, ts: 1_764_190_000_123 });
    expect(m).toEqual({ type: 'fall', id: 3, ts: 1_764_190_000_123, frame: 152, zone: 'hall', since: 1_764_189_998_590, keypoints: [612.5, 201, 0.912, 0, 0, 0] });
    expect(JSON.parse(JSON.stringify(m))).toEqual(m);
    const cross: LineCrossEvent = { type: 'line_cross', id: 1, line: 'door', direction: 'out', ts: 100, frame: 3, keypoints: kp };
    expect(eventMessage(cross, 2)).toMatchObject({ line: 'door', direction: 'out', ts: 100 });
    expect(eventMessage(cross, 2)).not.toHaveProperty('zone');
  });

  it('zone and person_down states', () => {
    expect(zoneMessage({ name: 'hall', occupied: true, count: 1, people: [{ id: 4, dwell_s: 2.5 }] }, 90, 1000)).toEqual({
      occupied: true, count: 1, ids: [4], people: [{ id: 4, dwell_s: 2.5 }], ts: 1000, frame: 90,
    });
    expect(personDownMessage({ down: true, people: [{ id: 4, since: 1000, frame: 60, zone: null }] }, 90, { mediaMs: 3000, ts: 50_000 })).toEqual({
      down: true, count: 1, people: [{ id: 4, since: 48_000, zone: null }], ts: 50_000, frame: 90,
    });
  });
});
