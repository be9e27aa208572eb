// `pafcast` command dispatcher. Each subcommand lives in its own module exporting
// `command(argv): Promise<number>` (the exit code) and is imported only when used, so
// `pafcast detect` never loads MQTT or WebRTC code.

interface Subcommand {
  module: string;
  summary: string;
}

const commands: Record<string, Subcommand> = {
  detect: { module: './detect.js', summary: 'detect people in images, one JSON line per image' },
  eval: { module: './eval.js', summary: 'COCO keypoint AP/AR of a model or a predictions file' },
  'eval-events': { module: './eval-events.js', summary: 'score fall (and other pose) events on labelled clips' },
  run: { module: './run.js', summary: 'run the agent: camera -> poses -> MQTT (and the live view)' },
  engines: { module: './engines.js', summary: 'build and list TensorRT engines for the scale ladder' },
  doctor: { module: './doctor.js', summary: 'check this board, its libraries, engines and broker' },
  models: { module: './models.js', summary: 'fetch and verify the model files the manifests name' },
  keys: { module: './keys.js', summary: 'generate an Ed25519 key pair for signed remote config' },
  remote: { module: './remote.js', summary: 'get or set a device config over MQTT' },
};

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length));
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `usage: pafcast <command> [options]\n\ncommands:\n${lines.join('\n')}\n\n` +
    `Run \`pafcast <command> --help\` for the options of one command.\n`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name ? 0 : 2;
  }
  if (name === '--version') {
    const { readFileSync } = await import('node:fs');
    const pkg = JSON.parse(readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8')) as { version: string };
    process.stdout.write(`${pkg.version}\n`);
    return 0;
  }
  const sub = commands[name];
  if (!sub) {
    process.stderr.write(`pafcast: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  const mod = (await import(sub.module)) as { command(argv: string[]): Promise<number> };
  return mod.command(rest);
}
