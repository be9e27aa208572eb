// `pafcast run`: load the config (file, environment, flags), start the agent, and stop it cleanly
// on SIGTERM/SIGINT (retained `stopped`, exit 0). SIGHUP re-reads the config file, as daemons do: a
// valid file is applied like a remote change, a bad one is reported and the running config kept.
// A file source without --loop ends the run.

import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load.js';
import { redactConfig } from '../config/schema.js';
import { createLogger } from '../log.js';

const USAGE = `usage: pafcast run [options]

Runs the agent: frames from a source -> poses -> MQTT. With no broker URL an embedded broker
listens on 127.0.0.1:1883; watch with:  mosquitto_sub -h 127.0.0.1 -t 'pafcast/#' -v

options:
  -c, --config FILE     JSON config file (reference: docs/config.md)
  -s, --source URI      video file, image directory, /dev/videoN, rtsp://..., csi://0, test://
      --loop            play a file source again when it ends
      --every-frame     process every frame of a file instead of the newest (source.mode)
      --mqtt URL        external broker (mqtt://, mqtts://); replaces the embedded one
      --broker-port N   port of the embedded broker
      --prefix P        first topic level(s) (default pafcast)
      --device-id ID    second topic level (default: the hostname)
      --model NAME      model manifest name or path
      --height N        net input height (0 = model default)
      --log-level L     fatal, error, warn, info, debug, trace
      --set KEY=VALUE   set any config key, e.g. --set mqtt.qos.poses=1 (repeatable)
      --print-config    print the effective config (secrets redacted) and exit
  -h, --help            this text

Environment: PAFCAST__SECTION__KEY=value sets any key; PAFCAST_MQTT_USERNAME, PAFCAST_MQTT_PASSWORD.
Signals: SIGTERM/SIGINT stop cleanly; SIGHUP re-reads --config and applies what changed.
`;

/** Short flags → config key paths. */
const FLAG_PATHS: Record<string, string> = {
  source: 'source.uri',
  mqtt: 'mqtt.url',
  'broker-port': 'broker.port',
  prefix: 'mqtt.prefix',
  'device-id': 'mqtt.device_id',
  model: 'inference.model',
  height: 'inference.height',
  'log-level': 'log.level',
};

const SHUTDOWN_GRACE_MS = 10_000;

export async function command(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: false,
      options: {
        config: { type: 'string', short: 'c' },
        source: { type: 'string', short: 's' },
        loop: { type: 'boolean' },
        'every-frame': { type: 'boolean' },
        mqtt: { type: 'string' },
        'broker-port': { type: 'string' },
        prefix: { type: 'string' },
        'device-id': { type: 'string' },
        model: { type: 'string' },
        height: { type: 'string' },
        'log-level': { type: 'string' },
        set: { type: 'string', multiple: true },
        'print-config': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    process.stderr.write(`pafcast run: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const v = parsed.values;
  if (v.help) {
    process.stdout.write(USAGE);
    return 0;
  }

  const flags: Record<string, unknown> = {};
  for (const [flag, path] of Object.entries(FLAG_PATHS)) {
    const value = v[flag as keyof typeof v];
    if (value !== undefined) flags[path] = value;
  }
  if (v.loop) flags['source.loop'] = true;
  if (v['every-frame']) flags['source.mode'] = 'every-frame';
  for (const item of v.set ?? []) {
    const eq = item.indexOf('=');
    if (eq <= 0) {
      process.stderr.write(`pafcast run: --set needs KEY=VALUE, got "${item}"\n`);
      return 2;
    }
    flags[item.slice(0, eq)] = item.slice(eq + 1);
  }

  const { config, errors } = loadConfig({ file: v.config, env: process.env, flags });
  if (errors.length) {
    process.stderr.write(`pafcast run: invalid configuration:\n  ${errors.join('\n  ')}\n`);
    return 2;
  }
  if (v['print-config']) {
    process.stdout.write(`${JSON.stringify(redactConfig(config), null, 2)}\n`);
    return 0;
  }

  const log = createLogger(config.log.level);
  // Last line of defence: a stray rejection in some module is logged, not a reason to die.
  process.on('unhandledRejection', (reason) => log.error({ err: reason instanceof Error ? reason.message : String(reason) }, 'unhandled rejection'));

  const { Agent } = await import('../agent.js');
  const { agentModules } = await import('../modules.js');
  let notify: { stopping(): Promise<void> } | undefined;
  const agent: InstanceType<typeof Agent> = new Agent(config, log, {
    extraModules: (services) => {
      const built = agentModules(services, { configFile: v.config, env: process.env, flags, applyLive: (next, opts) => agent.applyLive(next, opts) });
      notify = built.notify;
      return built.modules;
    },
  });

  let stopping: Promise<number> | undefined;
  const shutdown = (why: string): Promise<number> => {
    stopping ??= (async () => {
      log.info({ why }, 'shutting down');
      await notify?.stopping().catch(() => undefined);
      // Never hang on a stuck module: systemd would SIGKILL us anyway, with `offline` instead of `stopped`.
      const force = setTimeout(() => {
        log.error('shutdown took too long; exiting');
        process.exit(1);
      }, SHUTDOWN_GRACE_MS);
      force.unref();
      await agent.stop();
      clearTimeout(force);
      return 0;
    })();
    return stopping;
  };
  const signalled = new Promise<string>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  // Without a handler Node dies of SIGHUP (exit 129, no log, `offline` by last will).
  process.on('SIGHUP', () => void reload());
  const reload = async (): Promise<void> => {
    if (stopping) return;
    if (!v.config) {
      log.warn('SIGHUP: no --config file to re-read; nothing changed');
      return;
    }
    const next = loadConfig({ file: v.config, env: process.env, flags });
    if (next.errors.length) {
      log.error({ file: v.config, errors: next.errors }, 'SIGHUP: the config file is invalid; keeping the running config');
      return;
    }
    try {
      const change = await agent.applyLive(next.config);
      await change.afterAnswer?.();
      log.info({ file: v.config, applied: change.applied, restarted: change.restarted, restart_required: change.restart }, 'SIGHUP: config file re-read');
    } catch (e) {
      log.error({ err: (e as Error).message }, 'SIGHUP: applying the config file failed');
    }
  };

  await agent.start();
  const why = await Promise.race([signalled, agent.ended.then((end) => `source ${end}`)]);
  const code = await shutdown(why);
  // Child processes and sockets are closed by now and the log writes synchronously. Leave explicitly: a
  // library timer or a native handle (onnxruntime's worker, a WebRTC socket) must not keep us alive, or
  // take the exit code from us in a native teardown.
  process.exit(code);
}
