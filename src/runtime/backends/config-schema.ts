// Config section `inference`: which model runs, at which size, on which backend.
// Owned by the runtime; the agent's config schema (src/agent/config) composes it.

import { Type, type Static } from '@sinclair/typebox';

export const InferenceConfigSchema = Type.Object(
  {
    model: Type.String({
      default: 'lightweight-openpose-coco18',
      description: 'Model manifest name (models/<name>.json) or a path to a manifest file.',
    }),
    model_path: Type.Array(Type.String(), {
      default: [],
      description:
        'Extra directories searched for model files, before PAFCAST_MODEL_PATH, ./models, /var/lib/pafcast/models and ../shared/models.',
    }),
    height: Type.Integer({
      minimum: 0,
      maximum: 2048,
      default: 0,
      description: 'Net input height in pixels (a multiple of the model stride); 0 = the manifest default.',
    }),
    backend: Type.Union([Type.Literal('auto'), Type.Literal('tensorrt'), Type.Literal('onnxruntime')], {
      default: 'auto',
      description:
        'auto: TensorRT when its addon loads and a matching engine exists, else onnxruntime on the CPU. Switching backends is config only.',
      
    }),
    onnxruntime: Type.Object(
      {
        providers: Type.Array(Type.String(), {
          default: ['cpu'],
          description: 'Execution providers tried in order (cpu, cuda, tensorrt, ...); one that fails to load is skipped with a warning.',
        }),
        threads: Type.Integer({ minimum: 0, maximum: 64, default: 0, description: 'Intra-op threads; 0 = one per core.' }),
      },
      { additionalProperties: false, default: {} },
    ),
    parser: Type.Object(
      {
        nms_threshold: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1, description: 'Heatmap peak threshold.' })),
        inter_threshold: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'PAF sample agreement threshold.' })),
        inter_min_above_threshold: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'Share of PAF samples that must agree.' })),
        min_subset_cnt: Type.Optional(Type.Integer({ minimum: 1, maximum: 64, description: 'Fewest parts a person may have.' })),
        min_subset_score: Type.Optional(Type.Number({ minimum: 0, description: 'Lowest mean part score a person may have.' })),
        number_people_max: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000, description: 'Keep at most this many people (0 = all).' })),
      },
      {
        additionalProperties: false,
        default: {},
        description: "Overrides of the model manifest's parser defaults; applied live from the next frame.",
      },
    ),
    tensorrt: Type.Object(
      {
        engine_dir: Type.String({ default: '', description: 'Where engines live; empty = models/trt in the package, then /var/lib/pafcast/trt.' }),
        precision: Type.Union([Type.Literal('fp16'), Type.Literal('fp32')], {
          default: 'fp16',
          description: 'Precision of the engine to use (and to build); fp16 is 2-3x faster on every Jetson GPU.',
        }),
        build_missing: Type.Optional(
          Type.Boolean({
            default: false,
            description:
              'When no engine matches the running TensorRT/GPU/ladder, build one with trtexec at start (minutes on a TX2) instead of falling back to onnxruntime.',
          }),
        ),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false, default: {} },
);

export type InferenceConfig = Static<typeof InferenceConfigSchema>;
