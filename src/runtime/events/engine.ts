// The pose event engine: tracked people in, events and retained state out. Pure and synchronous — no clock
// (the caller passes each frame's source time), no I/O — so the same code runs in the agent, in
// `pafcast eval-events` and in tests with scripted tracks.
//
//   const engine = new PoseEvents(config.events, manifest.keypoints, { width, height });
//   for each frame:  for (const e of engine.update(tracked, frame.mediaMs, frame.index)) publish(e);
//                    engine.changes.zones / .personDown → republish zoneState(name) / personDown()
//
// Per person: a zone membership with time hysteresis per zone, a remembered side per line, a fall state machine
// (fall.ts) and gesture detectors (gestures.ts). A person's position is their foot point (ankle midpoint, else
// the hips, else the bottom of the keypoint box). Allocation per frame once warm: none on frames without
// events; a new person costs one record.

import { BodyFrame, bodyParts, type BodyParts } from './body.js';
import { resolveEventsConfig, type EventsConfig, type EventsConfigInput } from './config-schema.js';
import { FallTrack } from './fall.js';
import { GestureTrack } from './gestures.js';
import { compileLine, compileZone, insidePolygon, lineSide, type CompiledLine, type CompiledZone } from './geometry.js';
import type { EventChanges, EventPerson, PersonDownState, PoseEvent, ZoneState } from './types.js';

export type { EventChanges, EventPerson, PersonDownState, PoseEvent, ZoneState } from './types.js';

/** How long a record of someone gone outlives them (beyond what zones and falls still need), ms. */
const RECORD_GRACE_MS = 3000;
/** A new id near where a person who was falling or is down was last seen, within this many torso lengths, is them. */
const HANDOFF_RADIUS = 1.5;
/** Someone else standing upright at a down person's spot (that person no longer seen) for clear_s clears it. */
const SPOT_RADIUS = 1.5;

class PersonRecord {
  lastSeenMs = -Infinity;
  /** The last keypoints seen (copy). */
  readonly keypoints: Float32Array;
  readonly body = new BodyFrame();
  seenNow = false;
  readonly member: Uint8Array;
  readonly loitered: Uint8Array;
  /** Per zone: since when inside (not yet a member) / outside (still a member), and when the visit began. */
  readonly insideSinceMs: Float64Array;
  readonly outsideSinceMs: Float64Array;
  readonly enteredMs: Float64Array;
  readonly side: Int8Array;
  fall = new FallTrack();
  readonly gestures = new GestureTrack();
  /** Someone upright at this person's spot since (down and no longer seen), ms. */
  spotUpSinceMs = NaN;

  constructor(
    readonly id: number,
    k3: number,
    zones: number,
    lines: number,
  ) {
    this.keypoints = new Float32Array(k3);
    this.member = new Uint8Array(zones);
    this.loitered = new Uint8Array(zones);
    this.insideSinceMs = new Float64Array(zones).fill(NaN);
    this.outsideSinceMs = new Float64Array(zones).fill(NaN);
    this.enteredMs = new Float64Array(zones).fill(NaN);
    this.side = new Int8Array(lines);
  }

  get inZoneCount(): number {
    let n = 0;
    for (let i = 0; i < this.member.length; i++) n += this.member[i];
    return n;
  }
}

export interface SourceSize {
  width: number;
  height: number;
}

export class PoseEvents {
  readonly config: EventsConfig;
  private readonly parts: BodyParts;
  private zones: CompiledZone[] = [];
  private lines: CompiledLine[] = [];
  private readonly records = new Map<number, PersonRecord>();
  /** Members per zone, in order of entering. */
  private readonly members: number[][];
  private readonly down: PersonDownState['people'] = [];
  private readonly events: PoseEvent[] = [];
  private readonly changedZones: boolean[];
  private readonly changeList: EventChanges = { zones: [], personDown: false };
  private size: SourceSize = { width: 0, height: 0 };

  /**
   * @param config the `events` config section (partial: defaults are filled in; invalid values throw)
   * @param keypoints the model's keypoint names (manifest.keypoints)
   * @param sourceSize the source frame size the keypoints are in (zones and lines are 0..1 of it)
   */
  constructor(config: EventsConfigInput | EventsConfig, keypoints: readonly string[], sourceSize: SourceSize) {
    this.config = resolveEventsConfig(config as EventsConfigInput);
    this.parts = bodyParts(keypoints);
    this.members = this.config.zones.map(() => []);
    this.changedZones = this.config.zones.map(() => false);
    this.setSourceSize(sourceSize);
  }

  /** The source size changed (a new capture session): zones and lines are recompiled, people kept. */
  setSourceSize(size: SourceSize): void {
    if (!(size.width > 0 && size.height > 0)) throw new Error(`events: bad source size ${size.width}x${size.height}`);
    if (size.width === this.size.width && size.height === this.size.height) return;
    this.size = { width: size.width, height: size.height };
    this.zones = this.config.zones.map((z) => compileZone(z, size.width, size.height));
    this.lines = this.config.lines.map((l) => compileLine(l, size.width, size.height));
  }

