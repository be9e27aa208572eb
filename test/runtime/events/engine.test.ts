import { describe, expect, it } from 'vitest';
import { bodyParts } from '../../../src/runtime/events/body.js';
import { resolveEventsConfig, type EventsConfigInput } from '../../../src/runtime/events/config-schema.js';
import { PoseEvents } from '../../../src/runtime/events/engine.js';
import { COCO18, lerp, ofType, play, skeleton, type Body } from './scripted.js';

const SIZE = { width: 640, height: 480 };
/** A standing person: hips at y 250, torso 80 px, so the ankles (foot point) are at y 386 (0.80 of the height). */
const T = 80;
const HIP = 250;
const stand = (x: number, extra: Partial<Body> = {}): Body => ({ x, hipY: HIP, torso: T, ...extra });
const engineWith = (config: EventsConfigInput = {}) => new PoseEvents(config, COCO18, SIZE);
const seconds = (ms: number) => ms / 1000;

describe('zones', () => {
  const zone = { name: 'right', polygon: [[0.5, 0], [1, 0], [1, 1], [0.5, 1]] as [number, number][] };

  it('enter, dwell and leave: one event each, occupancy and dwell in the state, changes only at the edges', () => {
    const e = engineWith({ zones: [zone] });
    // Walks from x 100 to 500 in 4 s (crosses x 320 at 2.2 s), stays 3 s, walks back to 100 in 4 s (x 320 at 8.8 s).
    const x = (t: number) => (t < 4000 ? lerp(100, 500, t / 4000) : t < 7000 ? 500 : lerp(500, 100, (t - 7000) / 4000));
    const rec = play(e, 12, 30, (t) => [{ id: 7, body: stand(x(t)) }]);
    const enters = ofType(rec, 'zone_enter'), leaves = ofType(rec, 'zone_leave');
    expect(enters).toHaveLength(1);
    expect(leaves).toHaveLength(1);
    expect(enters[0]).toMatchObject({ id: 7, zone: 'right' });
    expect(seconds(enters[0].ts)).toBeCloseTo(2.2 + 0.3, 1); // zone_enter_s = 0.3
    expect(seconds(leaves[0].ts)).toBeCloseTo(8.8 + 1.0, 1); // zone_leave_s = 1
    expect(leaves[0].dwell_s).toBeCloseTo(8.8 - 2.2, 1);
    expect(enters[0].keypoints).toHaveLength(3 * COCO18.length);
    expect(rec.zoneChanges.map((c) => c.zones)).toEqual([['right'], ['right']]);
    expect(e.zoneState('right').count).toBe(0);
  });

  it('reports occupancy with dwell while someone is inside, and keeps it through a few missed frames', () => {
    const e = engineWith({ zones: [zone] });
    // In the zone from the start; missed by the network from 2.0 to 2.6 s (less than zone_leave_s).
    const rec = play(e, 4, 30, (t) => [{ id: 1, body: t >= 2000 && t < 2600 ? null : stand(500) }]);
    expect(ofType(rec, 'zone_enter')).toHaveLength(1);
    expect(ofType(rec, 'zone_leave')).toHaveLength(0);
    const state = e.zoneState('right', 4000);
    expect(state).toMatchObject({ name: 'right', occupied: true, count: 1 });
    expect(state.people[0].id).toBe(1);
    expect(state.people[0].dwell_s).toBeCloseTo(4, 1);
    // Gone for good: leaves zone_leave_s after it was last seen, with the dwell up to then.
    const gone = play(e, 3, 30, () => [], 4000);
    const leave = ofType(gone, 'zone_leave');
    expect(leave).toHaveLength(1);
    expect(seconds(leave[0].ts)).toBeCloseTo(4 + 1, 1);
    expect(leave[0].dwell_s).toBeCloseTo(4, 1);
  });

  it('counts several people and raises loitering once per visit', () => {
    const e = engineWith({ zones: [{ ...zone, loiter_s: 2 }] });
    const rec = play(e, 6, 30, (t) => [
      { id: 1, body: stand(400) },
      { id: 2, body: t > 1000 ? stand(550) : stand(100) },
    ]);
    const loiter = ofType(rec, 'loitering');
    expect(loiter.map((l) => l.id)).toEqual([1, 2]);
    expect(seconds(loiter[0].ts)).toBeCloseTo(2, 1);
    expect(loiter[1].dwell_s).toBeCloseTo(2, 1);
    expect(e.zoneState('right')).toMatchObject({ count: 2, occupied: true });
    expect(e.zoneState('right').people.map((p) => p.id)).toEqual([1, 2]);
  });

  it('a foot jittering over the edge for less than zone_enter_s never enters', () => {
    const e = engineWith({ zones: [zone] });
    // Every 0.5 s the foot is over the edge for 0.2 s.
    const rec = play(e, 5, 30, (t) => [{ id: 1, body: stand(t % 500 < 200 ? 330 : 300) }]);
    expect(rec.events).toHaveLength(0);
  });

  it('ignores people who are not confirmed', () => {
    const e = engineWith({ zones: [zone] });
    const rec = play(e, 3, 30, () => [
      { id: -1, body: stand(500) },
      { id: 4, body: stand(500), confirmed: false },
    ]);
    expect(rec.events).toHaveLength(0);
    expect(e.zoneState('right').count).toBe(0);
  });
});

