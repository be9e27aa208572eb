// Config section `events`: zones, lines, person down / fall, hands up and wave, derived on the device from
// tracked keypoints (src/runtime/events/engine.ts). Owned by the runtime; the agent's config schema composes it.
//
// Units: times in seconds of source time, coordinates in 0..1 of the delivered source (after `source.crop`),
// body-relative lengths in torso lengths (neck to hip midpoint, measured while the person stood upright).
// The measurements quoted below are from `pafcast eval-events` and the keypoint dumps it is built on, on the
// UR Fall clips in ../shared/media/falls (lightweight-openpose-coco18, net height 256, every frame, 30 fps);
// docs/events.md has the tables.

import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

/** A point in 0..1 source coordinates: [x, y], x to the right, y down. */
export const NormalisedPointSchema = Type.Tuple(
  [Type.Number({ minimum: 0, maximum: 1 }), Type.Number({ minimum: 0, maximum: 1 })],
  { description: '[x, y] in 0..1 of the source width and height (y down).' },
);

/** Names become MQTT topic levels (`zones/<name>`) and Home Assistant ids: no `/`, `+`, `#`, spaces. */
const NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_-]{0,47}$';

/** What a zone can be excluded from: its area never raises these (a bed for person_down, a TV for gestures). */
export const ExcludableSchema = Type.Union([Type.Literal('person_down'), Type.Literal('hands_up'), Type.Literal('wave')]);

export const ZoneConfigSchema = Type.Object(
  {
    name: Type.String({ pattern: NAME_PATTERN, description: 'Zone name (letters, digits, _ and -; also the MQTT topic level).' }),
    polygon: Type.Array(NormalisedPointSchema, {
      minItems: 3,
      maxItems: 64,
      description: 'Corners in order, in 0..1 source coordinates; a person is inside when their foot point is.',
    }),
    loiter_s: Type.Number({
      minimum: 0,
      maximum: 86_400,
      default: 0,
      description: 'Raise one `loitering` event when a person has stayed this long in the zone; 0 = never.',
    }),
    exclude_from: Type.Array(ExcludableSchema, {
      default: [],
      uniqueItems: true,
      description: 'Detectors that ignore people in this zone, e.g. ["person_down"] for a bed or a sofa.',
    }),
  },
  { additionalProperties: false },
);

export const LineConfigSchema = Type.Object(
  {
    name: Type.String({ pattern: NAME_PATTERN, description: 'Line name (letters, digits, _ and -).' }),
    a: NormalisedPointSchema,
    b: NormalisedPointSchema,
    in: Type.Union([Type.Literal('left'), Type.Literal('right'), Type.Literal('above'), Type.Literal('below')], {
      description:
        'The side that is "in", as seen in the image: left/right for a line that is not horizontal, above/below for one ' +
        'that is not vertical. Crossing onto this side is direction "in", off it "out".',
    }),
    // The foot point of a person standing or sitting still wanders over 3–10 px of a 240 px frame (UR Fall clips,
    // net heights 160–368; frame to frame p95 ≤ 4.4 px): a band of ±0.03 (±7 px there) holds it.
    hysteresis: Type.Number({
      minimum: 0,
      maximum: 0.5,
      default: 0.03,
      description:
        'Half-width of the dead band around the line, as a share of the source height: a foot point inside it changes ' +
        'no side, so a person standing on the line crosses once, not on every jitter.',
    }),
  },
  { additionalProperties: false },
);

