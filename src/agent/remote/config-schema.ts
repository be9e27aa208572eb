// Config section `remote`: remote configuration over MQTT (`<prefix>/<device_id>/config/set`).
// The wire format and threat model are in docs/remote-config.md.

import { Type, type Static } from '@sinclair/typebox';

export const RemoteConfigSchema = Type.Object(
  {
    enabled: Type.Boolean({
      default: true,
      description: 'Accept config changes on `config/set`. Off = the agent ignores the topic (the retained `config` is still published).',
      requiresRestart: 'remote',
    }),
    public_key: Type.String({
      default: '',
      description:
        'PEM file with the Ed25519 public key (`pafcast keys generate`). Set = every update must be signed by the matching private key ' +
        'and carry a version above the last applied one. Empty = unsigned updates are accepted from anyone who may publish to the topic.',
      requiresRestart: 'remote',
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
      description: 'Where the last applied signed version is kept, so a replayed update stays rejected after a restart.',
      requiresRestart: 'remote',
    }),
  },
  { additionalProperties: false, default: {} },
);

export type RemoteConfig = Static<typeof RemoteConfigSchema>;