describe('lines', () => {
  const line = { name: 'door', a: [0.5, 0.1] as [number, number], b: [0.5, 0.95] as [number, number], in: 'right' as const };

  it('counts a crossing each way with its direction', () => {
    const e = engineWith({ lines: [line] });
    const x = (t: number) => (t < 3000 ? lerp(150, 500, t / 3000) : lerp(500, 150, (t - 3000) / 3000));
    const rec = play(e, 6, 30, (t) => [{ id: 3, body: stand(x(t)) }]);
    const crossings = ofType(rec, 'line_cross');
    expect(crossings.map((c) => [c.line, c.direction])).toEqual([['door', 'in'], ['door', 'out']]);
    expect(seconds(crossings[0].ts)).toBeGreaterThan(1.4);
    expect(seconds(crossings[0].ts)).toBeLessThan(1.9);
  });

  it('a person standing on the line, jittering, crosses once', () => {
    const e = engineWith({ lines: [line] });
    // Walk up to the line, stand on it for 3 s with the foot jittering ±8 px (band: 0.03 × 480 = 14 px), go on.
    const x = (t: number) => (t < 2000 ? lerp(150, 320, t / 2000) : t < 5000 ? 320 + 8 * Math.sin(t / 37) : lerp(320, 500, (t - 5000) / 1500));
    const rec = play(e, 7, 30, (t) => [{ id: 3, body: stand(x(t)) }]);
    expect(ofType(rec, 'line_cross').map((c) => c.direction)).toEqual(['in']);
  });

  it('stepping onto the line and back is no crossing; going round the end of a segment is none either', () => {
    const back = play(engineWith({ lines: [line] }), 4, 30, (t) => [{ id: 3, body: stand(t < 2000 ? lerp(200, 318, t / 2000) : lerp(318, 200, (t - 2000) / 2000)) }]);
    expect(ofType(back, 'line_cross')).toEqual([]);
    // `short` ends at y 240 (+ band); the foot (y 386) passes below its end from x 400 to 620.
    const short = { name: 'short', a: [0.75, 0.05] as [number, number], b: [0.75, 0.5] as [number, number], in: 'left' as const };
    const round = play(engineWith({ lines: [short] }), 2, 30, (t) => [{ id: 3, body: stand(lerp(400, 620, t / 2000)) }]);
    expect(ofType(round, 'line_cross')).toEqual([]);
    // The same walk higher up, through the segment, crosses it.
    const through = play(engineWith({ lines: [short] }), 2, 30, (t) => [{ id: 3, body: { x: lerp(400, 620, t / 2000), hipY: 60, torso: T } }]);
    expect(ofType(through, 'line_cross').map((c) => c.direction)).toEqual(['out']);
  });

  it('above/below sides on a horizontal line', () => {
    const e = engineWith({ lines: [{ name: 'hall', a: [0, 0.7], b: [1, 0.7], in: 'below' }] });
    // Foot at y hip + 136: from 0.6 (288) to 0.9 (432) of the height.
    const rec = play(e, 3, 30, (t) => [{ id: 1, body: { x: 300, hipY: lerp(152, 296, t / 3000), torso: T } }]);
    expect(ofType(rec, 'line_cross').map((c) => c.direction)).toEqual(['in']);
  });
});

