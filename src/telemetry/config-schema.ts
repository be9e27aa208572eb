// Config section `telemetry`: sensor sampling, stats publishing and the adaptive input scale.
// Owned by src/telemetry; the agent's config schema composes it under the key `telemetry`.

import { Type, type Static } from '@sinclair/typebox';

const ThermalConfigSchema = Type.Object(
  {
    zones: Type.Array(Type.String({ minLength: 1 }), {
      default: [],
      description:
        'Thermal zone types (the `type` file, e.g. "tj-thermal", "GPU-therm") whose hottest reading drives the scale controller; ' +
        'empty = every on-die zone (CPU, GPU, SOC, junction, CV, AUX, PLL, AO), never PMIC, board diodes or the fan estimate.',
    }),
    soft_limit_c: Type.Number({
      minimum: 30,
      maximum: 120,
      default: 80,
      description:
        'Above this temperature the controller steps the net size down and will not step up. Chosen well below the SoCs\' own throttle points so the agent backs off before the firmware does.',
    }),
    hard_limit_c: Type.Number({
      minimum: 30,
      maximum: 125,
      default: 90,
      description: 'Above this temperature the controller drops to the smallest step at once, ignoring dwell times.',
    }),
    hysteresis_c: Type.Number({
      minimum: 0,
      maximum: 30,
      default: 5,
      description: 'Stepping up needs the hottest zone this far below the soft limit, so a board hovering at the limit does not flap.',
    }),
  },
  { additionalProperties: false, default: {} },
);

const ScaleConfigSchema = Type.Object(
  {
    enabled: Type.Boolean({ default: true, description: 'Adapt the net input height to FPS and temperature; false = run at inference.height.' }),
    ladder: Type.Array(Type.Integer({ minimum: 32, maximum: 2048 }), {
      minItems: 1,
      maxItems: 16,
      default: [368, 320, 256, 224, 160],
      description:
        'Net input heights the controller may use, largest first; each a multiple of the model stride inside the model\'s input_size range ' +
        '(every step is prepared at start so a change never rebuilds a TensorRT engine).',
      
    }),
    target_fps: Type.Number({ exclusiveMinimum: 0, maximum: 240, default: 15, description: 'Frame rate the controller tries to keep.' }),
    pinned_height: Type.Integer({
      minimum: 0,
      maximum: 2048,
      default: 0,
      description: 'Run at this height only (must be a ladder step or at least stride-aligned inside the model range); 0 = adaptive.',
      
    }),
    min_height: Type.Integer({ minimum: 0, maximum: 2048, default: 0, description: 'Never go below this height; 0 = no bound beyond the ladder.' }),
    max_height: Type.Integer({ minimum: 0, maximum: 2048, default: 0, description: 'Never go above this height; 0 = no bound beyond the ladder.' }),
    down_dwell_ms: Type.Integer({
      minimum: 0,
      maximum: 600_000,
      default: 3_000,
      description:
        'A shortfall (low FPS or soft-limit heat) must last this long, and the current step must have run this long, before stepping down: time for the FPS of a new size to settle.',
    }),
    up_dwell_ms: Type.Integer({
      minimum: 0,
      maximum: 3_600_000,
      default: 30_000,
      description: 'Headroom must last this long, and the current step must have run this long, before stepping up (up is slow, down is fast).',
    }),
    fps_tolerance: Type.Number({
      minimum: 0,
      maximum: 0.5,
      default: 0.05,
      description: 'FPS may fall this fraction below target before it counts as a shortfall (absorbs measurement noise).',
    }),
    up_headroom: Type.Number({
      minimum: 0,
      maximum: 2,
      default: 0.15,
      description: 'Step up only when the FPS predicted for the next larger step (cost grows with pixels) exceeds target by this fraction.',
    }),
    max_backoff_ms: Type.Integer({
      minimum: 0,
      maximum: 86_400_000,
      default: 600_000,
      description: 'A step that was entered and then failed waits up_dwell_ms, then twice that after each further failure, up to this long, before it is tried again.',
    }),
  },
  { additionalProperties: false, default: {} },
);

export const TelemetryConfigSchema = Type.Object(
  {
    interval_ms: Type.Integer({
      minimum: 250,
      maximum: 600_000,
      default: 2_000,
      description: 'How often sensors are read and stats published on MQTT `stats` (also the scale controller\'s update rate).',
    }),
    root: Type.String({
      default: '/',
      description: 'Filesystem root under which sys/ and proc/ are read (tests point it at recorded board trees).',
      
    }),
    tegrastats: Type.Union([Type.Literal('auto'), Type.Literal('off')], {
      default: 'auto',
      description: 'auto: run `tegrastats` as a fallback when sysfs has no GPU load file (and for power rails); off: never.',
      
    }),
    nvpmodel_refresh_ms: Type.Integer({
      minimum: 1_000,
      maximum: 86_400_000,
      default: 60_000,
      description: 'How long an `nvpmodel -q` answer is reused; the power mode changes rarely and the tool is slow.',
    }),
    network_interfaces: Type.Array(Type.String({ minLength: 1 }), {
      default: [],
      description: 'Network interfaces whose throughput is reported (e.g. ["eth0"]); empty = none.',
    }),
    thermal: ThermalConfigSchema,
    scale: ScaleConfigSchema,
  },
  { additionalProperties: false, default: {} },
);

export type TelemetryConfig = Static<typeof TelemetryConfigSchema>;
export type ThermalConfig = Static<typeof ThermalConfigSchema>;
export type ScaleConfig = Static<typeof ScaleConfigSchema>;

/** Rules a schema cannot express; returns one message per problem (empty = fine). */
export function checkTelemetryConfig(c: TelemetryConfig): string[] {
  const errors: string[] = [];
  if (c.thermal.soft_limit_c >= c.thermal.hard_limit_c)
    errors.push(`/telemetry/thermal: soft_limit_c (${c.thermal.soft_limit_c}) must be below hard_limit_c (${c.thermal.hard_limit_c})`);
  const s = c.scale;
  if (s.min_height && s.max_height && s.min_height > s.max_height)
    errors.push(`/telemetry/scale: min_height (${s.min_height}) is above max_height (${s.max_height})`);
  return errors;
}
