// Config section `preview`: the annotated live view (WebRTC over WHEP) served by the agent's HTTP server.
// The server's port, bind address and token are in the `http` section; this section says what is streamed
// and how it is encoded (one encoder child process, shared by every viewer).

import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

export const PreviewConfigSchema = Type.Object(
  {
    enabled: Type.Boolean({
      default: false,
      description: 'Serve the viewer page at / and the WHEP endpoint /whep/<stream> on the HTTP server.',
    }),
    stream: Type.String({
      default: 'live',
      pattern: '^[A-Za-z0-9_-]{1,32}$',
      description: 'Stream name in the WHEP URL (POST /whep/<stream>).',
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
        'Bitrate of the encoder in kbit/s: every viewer gets this one stream, so it is also the most one viewer is sent ' +
        '(0 = the encoder\'s own default: x264enc 2048, nvv4l2h264enc 4000, openh264enc 128, vp8enc by resolution). ' +
        'The rate control aims at it at the preview.fps rate; a pipeline slower than that sends proportionally less.',
    }),
    max_viewers: Type.Integer({
      minimum: 1,
      maximum: 64,
      default: 4,
      description: 'Concurrent WHEP sessions; more get 503. Viewers share one encoded stream; each costs its own encryption and sending.',
    }),
    encoder: Type.Object(
      {
        use: Type.Union(
          [Type.Literal('auto'), Type.Literal('nvv4l2h264enc'), Type.Literal('x264enc'), Type.Literal('openh264enc'), Type.Literal('vp8enc')],
          {
            default: 'auto',
            description:
              'Encoder of the live view (a GStreamer child process, started with the first viewer, stopped after the last): ' +
              'auto = NVIDIA\'s hardware H.264 encoder where the board has NVENC (/dev/nvhost-msenc or /dev/v4l2-nvenc and the ' +
              'nvv4l2h264enc element), else x264enc, openh264enc, then vp8enc (software). The choice and why is logged ' +
              '("preview encoder") and shown by pafcast doctor.',
          },
        ),
        keyframe_interval_s: Type.Number({
          minimum: 0.2,
          maximum: 10,
          default: 2,
          description:
            'Longest time between keyframes. A joining viewer, and one that reports picture loss, gets a keyframe at once ' +
            '(a forced IDR); this bounds the wait when an encoder ignores the request.',
        }),
        pipeline: Type.Array(Type.String(), {
          default: [],
          description:
            'Replace the built-in encoder command (argv, first element the program). It reads I420 frames of {width}×{height} ' +
            '({frame_bytes} bytes each) on stdin, numbered at {fps} (the RTP timestamps must stay frame number × 90000 / {fps}), and ' +
            'writes RTP (payload type {pt}, SSRC {ssrc}, timestamp offset 0, at most {mtu} bytes) on stdout, each packet after a ' +
            '16-bit length (RFC 4571, GStreamer\'s rtpstreampay); it may read the same framing of RTCP on fd 3 (keyframe requests). ' +
            'Other placeholders: {bitrate_kbps} {bitrate_bps} {keyint} (frames). The command in use is logged ("preview encoder").',
        }),
        codec: Type.Union([Type.Literal('h264'), Type.Literal('vp8')], {
          default: 'h264',
          description: 'What encoder.pipeline sends (only read with encoder.pipeline): H.264 (packetization mode 1) or VP8.',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
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