describe('hands up and wave', () => {
  it('hands up: one event per raise after hold_s, armed again after the hands were down', () => {
    const e = engineWith();
    const up = (t: number) => (t >= 1000 && t < 3000) || (t >= 5000 && t < 6000) || (t >= 7000 && t < 7300);
    const rec = play(e, 8, 30, (t) => [{ id: 2, body: stand(300, { arms: up(t) ? 'up' : 'down' }) }]);
    const events = ofType(rec, 'hands_up');
    expect(events.map((h) => Math.round(seconds(h.ts) * 10) / 10)).toEqual([1.5, 5.5]); // the 0.3 s raise at 7 s is too short
    expect(events[0].zone).toBeNull();
  });

  it('a lying person raises no gesture', () => {
    const rec = play(engineWith({ person_down: { enabled: false } }), 3, 30, () => [{ id: 2, body: { x: 300, hipY: 400, torso: T, lean: 90, arms: 'up' } }]);
    expect(rec.events).toEqual([]);
  });

  it('hands up survives a wrist the network misses now and then', () => {
    const e = engineWith();
    const rec = play(e, 2, 30, (t) => [{ id: 2, body: stand(300, { arms: 'up', missing: Math.floor(t / 33) % 4 === 0 ? ['l_wrist'] : [] }) }]);
    expect(ofType(rec, 'hands_up')).toHaveLength(1);
  });

  it('wave: a raised wrist swinging side to side, once per cooldown; a still raised hand or a walking person does not wave', () => {
    const e = engineWith();
    // 2 s of waving at 1.5 Hz, ±0.45 torso lengths around 0.4 to the person's right.
    const rec = play(e, 2, 30, (t) => [{ id: 5, body: stand(300, { arms: { rightRaisedAt: -0.4 + 0.45 * Math.sin((2 * Math.PI * 1.5 * t) / 1000) } }) }]);
    const waves = ofType(rec, 'wave');
    expect(waves).toHaveLength(1);
    expect(waves[0]).toMatchObject({ id: 5, hand: 'right' });
    expect(seconds(waves[0].ts)).toBeLessThan(1.5);
    const still = play(engineWith(), 3, 30, () => [{ id: 5, body: stand(300, { arms: { rightRaisedAt: -0.5 } }) }]);
    const walking = play(engineWith(), 3, 30, (t) => [{ id: 5, body: stand(lerp(100, 500, t / 3000), { arms: { rightRaisedAt: -0.5 } }) }]);
    expect(ofType(still, 'wave')).toHaveLength(0);
    expect(ofType(walking, 'wave')).toHaveLength(0);
    // Hands on the hips swinging while walking (wrists below the shoulders) are no wave either.
    const swinging = play(engineWith(), 3, 30, (t) => [{ id: 5, body: stand(300 + 30 * Math.sin(t / 100)) }]);
    expect(swinging.events).toHaveLength(0);
  });

  it('waving for 5 s raises a second wave only after the cooldown', () => {
    const rec = play(engineWith(), 5, 30, (t) => [{ id: 5, body: stand(300, { arms: { rightRaisedAt: -0.4 + 0.45 * Math.sin((2 * Math.PI * 1.5 * t) / 1000) } }) }]);
    const times = ofType(rec, 'wave').map((w) => seconds(w.ts));
    expect(times).toHaveLength(2);
    expect(times[1] - times[0]).toBeGreaterThanOrEqual(3);
  });
});

