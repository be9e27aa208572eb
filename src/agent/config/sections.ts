// Config sections that belong to no single module's folder: `http` (the server that carries
// metrics, health and the WebRTC preview) and `log`.

import { Type, type Static } from '@sinclair/typebox';

export const HttpConfigSchema = Type.Object(
  {
    enabled: Type.Boolean({ default: true, description: 'Serve /healthz, /metrics and the live preview over HTTP.' }),
    host: Type.String({ default: '127.0.0.1', description: 'Listen address; 0.0.0.0 to reach the preview from other machines (set a token).' }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080, description: 'Listen port; 0 = any free port (logged).' }),
    token: Type.String({
      default: '',
      description: 'Bearer token required on every request except /healthz. Empty = no authentication.',
      secret: true,
    }),
  },
  { additionalProperties: false, default: {} },
);

export type HttpConfig = Static<typeof HttpConfigSchema>;

export const LogConfigSchema = Type.Object(
  {
    level: Type.Union(
      [Type.Literal('fatal'), Type.Literal('error'), Type.Literal('warn'), Type.Literal('info'), Type.Literal('debug'), Type.Literal('trace')],
      { default: 'info', description: 'Lowest level written to stdout (pino JSON lines).' },
    ),
  },
  { additionalProperties: false, default: {} },
);

export type LogConfig = Static<typeof LogConfigSchema>;
export type LogLevel = LogConfig['level'];
