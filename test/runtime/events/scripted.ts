// Scripted keypoint tracks for the event engine tests: COCO-18 skeletons (OpenPose order) built from a few body
// parameters, and a driver that feeds them frame by frame on a fake clock.

import { seededRandom } from '../../../src/runtime/synthetic.js';
import type { PoseEvent } from '../../../src/runtime/events/types.js';
import type { PoseEvents } from '../../../src/runtime/events/engine.js';

export const COCO18 = [
  'nose', 'neck', 'r_shoulder', 'r_elbow', 'r_wrist', 'l_shoulder', 'l_elbow', 'l_wrist', 'r_hip', 'r_knee', 'r_ankle',
  'l_hip', 'l_knee', 'l_ankle', 'r_eye', 'l_eye', 'r_ear', 'l_ear',
];
const K = COCO18.length;
const at = (name: string) => COCO18.indexOf(name);

export interface Body {
  /** Hip midpoint, px. */
  x: number;
  hipY: number;
  /** Torso length (neck to hip midpoint), px. */
  torso: number;
  /** Torso angle from vertical, degrees, leaning towards +x (90 = lying, head to the right). */
  lean?: number;
  /** Legs: standing, sitting (thighs forward), squatting (knees up), or along the torso (lying). */
  legs?: 'stand' | 'sit' | 'squat' | 'straight';
  /** Wrists: hanging, both raised above the head, or the right one raised at an x offset (torso lengths). */
  arms?: 'down' | 'up' | { rightRaisedAt: number };
  /** Parts to leave out (not found by the network). */
  missing?: string[];
}

/** K × 3 keypoints of a person described by `b` (image y down). */
export function skeleton(b: Body): Float32Array {
  const T = b.torso, lean = ((b.lean ?? 0) * Math.PI) / 180;
  const kp = new Float32Array(3 * K);
  // Body frame: u up the torso from the hips, v to the person's left (image +x when facing the camera).
  const put = (name: string, v: number, u: number) => {
    const i = at(name);
    kp[3 * i] = b.x + v * T * Math.cos(lean) + u * T * Math.sin(lean);
    kp[3 * i + 1] = b.hipY - u * T * Math.cos(lean) + v * T * Math.sin(lean);
    kp[3 * i + 2] = 0.8;
  };
  /** Points given directly in image offsets from the hips (legs keep to the floor, not to the torso). */
  const putImage = (name: string, dx: number, dy: number) => {
    const i = at(name);
    kp[3 * i] = b.x + dx * T;
    kp[3 * i + 1] = b.hipY + dy * T;
    kp[3 * i + 2] = 0.8;
  };
  put('neck', 0, 1);
  put('nose', 0, 1.35);
  put('r_eye', -0.08, 1.42);
  put('l_eye', 0.08, 1.42);
  put('r_ear', -0.18, 1.36);
  put('l_ear', 0.18, 1.36);
  put('r_shoulder', -0.35, 1);
  put('l_shoulder', 0.35, 1);
  put('r_hip', -0.2, 0);
  put('l_hip', 0.2, 0);
  const arms = b.arms ?? 'down';
  if (arms === 'up') {
    put('r_elbow', -0.5, 1.35);
    put('l_elbow', 0.5, 1.35);
    put('r_wrist', -0.45, 1.75);
    put('l_wrist', 0.45, 1.75);
  } else {
    put('r_elbow', -0.42, 0.5);
    put('l_elbow', 0.42, 0.5);
    put('r_wrist', -0.42, 0.02);
    put('l_wrist', 0.42, 0.02);
    if (typeof arms === 'object') {
      put('r_elbow', -0.6, 1.05);
      put('r_wrist', arms.rightRaisedAt, 1.5);
    }
  }
  const legs = b.legs ?? (Math.abs(b.lean ?? 0) > 60 ? 'straight' : 'stand');
  if (legs === 'straight') {
    put('r_knee', -0.15, -0.85);
    put('l_knee', 0.15, -0.85);
    put('r_ankle', -0.15, -1.7);
    put('l_ankle', 0.15, -1.7);
  } else if (legs === 'stand') {
    putImage('r_knee', -0.2, 0.85);
    putImage('l_knee', 0.2, 0.85);
    putImage('r_ankle', -0.2, 1.7);
    putImage('l_ankle', 0.2, 1.7);
  } else if (legs === 'sit') {
    putImage('r_knee', 0.6, 0);
    putImage('l_knee', 0.8, 0);
    putImage('r_ankle', 0.6, 0.85);
    putImage('l_ankle', 0.8, 0.85);
  } else {
    putImage('r_knee', 0.3, -0.3);
    putImage('l_knee', 0.5, -0.3);
    putImage('r_ankle', 0.1, 0.45);
    putImage('l_ankle', 0.3, 0.45);
  }
  for (const name of b.missing ?? []) kp.fill(0, 3 * at(name), 3 * at(name) + 3);
  return kp;
}

export const lerp = (a: number, b: number, t: number) => a + (b - a) * Math.min(1, Math.max(0, t));

export interface Shot {
  /** Source time, ms. */
  t: number;
  people: Array<{ id: number; body: Body | null; confirmed?: boolean }>;
}

export interface Recorded {
  events: PoseEvent[];
  /** Source times at which each retained state changed. */
  zoneChanges: Array<{ t: number; zones: string[] }>;
  downChanges: number[];
  /** Every fall phase any person passed through (to show a test reached the stage it means to test). */
  phases: Set<string>;
}

/**
 * Runs `frames` frames at `fps` through the engine; `script(t)` says who is where at source time t (ms).
 * A person with body null is not in that frame (missed by the network).
 */
export interface Noise {
  /** Uniform jitter of every coordinate, ± px. */
  jitterPx: number;
  /** Share of parts the "network" misses in a frame. */
  dropRate: number;
  seed: number;
}

/** A small deterministic generator (the synthetic maps' mulberry32). */
export const seeded = seededRandom;

export function play(engine: PoseEvents, seconds: number, fps: number, script: (tMs: number) => Shot['people'], startMs = 0, noise?: Noise): Recorded {
  const rec: Recorded = { events: [], zoneChanges: [], downChanges: [], phases: new Set() };
  const n = Math.round(seconds * fps);
  const random = seeded(noise?.seed ?? 1);
  const perturb = (kp: Float32Array) => {
    if (!noise) return kp;
    for (let k = 0; k < kp.length; k += 3) {
      if (random() < noise.dropRate) kp.fill(0, k, k + 3);
      else if (kp[k + 2] > 0) {
        kp[k] += (2 * random() - 1) * noise.jitterPx;
        kp[k + 1] += (2 * random() - 1) * noise.jitterPx;
      }
    }
    return kp;
  };
  for (let i = 0; i < n; i++) {
    const t = startMs + (i * 1000) / fps;
    const people = script(t)
      .filter((p) => p.body)
      .map((p) => ({ id: p.id, confirmed: p.confirmed, keypoints: perturb(skeleton(p.body!)) }));
    for (const e of engine.update(people, t, Math.round((t * fps) / 1000))) rec.events.push(e);
    if (engine.changes.zones.length) rec.zoneChanges.push({ t, zones: [...engine.changes.zones] });
    if (engine.changes.personDown) rec.downChanges.push(t);
    for (const p of people) rec.phases.add(engine.fallPhase(p.id) ?? 'none');
  }
  return rec;
}

export const ofType = <T extends PoseEvent['type']>(r: Recorded, type: T) =>
  r.events.filter((e): e is Extract<PoseEvent, { type: T }> => e.type === type);
