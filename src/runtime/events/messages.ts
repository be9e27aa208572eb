// JSON-ready messages for the event topics (`events`, `zones/<name>`, `person_down`): plain numbers instead of
// typed arrays, keypoints rounded like `poses`, and times on the same clock as the `poses` message's `ts`.
// The engine works in source time (files: from 0 at the first frame); a message's times are shifted onto the
// caller's clock with the frame that is being published (`clock`: that frame's source time and its `ts`).

import type { PersonDownState, PoseEvent, ZoneState } from './types.js';

/** Maps the engine's source time onto the publishing clock: the current frame's source time and published ts. */
export interface MessageClock {
  mediaMs: number;
  ts: number;
}

export interface EventMessage {
  type: PoseEvent['type'];
  id: number;
  /** Same clock as poses.ts. */
  ts: number;
  /** Source frame index (files: the frame's number in the file). */
  frame: number;
  zone?: string | null;
  line?: string;
  direction?: 'in' | 'out';
  dwell_s?: number;
  /** fall: when the person first looked down, same clock as ts. */
  since?: number;
  hand?: 'left' | 'right';
  /** Flat [x, y, confidence, …] in source pixels, as in poses. */
  keypoints: number[];
}

export interface ZoneMessage {
  occupied: boolean;
  count: number;
  ids: number[];
  people: Array<{ id: number; dwell_s: number }>;
  ts: number;
  frame: number;
}

export interface PersonDownMessage {
  down: boolean;
  count: number;
  people: Array<{ id: number; since: number; zone: string | null }>;
  ts: number;
  frame: number;
}

const round = (v: number, decimals: number) => {
  const f = 10 ** decimals;
  return Math.round(v * f) / f;
};

const onClock = (mediaMs: number, clock?: MessageClock) => Math.round(clock ? clock.ts + (mediaMs - clock.mediaMs) : mediaMs);

export function eventMessage(e: PoseEvent, decimals: number, clock?: MessageClock): EventMessage {
  const keypoints = new Array<number>(e.keypoints.length);
  for (let i = 0; i < keypoints.length; i += 3) {
    keypoints[i] = round(e.keypoints[i], decimals);
    keypoints[i + 1] = round(e.keypoints[i + 1], decimals);
    keypoints[i + 2] = round(e.keypoints[i + 2], 3);
  }
  const m: EventMessage = { type: e.type, id: e.id, ts: onClock(e.ts, clock), frame: e.frame, keypoints };
  switch (e.type) {
    case 'zone_enter':
      m.zone = e.zone;
      break;
    case 'zone_leave':
    case 'loitering':
      m.zone = e.zone;
      m.dwell_s = e.dwell_s;
      break;
    case 'line_cross':
      m.line = e.line;
      m.direction = e.direction;
      break;
    case 'fall':
      m.zone = e.zone;
      m.since = onClock(e.since, clock);
      break;
    case 'hands_up':
      m.zone = e.zone;
      break;
    case 'wave':
      m.zone = e.zone;
      m.hand = e.hand;
      break;
  }
  return m;
}

export function zoneMessage(s: ZoneState, frame: number, ts: number): ZoneMessage {
  return { occupied: s.occupied, count: s.count, ids: s.people.map((p) => p.id), people: s.people, ts, frame };
}

export function personDownMessage(s: PersonDownState, frame: number, clock: MessageClock): PersonDownMessage {
  return {
    down: s.down,
    count: s.people.length,
    people: s.people.map((p) => ({ id: p.id, since: onClock(p.since, clock), zone: p.zone })),
    ts: clock.ts,
    frame,
  };
}