export const PersonDownConfigSchema = Type.Object(
  {
    enabled: Type.Boolean({ default: true, description: 'Detect falls and keep the retained person_down state.' }),
    // Largest hip drop within 0.5 s, in upright torso lengths, at net heights 160 / 256 / 368: falls 1.75 / 1.72 / 1.72
    // (fall-01, from walking) and 1.24 / 1.30 / 1.28 (fall-12, off a chair); squatting 0.91 / 0.73 / 0.76 (adl-01),
    // sitting down on a bed 0.73 / 0.78 / 0.74 (adl-11). The descent is a gate, not the classifier: 0.85 lets every
    // fall through (the smallest, 1.24, is 46 % above it; a chair fall has only ~1 torso length to drop), and the
    // ADLs it also lets through are stopped by what follows (lying_torso_deg, wide_ratio). Any value in 0.4–1.2
    // gives the same result on the four clips; 0.3 lets a hip jump while lying down on the bed start a fall. A 0.5 s
    // window still holds 2–3 processed frames at 5 fps.
    descent_window_s: Type.Number({
      minimum: 0.1,
      maximum: 3,
      default: 0.5,
      description: 'Time window in which the body centre (hip midpoint) must drop by descent_min.',
    }),
    descent_min: Type.Number({
      minimum: 0.1,
      maximum: 10,
      default: 0.85,
      description: 'Drop of the hip midpoint within descent_window_s, in torso lengths, that starts a possible fall.',
    }),
    // Largest torso angle in the second after the largest descent, net heights 160 / 256 / 368: falls 70 / 74 / 75°
    // (fall-01) and 92 / 98 / 102° (fall-12); squat 39 / 43 / 37°, sitting on the bed 43 / 40 / 38°. OpenDR's rule
    // calls a torso within 45° of vertical upright; Chen et al. call a body line under 45° to the ground fallen.
    lying_torso_deg: Type.Number({
      minimum: 30,
      maximum: 90,
      default: 60,
      description: 'A torso at least this far from vertical (degrees) counts as lying.',
    }),
    upright_torso_deg: Type.Number({
      minimum: 5,
      maximum: 60,
      default: 30,
      description: 'A torso within this angle of vertical (and not foreshortened) counts as upright.',
    }),
    // Chen et al. (Symmetry 2020) use a box wider than tall (ratio > 1) as one of three fall conditions. Largest
    // keypoint-box width/height in the second after the descent: falls 1.65–3.47, squat and sitting 0.68–0.75.
    wide_ratio: Type.Number({
      minimum: 0.5,
      maximum: 5,
      default: 1,
      description: 'A keypoint box at least this many times wider than tall (with enough parts) counts as lying.',
    }),
    lie_within_s: Type.Number({
      minimum: 0.1,
      maximum: 5,
      default: 1,
      description: 'After the descent, the person must look lying (or vanish while tipping over) within this time.',
    }),
    // Median delay on the four clips is about confirm_s + 0.1 s (the first lying frame comes near down_s); the goal
    // is ≤ 2 s. 1.5 s leaves a stumble-and-get-up without an alarm.
    confirm_s: Type.Number({
      minimum: 0,
      maximum: 120,
      default: 1.5,
      description: 'The person must stay down this long after first looking lying before `fall` is raised.',
    }),
    rise_min: Type.Number({
      minimum: 0.1,
      maximum: 5,
      default: 0.5,
      description: 'Upright again means an upright torso with the hips risen this many torso lengths above their lowest point.',
    }),
    clear_s: Type.Number({
      minimum: 0,
      maximum: 60,
      default: 1,
      description: 'A person who is down must be upright again this long before person_down clears.',
    }),
    forget_s: Type.Number({
      minimum: 1,
      maximum: 86_400,
      default: 600,
      description:
        'A person who is down and then not seen at all (the network loses lying people) stays in person_down this long, ' +
        'unless someone stands up at that spot first.',
    }),
  },
  { additionalProperties: false, default: {} },
);

export const HandsUpConfigSchema = Type.Object(
  {
    enabled: Type.Boolean({ default: true, description: 'Raise `hands_up` when both wrists are held above the shoulders.' }),
    hold_s: Type.Number({ minimum: 0, maximum: 30, default: 0.5, description: 'Both wrists above the shoulders for this long.' }),
    // ../shared/media/images/handsup1.jpg: the person with both hands up has the wrists 0.60 and 1.02 torso lengths
    // above the shoulders, the one beside with the arms down -1.0; 0.15 keeps hands resting on the shoulders (~0) out.
    // No hands_up or wave in the 1,080 frames of the UR Fall clips (walking, squatting, sitting, falling).
    margin: Type.Number({
      minimum: 0,
      maximum: 2,
      default: 0.15,
      description: 'How far above its shoulder each wrist must be, in torso lengths (filters hands resting on the shoulders).',
    }),
    rearm_s: Type.Number({
      minimum: 0,
      maximum: 60,
      default: 1,
      description: 'The hands must be down this long before the same person can raise `hands_up` again.',
    }),
  },
  { additionalProperties: false, default: {} },
);

export const WaveConfigSchema = Type.Object(
  {
    enabled: Type.Boolean({ default: true, description: 'Raise `wave` when a raised wrist swings side to side.' }),
    window_s: Type.Number({ minimum: 0.3, maximum: 10, default: 1.5, description: 'The swings must happen within this time.' }),
    min_swings: Type.Integer({
      minimum: 1,
      maximum: 10,
      default: 2,
      description: 'Changes of direction of the wrist (each after a move of min_amplitude) that make a wave.',
    }),
    min_amplitude: Type.Number({
      minimum: 0.05,
      maximum: 5,
      default: 0.3,
      description: 'Sideways move of the wrist between turns, in torso lengths (a real wave moves the hand 20–30 cm).',
    }),
    cooldown_s: Type.Number({ minimum: 0, maximum: 600, default: 3, description: 'No second `wave` from the same person for this long.' }),
  },
  { additionalProperties: false, default: {} },
);

