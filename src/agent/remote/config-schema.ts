// Config section remote (remote configuration over MQTT). Placeholder: the owning module fills in its fields.

import { Type, type Static } from '@sinclair/typebox';

export const RemoteConfigSchema = Type.Object({}, { additionalProperties: false, default: {} });

export type RemoteConfig = Static<typeof RemoteConfigSchema>;
