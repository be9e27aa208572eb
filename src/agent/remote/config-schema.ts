// Config section `remote`: remote configuration over MQTT (`<prefix>/<device_id>/config/set`).
// Every key here is local-only (src/agent/config/policy.ts): remote config cannot widen or switch
// off its own checks. The wire format and threat model are in docs/remote-config.md.

import { Type, type Static } from '@sinclair/typebox';

export const RemoteConfigSchema = Type.Object(
  {
    enabled: Type.Boolean({
      default: true,
      description: 'Listen on `config/set`. Off = the agent ignores the topic (the retained `config` is still published).',
    }),
    public_key: Type.String({
      default: '',
      description:
        'PEM file with the Ed25519 public key (`pafcast keys generate`). Set = every update must be signed by the matching private key, ' +
        'name this device and carry a version above the last applied one. Empty = updates are refused unless `allow_unsigned` is set.',
    }),
    allow_unsigned: Type.Boolean({
      default: false,
      description:
        'Without `public_key`: accept unsigned updates from anyone who may publish to `config/set` (keys marked signed-only still need a ' +
        'signature, local-only keys are never accepted). Only for a closed network with broker ACLs. Can only be set in the local file.',
    }),
    max_payload_bytes: Type.Integer({
      minimum: 256,
      maximum: 1048576,
      default: 16384,
      description: 'Larger `config/set` messages are rejected unread.',
    }),
    state_file: Type.String({
      default: '/var/lib/pafcast/remote-config-state.json',
      minLength: 1,
      description:
        'Where the last applied signed version is kept, so a replayed update stays rejected after a restart. Its directory is created at ' +
        'start; when that fails, signed updates are refused with the reason.',
    }),
  },
  { additionalProperties: false, default: {} },
);

export type RemoteConfig = Static<typeof RemoteConfigSchema>;