/** Standing until `at` s, then a fall of `dur` s: hips drop by `drop` torso lengths while the torso turns to `lean`. */
function fallScript(at: number, dur: number, drop: number, lean: number, x = 320) {
  return (t: number): Body => {
    const k = (t / 1000 - at) / dur;
    if (k <= 0) return stand(x);
    return { x, hipY: lerp(HIP, HIP + drop * T, k), torso: T, lean: lerp(0, lean, k), legs: k >= 1 ? 'straight' : 'stand' };
  };
}

describe('person down', () => {
  it('a fall: one `fall` after confirm_s, person_down set with id and since; cleared once the person stood up', () => {
    const e = engineWith({ zones: [{ name: 'room', polygon: [[0, 0], [1, 0], [1, 1], [0, 1]] }] });
    const fall = fallScript(2, 0.6, 1.55, 90);
    // Lies until 7 s, gets up in 1 s, stands.
    const body = (t: number): Body =>
      t < 7000 ? fall(t) : { x: 320, hipY: lerp(HIP + 1.55 * T, HIP, (t - 7000) / 1000), torso: T, lean: lerp(90, 0, (t - 7000) / 1000), legs: 'stand' };
    const rec = play(e, 10, 30, (t) => [{ id: 9, body: body(t) }]);
    const falls = ofType(rec, 'fall');
    expect(falls).toHaveLength(1);
    expect(falls[0]).toMatchObject({ id: 9, zone: 'room' });
    // First looks lying when the torso passes 60° (2.4 s); fall confirm_s (1.5 s) later.
    expect(seconds(falls[0].since)).toBeCloseTo(2.4, 1);
    expect(seconds(falls[0].ts)).toBeCloseTo(3.9, 1);
    expect(rec.downChanges.map(seconds).map((s) => Math.round(s))).toEqual([4, 9]); // set at 3.9 s, cleared ~1 s after standing
    expect(e.personDown()).toEqual({ down: false, people: [] });
  });

  it('person_down holds the id, zone and since while the person lies', () => {
    const e = engineWith({ zones: [{ name: 'hall', polygon: [[0, 0.5], [1, 0.5], [1, 1], [0, 1]] }] });
    play(e, 6, 30, (t) => [{ id: 9, body: fallScript(2, 0.6, 1.55, 90)(t) }]);
    const state = e.personDown();
    expect(state.down).toBe(true);
    expect(state.people).toHaveLength(1);
    expect(state.people[0]).toMatchObject({ id: 9, zone: 'hall' });
    expect(seconds(state.people[0].since)).toBeCloseTo(2.4, 1);
  });

  it('a fall the network loses while the person tips over (seen leaning ≥ 45°, then nothing) is still a fall', () => {
    const e = engineWith();
    // Hips drop 1.2 torso lengths in 0.45 s while leaning to 55°; from then on no detection at all.
    const rec = play(e, 6, 30, (t) => [{ id: 4, body: t >= 2450 ? null : fallScript(2, 0.45, 1.2, 55)(t) }]);
    const falls = ofType(rec, 'fall');
    expect(falls).toHaveLength(1);
    expect(falls[0].id).toBe(4);
    expect(seconds(falls[0].since)).toBeCloseTo(2.43, 1);
    expect(e.personDown().people.map((p) => p.id)).toEqual([4]);
  });

  it('a person lost after a fall and found again under a new id keeps one person_down entry, moved to the new id', () => {
    const e = engineWith();
    const lying = fallScript(2, 0.6, 1.55, 90);
    // Lost from 3 s to 4.5 s, then found again as id 12 at the same spot, then stands up.
    const rec = play(e, 9, 30, (t) => {
      if (t < 3000) return [{ id: 4, body: lying(t) }];
      if (t < 4500) return [];
      if (t < 6000) return [{ id: 12, body: lying(t) }];
      return [{ id: 12, body: { x: 320, hipY: lerp(HIP + 1.55 * T, HIP, (t - 6000) / 800), torso: T, lean: lerp(90, 0, (t - 6000) / 800), legs: 'stand' } }];
    });
    expect(ofType(rec, 'fall').map((f) => f.id)).toEqual([4]);
    expect(rec.downChanges.length).toBe(3); // set, moved to id 12, cleared
    expect(e.personDown().down).toBe(false);
  });

  it('someone standing up at the spot under a new id clears person_down; nobody at all clears it after forget_s', () => {
    const e = engineWith({ person_down: { forget_s: 5 } });
    const lying = fallScript(2, 0.6, 1.55, 90);
    // Down (fall at ~3.9 s), lost at 4.5 s; at 6 s id 20 stands right there.
    play(e, 8, 30, (t) => (t < 4500 ? [{ id: 4, body: lying(t) }] : t < 6000 ? [] : [{ id: 20, body: stand(320) }]));
    expect(e.personDown().down).toBe(false);
    // Someone upright in line with the spot but further back in the room (feet 186 px higher) clears nothing.
    const behind = engineWith({ person_down: { forget_s: 5 } });
    play(behind, 8, 30, (t) => (t < 4500 ? [{ id: 4, body: lying(t) }] : t < 6000 ? [] : [{ id: 20, body: { ...stand(320), hipY: HIP - 186 } }]));
    expect(behind.personDown().down).toBe(true);
    const alone = engineWith({ person_down: { forget_s: 5 } });
    play(alone, 9, 30, (t) => (t < 4500 ? [{ id: 4, body: lying(t) }] : []));
    expect(alone.personDown().down).toBe(true); // 4.5 s without anyone
    play(alone, 2, 30, () => [], 9000);
    expect(alone.personDown().down).toBe(false); // forget_s after it was last seen
  });

  it('sitting down, even hard, is no fall', () => {
    // Onto a chair in 0.6 s: hips down 0.75 torso lengths, torso upright.
    const chair = (t: number): Body => (t < 2000 ? stand(320) : { x: 320, hipY: lerp(HIP, HIP + 0.75 * T, (t - 2000) / 600), torso: T, legs: 'sit' });
    // Dropping onto it in 0.35 s (1.1 torso lengths: past descent_min), then leaning forward 40° to tie a shoe.
    const hard = (t: number): Body =>
      t < 2000 ? stand(320) : { x: 320, hipY: lerp(HIP, HIP + 1.1 * T, (t - 2000) / 350), torso: T, legs: 'sit', lean: t > 2600 ? 40 : 0 };
    for (const [body, descends] of [[chair, false], [hard, true]] as const) {
      const e = engineWith();
      const rec = play(e, 8, 30, (t) => [{ id: 1, body: body(t) }]);
      expect(ofType(rec, 'fall')).toHaveLength(0);
      expect(e.personDown().down).toBe(false);
      // The hard one passes the descent gate: what stops it is that nobody lies afterwards.
      expect(rec.phases.has('falling')).toBe(descends);
    }
  });

  it('a fast squat is no fall, also when the network loses the squatting person', () => {
    // Hips down 1.2 torso lengths in 0.5 s, torso leaning 35° (adl-01 leans 27–40°).
    const squat = (t: number): Body => (t < 2000 ? stand(320) : { x: 320, hipY: lerp(HIP, HIP + 1.2 * T, (t - 2000) / 500), torso: T, lean: lerp(0, 35, (t - 2000) / 500), legs: 'squat' });
    for (const lose of [false, true]) {
      const rec = play(engineWith(), 7, 30, (t) => [{ id: 1, body: lose && t > 2600 ? null : squat(t) }]);
      expect(ofType(rec, 'fall')).toHaveLength(0);
      expect(rec.phases.has('falling')).toBe(true);
    }
  });

  it('lying down slowly (sit on the floor in 2 s, lie back in 2 s) is no fall', () => {
    const body = (t: number): Body => {
      const s = t / 1000;
      if (s < 2) return stand(320);
      if (s < 5) return { x: 320, hipY: lerp(HIP, HIP + 1.5 * T, (s - 2) / 2), torso: T, legs: 'sit' };
      return { x: 320, hipY: HIP + 1.5 * T, torso: T, lean: lerp(0, -90, (s - 5) / 2), legs: s > 7 ? 'straight' : 'sit' };
    };
    const e = engineWith();
    const rec = play(e, 12, 30, (t) => [{ id: 1, body: body(t) }]);
    expect(ofType(rec, 'fall')).toHaveLength(0);
    expect(e.personDown().down).toBe(false);
    expect(rec.phases).toEqual(new Set(['normal'])); // too slow to ever count as a descent
  });

  it('a fall inside a zone excluded from person_down raises nothing; the same fall elsewhere does', () => {
    const bed = { name: 'bed', polygon: [[0.55, 0.6], [0.95, 0.6], [0.95, 1], [0.55, 1]] as [number, number][], exclude_from: ['person_down' as const] };
    const inBed = engineWith({ zones: [bed] });
    const rec = play(inBed, 7, 30, (t) => [{ id: 1, body: fallScript(2, 0.6, 1.55, 90, 500)(t) }]);
    expect(ofType(rec, 'fall')).toHaveLength(0);
    expect(rec.phases.has('down')).toBe(true); // detected as a fall, and suppressed by the zone
    expect(rec.downChanges).toEqual([]);
    expect(inBed.personDown().down).toBe(false);
    // Same fall left of the bed zone (ankles, hips and box centre all outside it).
    const beside = play(engineWith({ zones: [bed] }), 7, 30, (t) => [{ id: 1, body: fallScript(2, 0.6, 1.55, -90, 150)(t) }]);
    expect(ofType(beside, 'fall')).toHaveLength(1);
  });

  it('works at 5 processed frames per second (realtime mode on a slow board)', () => {
    const rec = play(engineWith(), 7, 5, (t) => [{ id: 1, body: fallScript(2, 0.6, 1.55, 90)(t) }]);
    expect(ofType(rec, 'fall')).toHaveLength(1);
    const squat = play(engineWith(), 7, 5, (t) => [{ id: 1, body: t < 2000 ? stand(320) : { x: 320, hipY: HIP + 1.2 * T, torso: T, lean: 35, legs: 'squat' } }]);
    expect(ofType(squat, 'fall')).toHaveLength(0);
  });

  it('holds up under keypoint noise: ±4 px jitter and 15 % of parts missed per frame', () => {
    const noise = (seed: number) => ({ jitterPx: 4, dropRate: 0.15, seed });
    for (const seed of [1, 2, 3, 4, 5]) {
      const fall = play(engineWith(), 7, 30, (t) => [{ id: 1, body: fallScript(2, 0.6, 1.55, 90)(t) }], 0, noise(seed));
      expect(ofType(fall, 'fall'), `seed ${seed}`).toHaveLength(1);
      const squat = (t: number): Body => (t < 2000 ? stand(320) : { x: 320, hipY: lerp(HIP, HIP + 1.2 * T, (t - 2000) / 500), torso: T, lean: lerp(0, 35, (t - 2000) / 500), legs: 'squat' });
      expect(ofType(play(engineWith(), 7, 30, (t) => [{ id: 1, body: squat(t) }], 0, noise(seed)), 'fall'), `seed ${seed}`).toHaveLength(0);
      expect(play(engineWith(), 7, 30, () => [{ id: 1, body: stand(320) }], 0, noise(seed)).events, `seed ${seed}`).toEqual([]);
    }
  });

  it('can be switched off', () => {
    const rec = play(engineWith({ person_down: { enabled: false } }), 7, 30, (t) => [{ id: 1, body: fallScript(2, 0.6, 1.55, 90)(t) }]);
    expect(rec.events).toHaveLength(0);
  });
});