export const EventsConfigSchema = Type.Object(
  {
    enabled: Type.Boolean({ default: true, description: 'Derive events (zones, lines, falls, gestures) from the tracked people.' }),
    zones: Type.Array(ZoneConfigSchema, { default: [], maxItems: 32, description: 'Areas with occupancy, enter/leave and dwell.' }),
    lines: Type.Array(LineConfigSchema, { default: [], maxItems: 32, description: 'Lines whose crossings are counted with direction.' }),
    zone_enter_s: Type.Number({
      minimum: 0,
      maximum: 60,
      default: 0.3,
      description: 'A person is in a zone once their foot point has been inside this long (a foot jittering over the edge does not enter).',
    }),
    zone_leave_s: Type.Number({
      minimum: 0,
      maximum: 600,
      default: 1,
      description: 'A person leaves a zone once outside (or not seen) this long, so occupancy does not drop out on a missed frame.',
    }),
    person_down: PersonDownConfigSchema,
    hands_up: HandsUpConfigSchema,
    wave: WaveConfigSchema,
  },
  { additionalProperties: false, default: {} },
);

export type EventsConfig = Static<typeof EventsConfigSchema>;
export type ZoneConfig = Static<typeof ZoneConfigSchema>;
export type LineConfig = Static<typeof LineConfigSchema>;
export type PersonDownConfig = Static<typeof PersonDownConfigSchema>;
export type HandsUpConfig = Static<typeof HandsUpConfigSchema>;
export type WaveConfig = Static<typeof WaveConfigSchema>;

/** What resolveEventsConfig accepts: any part of the section, nested parts partial too. */
export type EventsConfigInput = Partial<Omit<EventsConfig, 'person_down' | 'hands_up' | 'wave' | 'zones' | 'lines'>> & {
  zones?: Array<Omit<ZoneConfig, 'loiter_s' | 'exclude_from'> & Partial<Pick<ZoneConfig, 'loiter_s' | 'exclude_from'>>>;
  lines?: Array<Omit<LineConfig, 'hysteresis'> & Partial<Pick<LineConfig, 'hysteresis'>>>;
  person_down?: Partial<PersonDownConfig>;
  hands_up?: Partial<HandsUpConfig>;
  wave?: Partial<WaveConfig>;
};

/**
 * Fills in defaults and checks what the schema cannot say (unique names, lines with length, an "in" side the line
 * has); throws one readable error naming the key.
 */
export function resolveEventsConfig(input: EventsConfigInput = {}): EventsConfig {
  const config = Value.Default(EventsConfigSchema, Value.Clone(input)) as EventsConfig;
  const first = Value.Errors(EventsConfigSchema, config).First();
  if (first) throw new Error(`events config ${first.path || '(root)'}: ${first.message}`);
  checkEventsConfig(config);
  return config;
}

/** The checks beyond the schema (also for callers that validated the whole agent config themselves). */
export function checkEventsConfig(config: EventsConfig): void {
  const seen = new Set<string>();
  config.zones.forEach((z, i) => {
    if (seen.has(z.name)) throw new Error(`events config /zones/${i}/name: zone "${z.name}" is defined twice`);
    seen.add(z.name);
    if (Math.abs(polygonArea(z.polygon)) < 1e-6) throw new Error(`events config /zones/${i}/polygon: zone "${z.name}" has no area`);
  });
  const lines = new Set<string>();
  config.lines.forEach((l, i) => {
    if (lines.has(l.name)) throw new Error(`events config /lines/${i}/name: line "${l.name}" is defined twice`);
    lines.add(l.name);
    const dx = l.b[0] - l.a[0], dy = l.b[1] - l.a[1];
    if (Math.hypot(dx, dy) < 1e-3) throw new Error(`events config /lines/${i}: line "${l.name}" has two equal points`);
    if ((l.in === 'left' || l.in === 'right') && dy === 0)
      throw new Error(`events config /lines/${i}/in: line "${l.name}" is horizontal, so its sides are "above" and "below"`);
    if ((l.in === 'above' || l.in === 'below') && dx === 0)
      throw new Error(`events config /lines/${i}/in: line "${l.name}" is vertical, so its sides are "left" and "right"`);
  });
}

/** Signed area (shoelace), in the polygon's own units. */
export function polygonArea(points: ReadonlyArray<readonly [number, number]>): number {
  let a = 0;
  for (let i = 0, j = points.length - 1; i < points.length; j = i++) a += (points[j][0] - points[i][0]) * (points[j][1] + points[i][1]);
  return a / 2;
}