  get sourceSize(): Readonly<SourceSize> {
    return this.size;
  }

  /** Which retained states the last update() changed. */
  get changes(): Readonly<EventChanges> {
    return this.changeList;
  }

  /**
   * One processed frame: its confirmed tracked people (ids ≥ 0), its source time (ms, never decreasing) and frame
   * index. Returns the events it raised, in order; the array is reused by the next call.
   */
  update(people: readonly EventPerson[], mediaMs: number, frame: number): readonly PoseEvent[] {
    this.events.length = 0;
    this.changeList.zones.length = 0;
    this.changeList.personDown = false;
    this.changedZones.fill(false);
    if (!this.config.enabled) return this.events;
    const k3 = 3 * this.parts.count;

    for (const r of this.records.values()) r.seenNow = false;
    for (const p of people) {
      if (p.id < 0 || p.confirmed === false) continue;
      if (p.keypoints.length !== k3) throw new Error(`events: a person has ${p.keypoints.length / 3} keypoints, the model ${this.parts.count}`);
      let r = this.records.get(p.id);
      const isNew = !r;
      if (!r) {
        r = new PersonRecord(p.id, k3, this.zones.length, this.lines.length);
        this.records.set(p.id, r);
      }
      r.seenNow = true;
      r.lastSeenMs = mediaMs;
      r.keypoints.set(p.keypoints);
      r.body.measure(r.keypoints, this.parts);
      r.body.atMs = mediaMs;
      if (isNew) this.handOff(r);
      this.observeZones(r, mediaMs, frame);
      this.observeLines(r, mediaMs, frame);
      this.observeFall(r, mediaMs, frame);
      this.observeGestures(r, mediaMs, frame);
    }
    for (const r of this.records.values()) {
      if (r.seenNow) continue;
      this.missZones(r, mediaMs, frame);
      this.missFall(r, mediaMs, frame);
    }
    this.dropGone(mediaMs);
    for (let z = 0; z < this.zones.length; z++) if (this.changedZones[z]) this.changeList.zones.push(this.zones[z].name);
    return this.events;
  }

  /** Occupancy of one zone now (throws for an unknown name). */
  zoneState(name: string, nowMs?: number): ZoneState {
    const z = this.zones.findIndex((c) => c.name === name);
    if (z < 0) throw new Error(`events: no zone "${name}"`);
    const ids = this.members[z];
    return {
      name,
      occupied: ids.length > 0,
      count: ids.length,
      people: ids.map((id) => {
        const r = this.records.get(id)!;
        const t = nowMs ?? r.lastSeenMs;
        return { id, dwell_s: round3((t - r.enteredMs[z]) / 1000) };
      }),
    };
  }

  /** Occupancy of every zone, in config order. */
  zoneStates(nowMs?: number): ZoneState[] {
    return this.zones.map((z) => this.zoneState(z.name, nowMs));
  }

  /** Who is down now. */
  personDown(): PersonDownState {
    return { down: this.down.length > 0, people: this.down.map((d) => ({ ...d })) };
  }

  /** Per-person fall phase, for the live view and diagnostics. */
  fallPhase(id: number): FallTrack['phase'] | null {
    return this.records.get(id)?.fall.phase ?? null;
  }

  /** Forgets everybody (the source restarted from scratch); retained states go empty, reported in `changes`. */
  reset(): void {
    this.events.length = 0;
    this.changeList.zones.length = 0;
    this.members.forEach((m, z) => {
      if (m.length) this.changeList.zones.push(this.zones[z].name);
      m.length = 0;
    });
    this.changeList.personDown = this.down.length > 0;
    this.down.length = 0;
    this.records.clear();
  }

  // --- zones ----------------------------------------------------------------------------------------------

  private observeZones(r: PersonRecord, now: number, frame: number): void {
    const b = r.body;
    for (let z = 0; z < this.zones.length; z++) {
      const inside = insidePolygon(this.zones[z].xy, b.footX, b.footY);
      this.zoneStep(r, z, inside, now, frame);
    }
  }

  private missZones(r: PersonRecord, now: number, frame: number): void {
    for (let z = 0; z < this.zones.length; z++) this.zoneStep(r, z, false, now, frame);
  }

