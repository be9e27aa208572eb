// `pafcast doctor`: one line per check (OK / WARN / FAIL, with the fix), or --json.

import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load.js';
import { engineSearchDirs } from '../../runtime/engines/naming.js';
import { formatReport, hostContext, runDoctor, worstVerdict } from '../doctor/run-doctor.js';
import type { DoctorContext } from '../doctor/types.js';
import { cliError, intOption } from './common.js';

const help = `usage: pafcast doctor [options]

Checks this board for what pafcast needs: board and JetPack, glibc and Node, TensorRT and its addon,
engines for the ladder, onnxruntime, WebRTC, ffmpeg/GStreamer and the NVIDIA elements, the video
encoder, cameras, thermal zones, the power mode and the MQTT broker. Exit code 0 unless a check FAILs.

options:
  -c, --config FILE   agent config (model, ladder, MQTT broker) to check against
  --json              machine-readable output: {"verdict", "checks": [{id,title,verdict,detail,fix}]}
  --root DIR          read board files under DIR instead of / (recorded trees, containers)
  --timeout-ms N      MQTT connect timeout (default 3000)
`;

/** `overrides` replace parts of the host context (tests run recorded trees with recorded command outputs). */
export async function command(argv: string[], overrides: Partial<DoctorContext> = {}, out: (t: string) => void = (t) => process.stdout.write(t)): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        config: { type: 'string', short: 'c' }, json: { type: 'boolean' }, root: { type: 'string' },
        'timeout-ms': { type: 'string' }, help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    return cliError('doctor', (e as Error).message, 2);
  }
  if (values.help) {
    out(help);
    return 0;
  }
  const { config, errors } = loadConfig({ file: values.config, env: process.env });
  if (errors.length) return cliError('doctor', `invalid configuration:\n${errors.join('\n')}`, 2);
  let timeout: number | undefined;
  try {
    timeout = intOption('--timeout-ms', values['timeout-ms']);
  } catch (e) {
    return cliError('doctor', (e as Error).message, 2);
  }
  const ctx: DoctorContext = { ...hostContext(config, values.root ?? '/', timeout ?? 3000), engineDirs: engineSearchDirs(config.inference.tensorrt.engine_dir), ...overrides };
  const results = await runDoctor(ctx);
  const verdict = worstVerdict(results);
  out(values.json ? `${JSON.stringify({ verdict, checks: results }, null, 2)}\n` : formatReport(results));
  return verdict === 'FAIL' ? 1 : 0;
}