describe('engine', () => {
  it('events carry a copy of the keypoints, the frame and the source time', () => {
    const e = engineWith({ zones: [{ name: 'all', polygon: [[0, 0], [1, 0], [1, 1], [0, 1]], loiter_s: 0 }], zone_enter_s: 0 });
    const kp = skeleton(stand(300));
    const [event] = e.update([{ id: 1, keypoints: kp }], 1234, 37);
    expect(event).toMatchObject({ type: 'zone_enter', id: 1, zone: 'all', ts: 1234, frame: 37 });
    kp[0] = -1;
    expect(event.keypoints[0]).not.toBe(-1);
  });

  it('finds the body parts by name in other layouts (trt_pose, BODY_25) and refuses a layout without hips', () => {
    const trt = ['nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear', 'left_shoulder', 'right_shoulder', 'left_elbow', 'right_elbow',
      'left_wrist', 'right_wrist', 'left_hip', 'right_hip', 'left_knee', 'right_knee', 'left_ankle', 'right_ankle', 'neck'];
    const p = bodyParts(trt);
    expect(p.shoulder).toEqual([6, 5]);
    expect(p.wrist).toEqual([10, 9]);
    expect(p.neck).toBe(17);
    expect(bodyParts(['nose', 'neck', 'r_shoulder', 'l_shoulder', 'mid_hip', 'r_hip', 'l_hip']).midHip).toBe(4);
    expect(() => bodyParts(['nose', 'neck', 'r_shoulder'])).toThrow(/no hip/);
  });

  it('rejects bad config with a message that names the key', () => {
    const square = [[0, 0], [1, 0], [1, 1], [0, 1]] as [number, number][];
    expect(() => resolveEventsConfig({ zones: [{ name: 'a', polygon: square }, { name: 'a', polygon: square }] })).toThrow('/zones/1/name: zone "a" is defined twice');
    expect(() => resolveEventsConfig({ zones: [{ name: 'a/b', polygon: square }] })).toThrow('/zones/0/name');
    expect(() => resolveEventsConfig({ zones: [{ name: 'a', polygon: [[0, 0], [1.2, 0], [1, 1]] }] })).toThrow('/zones/0/polygon/1/0');
    expect(() => resolveEventsConfig({ zones: [{ name: 'flat', polygon: [[0, 0], [0.5, 0.5], [1, 1]] }] })).toThrow('has no area');
    expect(() => resolveEventsConfig({ lines: [{ name: 'h', a: [0, 0.5], b: [1, 0.5], in: 'left' }] })).toThrow('sides are "above" and "below"');
    expect(() => resolveEventsConfig({ person_down: { confirm_s: -1 } })).toThrow('/person_down/confirm_s');
    expect(() => new PoseEvents({}, COCO18, { width: 0, height: 10 })).toThrow('bad source size');
  });

  it('follows a new source size: zones are 0..1 of the delivered source', () => {
    const e = engineWith({ zones: [{ name: 'left', polygon: [[0, 0], [0.5, 0], [0.5, 1], [0, 1]] }], zone_enter_s: 0 });
    expect(e.update([{ id: 1, keypoints: skeleton(stand(400)) }], 0, 0)).toHaveLength(0); // x 400 of 640: right half
    e.setSourceSize({ width: 1280, height: 960 });
    expect(e.update([{ id: 1, keypoints: skeleton(stand(400)) }], 33, 1).map((ev) => ev.type)).toEqual(['zone_enter']);
  });

  it('reset forgets everyone and reports the retained states that went empty', () => {
    const e = engineWith({ zones: [{ name: 'all', polygon: [[0, 0], [1, 0], [1, 1], [0, 1]] }] });
    play(e, 1, 30, () => [{ id: 1, body: stand(300) }]);
    expect(e.zoneState('all').count).toBe(1);
    e.reset();
    expect(e.changes.zones).toEqual(['all']);
    expect(e.zoneState('all').count).toBe(0);
  });
});