  private zoneStep(r: PersonRecord, z: number, inside: boolean, now: number, frame: number): void {
    const c = this.config;
    if (!r.member[z]) {
      if (!inside) {
        r.insideSinceMs[z] = NaN;
        return;
      }
      if (!(r.insideSinceMs[z] <= now)) r.insideSinceMs[z] = now;
      if (now - r.insideSinceMs[z] < c.zone_enter_s * 1000) return;
      r.member[z] = 1;
      r.loitered[z] = 0;
      r.enteredMs[z] = r.insideSinceMs[z];
      r.outsideSinceMs[z] = NaN;
      this.members[z].push(r.id);
      this.changedZones[z] = true;
      this.events.push({ type: 'zone_enter', id: r.id, zone: this.zones[z].name, ts: now, frame, keypoints: r.keypoints.slice() });
    } else if (inside) {
      r.outsideSinceMs[z] = NaN;
    } else {
      if (!(r.outsideSinceMs[z] <= now)) r.outsideSinceMs[z] = r.seenNow ? now : Math.min(now, r.lastSeenMs);
      if (now - r.outsideSinceMs[z] < c.zone_leave_s * 1000) return;
      this.leaveZone(r, z, now, frame);
      return;
    }
    const loiter = this.zones[z].loiterMs;
    if (loiter > 0 && !r.loitered[z] && now - r.enteredMs[z] >= loiter && r.outsideSinceMs[z] !== r.outsideSinceMs[z]) {
      r.loitered[z] = 1;
      this.events.push({
        type: 'loitering', id: r.id, zone: this.zones[z].name, ts: now, frame, keypoints: r.keypoints.slice(),
        dwell_s: round3((now - r.enteredMs[z]) / 1000),
      });
    }
  }

  private leaveZone(r: PersonRecord, z: number, now: number, frame: number): void {
    r.member[z] = 0;
    r.insideSinceMs[z] = NaN;
    const m = this.members[z];
    m.splice(m.indexOf(r.id), 1);
    this.changedZones[z] = true;
    this.events.push({
      type: 'zone_leave', id: r.id, zone: this.zones[z].name, ts: now, frame, keypoints: r.keypoints.slice(),
      dwell_s: round3((r.outsideSinceMs[z] - r.enteredMs[z]) / 1000),
    });
    r.outsideSinceMs[z] = NaN;
  }

  /** First zone the person is a member of, in config order. */
  private zoneOf(r: PersonRecord): string | null {
    for (let z = 0; z < this.zones.length; z++) if (r.member[z]) return this.zones[z].name;
    return null;
  }

  /**
   * The zone where a person lies, by where they were last seen: a person on the floor is often not
   * detected for a while, so their zone membership may have lapsed although they never left it.
   */
  private zoneAt(r: PersonRecord): string | null {
    const b = r.body;
    for (const z of this.zones)
      if (insidePolygon(z.xy, b.footX, b.footY) || insidePolygon(z.xy, b.hipX, b.hipY) || insidePolygon(z.xy, (b.minX + b.maxX) / 2, (b.minY + b.maxY) / 2))
        return z.name;
    return null;
  }

  private excluded(r: PersonRecord, what: 'excludesPersonDown' | 'excludesHandsUp' | 'excludesWave'): boolean {
    const b = r.body;
    for (const z of this.zones) {
      if (!z[what]) continue;
      if (insidePolygon(z.xy, b.footX, b.footY)) return true;
      // A lying person's ankles are often not found: the hips on the bed count too.
      if (what === 'excludesPersonDown' && insidePolygon(z.xy, b.hipX, b.hipY)) return true;
      if (what === 'excludesPersonDown' && insidePolygon(z.xy, (b.minX + b.maxX) / 2, (b.minY + b.maxY) / 2)) return true;
    }
    return false;
  }

  // --- lines ----------------------------------------------------------------------------------------------

  private observeLines(r: PersonRecord, now: number, frame: number): void {
    const b = r.body;
    for (let i = 0; i < this.lines.length; i++) {
      const l = this.lines[i];
      const s = lineSide(l, b.footX, b.footY);
      if (s === 0) continue; // in the dead band: standing on the line changes nothing
      if (s === 2) {
        r.side[i] = 0; // beside the segment: going round its end is no crossing
        continue;
      }
      const was = r.side[i];
      r.side[i] = s;
      if (was === 0 || was === s) continue;
      this.events.push({
        type: 'line_cross', id: r.id, line: l.name, direction: s === l.inSign ? 'in' : 'out', ts: now, frame, keypoints: r.keypoints.slice(),
      });
    }
  }

  // --- person down ----------------------------------------------------------------------------------------

  private observeFall(r: PersonRecord, now: number, frame: number): void {
    const c = this.config.person_down;
    if (!c.enabled) return;
    this.fallChanged(r, r.fall.observe(r.body, now, c), now, frame);
  }

