// Config section telemetry (sensors, stats publishing, adaptive scale). Placeholder: the owning module fills in its fields.

import { Type, type Static } from '@sinclair/typebox';

export const TelemetryConfigSchema = Type.Object({}, { additionalProperties: false, default: {} });

export type TelemetryConfig = Static<typeof TelemetryConfigSchema>;
