// Config section `broker`: the embedded broker started when mqtt.url is empty (Mosquitto as a
// managed child where a binary >= 1.6 is installed, aedes in-process otherwise), and the checks
// that keep it from ever listening on the network without authentication.

import { Type, type Static } from '@sinclair/typebox';

/** The user name of the agent's own connection; configured users may not take it. */
export const AGENT_USERNAME = 'pafcast-agent';

/** No whitespace, control characters, ':' (the password file's separator) or MQTT wildcards. */
const USERNAME = '^([^\\x00-\\x20\\x7f:#+/]{1,64})?$';

export const BrokerConfigSchema = Type.Object(
  {
    engine: Type.Union([Type.Literal('auto'), Type.Literal('mosquitto'), Type.Literal('aedes')], {
      default: 'auto',
      description:
        'Broker engine. `auto`: Mosquitto when a `mosquitto` >= 1.6 is found on PATH (MQTT 5 and 3.1.1), else aedes (in-process, MQTT 3.1.1 only: ' +
        'MQTT 5 clients and Home Assistant 2027.1 and later cannot connect to it) with one warning. `mosquitto`: Mosquitto or fail. `aedes`: always aedes.',
    }),
    host: Type.String({
      default: '127.0.0.1',
      description:
        'Address the embedded broker listens on (only used when mqtt.url is empty). Loopback (127.x, ::1, localhost) may be anonymous; ' +
        'any other address (0.0.0.0 for the LAN) needs broker.username and broker.password, or broker.password_file.',
    }),
    port: Type.Integer({ minimum: 1, maximum: 65535, default: 1883, description: 'TCP port of the embedded broker.' }),
    username: Type.String({
      default: '',
      pattern: USERNAME,
      description:
        'User name other MQTT clients (Home Assistant, mosquitto_sub) log in with; env PAFCAST_BROKER_USERNAME. With it set, anonymous clients are refused.',
    }),
    password: Type.String({
      default: '',
      description: 'Password of broker.username, at least 8 characters; env PAFCAST_BROKER_PASSWORD overrides.',
      secret: true,
    }),
    password_file: Type.String({
      default: '',
      description:
        'More users: a Mosquitto password file (user:$7$... lines written by `mosquitto_passwd`), read at start by both engines. Empty = none.',
    }),
    binary: Type.String({ default: '', description: 'The Mosquitto program to run. Empty = `mosquitto` found on PATH.' }),
    state_dir: Type.String({
      default: '',
      description:
        'Directory for the generated Mosquitto config, password and ACL files and its persistence database. Empty = a private temporary directory removed at exit.',
    }),
    persistence: Type.Boolean({
      default: false,
      description:
        'Mosquitto saves retained messages and persistent sessions (every 60 s and at exit) and restores them after a broker restart; without broker.state_dir ' +
        'they survive broker restarts but not agent restarts. aedes keeps them in memory while the agent runs.',
    }),
    max_message_bytes: Type.Integer({
      minimum: 1024,
      maximum: 268435455,
      default: 1048576,
      description:
        'Largest message payload the broker accepts: a larger one is refused, and a packet announcing far more is cut off at its header, before the broker buffers it.',
    }),
    retained: Type.Object(
      {
        max_messages: Type.Integer({
          minimum: 10,
          maximum: 10000000,
          default: 10000,
          description: 'aedes: most retained messages other clients may leave on the broker (the agent\'s own topics always fit); more are delivered but not kept.',
        }),
        max_bytes: Type.Integer({
          minimum: 65536,
          maximum: 17179869184,
          default: 16777216,
          description:
            'aedes: most bytes (topics + payloads) of those retained messages. Mosquitto cannot count retained messages: its whole heap is capped at this + 128 MiB (`memory_limit`).',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false, default: {} },
);

export type BrokerConfig = Static<typeof BrokerConfigSchema>;
export type BrokerEngineName = Exclude<BrokerConfig['engine'], 'auto'>;

/** 127.0.0.0/8, ::1 (also as IPv4-mapped) and `localhost`: addresses no other machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  const v4 = h.replace(/^::ffff:/, '');
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

/** Characters that would end a line or a token in Mosquitto's config and ACL files. */
export const UNSAFE_IN_FILES = /[\x00-\x1f\x7f]/;

/**
 * Problems of the broker section that would make the embedded broker unsafe or unable to start;
 * [] when none, or when an external broker is configured (the section is then unused).
 */
export function brokerConfigProblems(broker: BrokerConfig, mqttUrl = ''): string[] {
  if (mqttUrl) return [];
  const out: string[] = [];
  const { username, password, password_file: passwordFile } = broker;
  if (!broker.host.trim() || /\s/.test(broker.host) || UNSAFE_IN_FILES.test(broker.host)) out.push(`broker.host: "${broker.host}" is not an address`);
  if (username && !password) out.push('broker.password: broker.username is set but has no password (set broker.password or PAFCAST_BROKER_PASSWORD)');
  if (password && !username) out.push('broker.username: broker.password is set but no user name (set broker.username or PAFCAST_BROKER_USERNAME)');
  if (password && [...password].length < 8) out.push('broker.password: must be at least 8 characters');
  if (username === AGENT_USERNAME) out.push(`broker.username: "${AGENT_USERNAME}" is reserved for the agent's own connection`);
  for (const [key, value] of [['password_file', passwordFile], ['state_dir', broker.state_dir], ['binary', broker.binary]] as const)
    if (UNSAFE_IN_FILES.test(value)) out.push(`broker.${key}: contains control characters`);
  if (!isLoopbackHost(broker.host) && !(username && password) && !passwordFile)
    out.push(
      `broker.host: the embedded broker would listen on ${broker.host}, reachable from the network, without authentication. ` +
        'Set broker.username and broker.password (or PAFCAST_BROKER_USERNAME / PAFCAST_BROKER_PASSWORD), or broker.password_file, ' +
        'or keep broker.host on 127.0.0.1',
    );
  return out;
}
