// Config section `source`: where frames come from and how the capture child process delivers them.
// Owned by src/agent/capture; the agent's config schema composes it.

import { Type, type Static } from '@sinclair/typebox';

export const CaptureConfigSchema = Type.Object(
  {
    uri: Type.String({
      default: 'test://',
      description:
        'Frame source: a video file (path or file://), a directory of images (sorted by name), /dev/videoN (V4L2 camera), ' +
        'rtsp:// or http(s):// stream, csi://N (Jetson CSI camera N), test:// (test pattern; test://?size=1280x720&rate=30).',
      requiresRestart: true,
    }),
    loop: Type.Boolean({
      default: false,
      description: 'Start a video file or image directory again when it ends (otherwise the source ends).',
      requiresRestart: true,
    }),
    mode: Type.Union([Type.Literal('realtime'), Type.Literal('every-frame')], {
      default: 'realtime',
      description:
        'realtime: files play at their own rate and the newest frame wins (older ones are dropped and counted); ' +
        'every-frame: every frame is processed in order and the capture process waits for the consumer.',
      requiresRestart: true,
    }),
    output_height: Type.Integer({
      minimum: 0,
      maximum: 4320,
      default: 368,
      description:
        'Height frames are scaled to by the capture process (width follows the source aspect, even); 0 = native size. ' +
        'Make it at least the largest net height; smaller net sizes are resized by the preprocessing.',
      requiresRestart: true,
    }),
    crop: Type.Object(
      {
        x: Type.Integer({
          minimum: 0,
          maximum: 16_384,
          default: 0,
          description:
            'Left edge of the region of interest, source pixels. The region is cut in the capture process before scaling and ' +
            'becomes the source: keypoints, poses.source and event zones refer to it (docs/events.md).',
        }),
        y: Type.Integer({ minimum: 0, maximum: 16_384, default: 0, description: 'Top edge of the region of interest, source pixels.' }),
        width: Type.Integer({ minimum: 0, maximum: 16_384, default: 0, description: 'Width of the region, source pixels; 0 = to the right edge.' }),
        height: Type.Integer({ minimum: 0, maximum: 16_384, default: 0, description: 'Height of the region, source pixels; 0 = to the bottom edge.' }),
      },
      {
        additionalProperties: false,
        default: {},
        requiresRestart: true,
        description:
          'Region of interest, cut out in the capture process before scaling (ffmpeg crop, GStreamer videocrop, nvvidconv ' +
          'on Jetson). The region becomes the source: keypoints, the poses message\'s `source` size and event zones refer ' +
          'to it. All 0 = the whole frame.',
      },
    ),
    fps_cap: Type.Number({
      minimum: 0,
      maximum: 240,
      default: 0,
      description: 'Drop frames in the capture process above this rate; 0 = the source rate.',
      requiresRestart: true,
    }),
    image_fps: Type.Number({
      exclusiveMinimum: 0,
      maximum: 240,
      default: 1,
      description: 'Image directories in realtime mode: images shown per second.',
      requiresRestart: true,
    }),
    pixel_order: Type.Union([Type.Literal('bgr'), Type.Literal('rgb')], {
      default: 'bgr',
      description: 'Channel order of delivered frames (bgr24 or rgb24); the OpenPose models take BGR.',
      requiresRestart: true,
    }),
    backend: Type.Union([Type.Literal('auto'), Type.Literal('ffmpeg'), Type.Literal('gstreamer')], {
      default: 'auto',
      description:
        'Capture process: auto = GStreamer when NVIDIA\'s nvvidconv plugin is present (Jetson, hardware decode), else ffmpeg. ' +
        'CSI cameras always use GStreamer.',
      requiresRestart: true,
    }),
    pipeline: Type.Array(Type.String(), {
      default: [],
      description:
        'Replace the built-in capture command (argv, first element the program). It must write raw frames of ' +
        '{width}×{height} pixels in {pix_fmt} (ffmpeg name) / {gst_format} (GStreamer name) to stdout. Placeholders: ' +
        '{input} {uri} {width} {height} {source_width} {source_height} {fps} {pix_fmt} {gst_format} {sensor}, and for ' +
        'source.crop {crop_x} {crop_y} {crop_width} {crop_height} (the whole frame when not set). ' +
        'The command in use is logged at start ("capture pipeline").',
      requiresRestart: true,
    }),
    csi: Type.Object(
      {
        width: Type.Integer({ minimum: 16, maximum: 8192, default: 1920, description: 'CSI sensor mode width.' }),
        height: Type.Integer({ minimum: 16, maximum: 8192, default: 1080, description: 'CSI sensor mode height.' }),
        fps: Type.Integer({ minimum: 1, maximum: 240, default: 30, description: 'CSI sensor mode frame rate.' }),
      },
      { additionalProperties: false, default: {}, requiresRestart: true },
    ),
    retry: Type.Object(
      {
        min_ms: Type.Integer({ minimum: 10, maximum: 600_000, default: 1000, description: 'First delay before restarting a failed source.' }),
        max_ms: Type.Integer({
          minimum: 10,
          maximum: 3_600_000,
          default: 30_000,
          description: 'The delay doubles after each failure up to this; it resets once the source delivers frames again.',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    stall_timeout_ms: Type.Integer({
      minimum: 0,
      maximum: 600_000,
      default: 10_000,
      description: 'Restart a running source that delivers no frame for this long (a hung stream); 0 = never.',
    }),
  },
  { additionalProperties: false, default: {} },
);

export type CaptureConfig = Static<typeof CaptureConfigSchema>;
