// What the event engine takes and gives: tracked people in, events and readable state out.

/** A tracked person as the tracker returns it (src/runtime/tracking/pose-tracker.ts TrackedPerson fits). */
export interface EventPerson {
  /** Track id; -1 = not (yet) confirmed: such people are ignored. */
  readonly id: number;
  /** K × (x, y, confidence) in source pixels, the model's part order; 0, 0, 0 = not found. */
  readonly keypoints: Float32Array;
  /** false for a tentative track (ignored); absent = confirmed. */
  readonly confirmed?: boolean;
}

export type PoseEventType = 'zone_enter' | 'zone_leave' | 'loitering' | 'line_cross' | 'fall' | 'hands_up' | 'wave';

interface EventBase {
  /** Track id of the person. */
  id: number;
  /** Source time of the frame that raised it, ms (files: frame index × frame interval). */
  ts: number;
  /** Source frame index of that frame. */
  frame: number;
  /** The person's keypoints at that moment (a copy), K × (x, y, confidence) in source pixels. */
  keypoints: Float32Array;
}

export interface ZoneEnterEvent extends EventBase {
  type: 'zone_enter';
  zone: string;
}

export interface ZoneLeaveEvent extends EventBase {
  type: 'zone_leave';
  zone: string;
  /** Time spent in the zone, s. */
  dwell_s: number;
}

export interface LoiteringEvent extends EventBase {
  type: 'loitering';
  zone: string;
  dwell_s: number;
}

export interface LineCrossEvent extends EventBase {
  type: 'line_cross';
  line: string;
  /** "in": onto the line's configured `in` side; "out": off it. */
  direction: 'in' | 'out';
}

export interface FallEvent extends EventBase {
  type: 'fall';
  /** First configured zone the person is in, or null. */
  zone: string | null;
  /** Source time the person first looked down (lying), ms. */
  since: number;
}

export interface HandsUpEvent extends EventBase {
  type: 'hands_up';
  zone: string | null;
}

export interface WaveEvent extends EventBase {
  type: 'wave';
  zone: string | null;
  /** The waving hand, from the person's point of view (as the model's left/right parts). */
  hand: 'left' | 'right';
}

export type PoseEvent = ZoneEnterEvent | ZoneLeaveEvent | LoiteringEvent | LineCrossEvent | FallEvent | HandsUpEvent | WaveEvent;

/** Occupancy of one zone now (retained `zones/<name>`). */
export interface ZoneState {
  name: string;
  occupied: boolean;
  count: number;
  /** People in the zone, in order of entering, with their dwell so far. */
  people: Array<{ id: number; dwell_s: number }>;
}

/** Who is down now (retained `person_down`). */
export interface PersonDownState {
  down: boolean;
  people: Array<{
    id: number;
    /** Source time the person first looked down, ms. */
    since: number;
    /** Source frame of the `fall` event. */
    frame: number;
    zone: string | null;
  }>;
}

/** Which retained states changed in the last update (publish those). */
export interface EventChanges {
  /** Names of zones whose members changed. */
  zones: string[];
  personDown: boolean;
}