  private missFall(r: PersonRecord, now: number, frame: number): void {
    const c = this.config.person_down;
    if (!c.enabled) return;
    this.fallChanged(r, r.fall.miss(now, c), now, frame);
    if (r.fall.phase !== 'down') return;
    if (now - r.lastSeenMs >= c.forget_s * 1000) {
      this.clearDown(r);
      r.fall.reset();
      return;
    }
    // Someone standing upright where this person lies, while this person is not found: they got up under a new id.
    const radius = SPOT_RADIUS * (r.fall.scale || 1);
    let upright = false;
    for (const o of this.records.values()) {
      if (!o.seenNow || o.fall.phase !== 'normal') continue;
      const ob = o.body;
      // Standing there: their feet where this person lies (x and y: not merely in line with the spot).
      const dx = ob.footX - r.fall.spotX, dy = ob.footY - r.fall.spotY;
      if (!o.fall.isUpright(ob, c) || !(dx * dx + dy * dy <= radius * radius)) continue;
      upright = true;
      break;
    }
    if (!upright) {
      r.spotUpSinceMs = NaN;
      return;
    }
    if (!(r.spotUpSinceMs <= now)) r.spotUpSinceMs = now;
    if (now - r.spotUpSinceMs >= c.clear_s * 1000) {
      this.clearDown(r);
      r.fall.reset();
    }
  }

  private fallChanged(r: PersonRecord, change: 'fall' | 'cleared' | null, now: number, frame: number): void {
    if (change === 'cleared') {
      this.clearDown(r);
      return;
    }
    if (change !== 'fall') return;
    if (this.excluded(r, 'excludesPersonDown')) return;
    const zone = this.zoneOf(r) ?? this.zoneAt(r);
    this.down.push({ id: r.id, since: r.fall.downSinceMs, frame, zone });
    this.changeList.personDown = true;
    this.events.push({ type: 'fall', id: r.id, zone, since: r.fall.downSinceMs, ts: now, frame, keypoints: r.keypoints.slice() });
  }

  private clearDown(r: PersonRecord): void {
    const i = this.down.findIndex((d) => d.id === r.id);
    if (i < 0) return;
    this.down.splice(i, 1);
    this.changeList.personDown = true;
    r.spotUpSinceMs = NaN;
  }

  /**
   * A person the network lost while falling or lying often comes back under a new id (a fragment, then more).
   * A new id that appears near their spot, not upright, takes their fall state over.
   */
  private handOff(r: PersonRecord): void {
    const c = this.config.person_down;
    if (!c.enabled || r.fall.isUpright(r.body, c)) return;
    const b = r.body;
    const x = b.hipX === b.hipX ? b.hipX : (b.minX + b.maxX) / 2;
    const y = b.hipY === b.hipY ? b.hipY : (b.minY + b.maxY) / 2;
    if (x !== x) return;
    for (const o of this.records.values()) {
      if (o === r || o.seenNow || o.fall.phase === 'normal') continue;
      const radius = HANDOFF_RADIUS * (o.fall.scale || 1);
      const dx = x - o.fall.spotX, dy = y - o.fall.spotY;
      if (!(dx * dx + dy * dy <= radius * radius)) continue;
      const fall = r.fall;
      r.fall = o.fall;
      o.fall = fall;
      fall.reset();
      const d = this.down.find((e) => e.id === o.id);
      if (d) {
        d.id = r.id;
        this.changeList.personDown = true;
      }
      return;
    }
  }

  // --- gestures -------------------------------------------------------------------------------------------

  private observeGestures(r: PersonRecord, now: number, frame: number): void {
    const { hands_up: hands, wave } = this.config;
    if (!hands.enabled && !wave.enabled) return;
    const g = r.gestures.observe(r.keypoints, r.body, this.parts, r.fall, hands, wave);
    if (!g) return;
    if (g === 'hands_up') {
      if (this.excluded(r, 'excludesHandsUp')) return;
      this.events.push({ type: 'hands_up', id: r.id, zone: this.zoneOf(r), ts: now, frame, keypoints: r.keypoints.slice() });
    } else {
      if (this.excluded(r, 'excludesWave')) return;
      const hand = g === 'wave_left' ? 'left' : 'right';
      this.events.push({ type: 'wave', id: r.id, zone: this.zoneOf(r), hand, ts: now, frame, keypoints: r.keypoints.slice() });
    }
  }

  // --- housekeeping ---------------------------------------------------------------------------------------

  private dropGone(now: number): void {
    const c = this.config;
    const keepMs = RECORD_GRACE_MS + 1000 * Math.max(c.zone_leave_s, c.person_down.lie_within_s + c.person_down.confirm_s);
    for (const r of this.records.values()) {
      if (r.seenNow || now - r.lastSeenMs < keepMs || r.inZoneCount > 0) continue;
      if (r.fall.phase === 'down' && this.isDown(r.id)) continue;
      this.records.delete(r.id);
    }
  }

  private isDown(id: number): boolean {
    for (const d of this.down) if (d.id === id) return true;
    return false;
  }
}

const round3 = (v: number) => Math.round(v * 1000) / 1000;
