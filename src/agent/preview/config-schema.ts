// Config section preview (annotated WebRTC live view). Placeholder: the owning module fills in its fields.

import { Type, type Static } from '@sinclair/typebox';

export const PreviewConfigSchema = Type.Object({}, { additionalProperties: false, default: {} });

export type PreviewConfig = Static<typeof PreviewConfigSchema>;
