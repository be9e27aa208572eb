// Config section `preview`: the annotated live view (WebRTC over WHEP) served by the agent's HTTP server.
// The server's port, bind address and token are in the `http` section; this section says what is streamed.

import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

export const PreviewConfigSchema = Type.Object(
  {
    enabled: Type.Boolean({
      default: false,
      description: 'Serve the viewer page at / and the WHEP endpoint /whep/<stream> on the HTTP server.',
      requiresRestart: true,
    }),
    stream: Type.String({
      default: 'live',
      pattern: '^[A-Za-z0-9_-]{1,32}$',
      description: 'Stream name in the WHEP URL (POST /whep/<stream>).',
      requiresRestart: true,
    }),
    // I420 needs even sizes: chroma is subsampled 2×2.
    width: Type.Integer({ minimum: 64, maximum: 1920, multipleOf: 2, default: 640, description: 'Preview width in pixels (even); the frame is letterboxed to keep its aspect.' }),
    height: Type.Integer({ minimum: 64, maximum: 1080, multipleOf: 2, default: 360, description: 'Preview height in pixels (even).' }),
    fps: Type.Number({ minimum: 1, maximum: 60, default: 15, description: 'Frame-rate cap of the preview; frames beyond it are skipped before any drawing.' }),
    max_bitrate_kbps: Type.Integer({
      minimum: 0,
      maximum: 20000,
      default: 1000,
      description:
        'Most kbit/s sent to one viewer, for viewers on thin links (0 = no cap; libwebrtc still adapts to the network ' +
        'below it). Uncapped, 640×360 street.avi settles near 900 kbit/s. It does not save encoder CPU measurably.',
    }),
    max_viewers: Type.Integer({ minimum: 1, maximum: 64, default: 4, description: 'Concurrent WHEP sessions; more get 503. Each viewer costs one video encode.' }),
    reap_timeout_s: Type.Number({
      minimum: 1,
      maximum: 600,
      default: 10,
      description: 'A session whose connection stays failed, disconnected or closed this long is removed (its viewer vanished without DELETE).',
    }),
    connect_timeout_s: Type.Number({
      minimum: 1,
      maximum: 600,
      default: 30,
      description: 'A session that never connects within this time after its offer is removed.',
    }),
  },
  { additionalProperties: false, default: {} },
);

export type PreviewConfig = Static<typeof PreviewConfigSchema>;

/** A complete, checked config from a partial one, defaults filled from the schema (tests, bench, embedding). */
export function previewConfig(partial: Partial<PreviewConfig> = {}): PreviewConfig {
  const cfg = Value.Default(PreviewConfigSchema, structuredClone(partial));
  if (!Value.Check(PreviewConfigSchema, cfg)) {
    const first = Value.Errors(PreviewConfigSchema, cfg).First();
    throw new Error(`preview config: ${first?.path || '(root)'} ${first?.message ?? 'is invalid'}`);
  }
  return cfg;
}
