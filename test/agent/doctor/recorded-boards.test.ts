// `pafcast doctor` on recorded board trees (test/fixtures/boards, see DOCTOR.md there) with a
// stand-in command runner: no host binary runs, nothing on the host is read outside the tree.

import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { command } from '../../../src/agent/cli/doctor.js';
import { loadConfig } from '../../../src/agent/config/load.js';
import { runDoctor } from '../../../src/agent/doctor/run-doctor.js';
import type { CheckResult, CommandResult, CommandRunner, DoctorContext, Verdict } from '../../../src/agent/doctor/types.js';
import { PROBED_ELEMENTS } from '../../../src/agent/preview/encoder-probe.js';
import { BackendUnavailableError } from '../../../src/runtime/backend.js';
import { fakeTrtAddon } from '../../runtime/backends/fake-trt-addon.js';
import { writeEngine } from '../../runtime/engines/fixtures.js';

const boards = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'boards');

/** `nvpmodel -q` blocks of shared/jetson/nvpmodel.txt, by the text of their header line. */
function recordedNvpmodel(headerStart: string): string {
  const text = readFileSync(join(boards, '..', '..', '..', '..', 'shared', 'jetson', 'nvpmodel.txt'), 'utf8');
  const block = text.split('\n=== ').find((b) => b.startsWith(headerStart));
  if (!block) throw new Error(`no nvpmodel block "${headerStart}"`);
  return `${block.split('\n').slice(1).join('\n').trim()}\n`;
}

const ok = (stdout = ''): CommandResult => ({ code: 0, stdout, stderr: '' });
/** What gst-inspect-1.0 answers for an element that is not installed: exit 1, message on stderr. */
const noElement = (el: string): CommandResult => ({ code: 1, stdout: '', stderr: `No such element or plugin '${el}'\n` });

/** Answers from a table keyed "file arg arg"; anything else is "command not found". Records every call. */
function runner(table: Record<string, CommandResult>): CommandRunner & { calls: string[] } {
  const calls: string[] = [];
  const run = (async (file: string, args: string[]) => {
    const key = [file, ...args].join(' ');
    calls.push(key);
    return key in table ? table[key] : null;
  }) as CommandRunner & { calls: string[] };
  run.calls = calls;
  return run;
}

const media = (missing: string[] = []): Record<string, CommandResult> => ({
  // Stand-in first lines, not recorded outputs: the checks only look at the exit code and echo line 1.
  'ffmpeg -hide_banner -version': ok('ffmpeg version (stand-in)\n'),
  'gst-launch-1.0 --version': ok('gst-launch-1.0 version (stand-in)\n'),
  ...Object.fromEntries(['nvv4l2decoder', 'nvvidconv', 'nvarguscamerasrc', ...PROBED_ELEMENTS].map((el) => [`gst-inspect-1.0 ${el}`, missing.includes(el) ? noElement(el) : ok()])),
});

function context(board: string, patch: Partial<DoctorContext> & { flags?: Record<string, unknown> }): DoctorContext {
  const { config, errors } = loadConfig({ flags: patch.flags ?? {} });
  expect(errors).toEqual([]);
  return {
    root: join(boards, board), config, run: runner({}), glibc: '2.35', node: 'v20.20.2',
    importModule: async () => ({}), addonLoader: () => { throw new BackendUnavailableError('TensorRT addon not built (pafcast_trt.node missing)'); },
    ortProviders: async () => ['cpu'], mqttProbe: async () => ({ ok: true, ms: 4 }), engineDirs: [], mqttTimeoutMs: 500,
    ...patch,
  };
}

const verdicts = (results: CheckResult[]) => Object.fromEntries(results.map((r) => [r.id, r.verdict])) as Record<string, Verdict>;
const byId = (results: CheckResult[], id: string) => results.find((r) => r.id === id)!;

describe('doctor on a TX2 with JetPack 4.6.1 (no addon built yet)', () => {
  const wrtcError = new Error("/lib/aarch64-linux-gnu/libc.so.6: version `GLIBC_2.34' not found (required by wrtc.node)");
  const sharpError = new Error("/lib/aarch64-linux-gnu/libc.so.6: version `GLIBC_2.28' not found (required by libvips-cpp.so)");
  const ctx = () => context('tx2-jp46', {
    glibc: '2.27',
    run: runner({ ...media(), 'nvpmodel -q': { code: 255, stdout: '', stderr: 'NVPM ERROR: failed to open /var/lib/nvpmodel/status\n' } }),
    importModule: async (name) => {
      if (name === 'werift') return {}; // pure TypeScript: loads on any glibc
      throw name === 'sharp' ? sharpError : wrtcError;
    },
    flags: { 'mqtt.url': 'mqtt://broker.lan:1883' },
  });

  it('gives the expected verdict per line', async () => {
    const results = await runDoctor(ctx());
    expect(verdicts(results)).toEqual({
      board: 'OK', jetpack: 'OK', glibc: 'WARN', node: 'OK', tensorrt: 'OK', 'tensorrt.addon': 'WARN', 'tensorrt.engines': 'WARN',
      onnxruntime: 'OK', sharp: 'FAIL', ffmpeg: 'OK', gstreamer: 'OK', 'gstreamer.nvidia': 'OK', encoder: 'OK',
      'preview.encoder': 'OK', 'preview.transport': 'OK', cameras: 'OK',
      thermal: 'OK', power: 'WARN', mqtt: 'OK',
    });
  });

  it('says what was found and how to fix each warning', async () => {
    const results = await runDoctor(ctx());
    expect(byId(results, 'board').detail).toBe('quill (tx2)');
    expect(byId(results, 'jetpack').detail).toMatch(/^L4T R32.7.1 = JetPack 4.6.1 \(Ubuntu 18.04: Node 20 needs the unofficial glibc-217 build/);
    expect(byId(results, 'glibc').fix).toMatch(/unofficial-builds.nodejs.org \(linux-arm64-glibc-217\)/);
    expect(byId(results, 'tensorrt').detail).toBe('8.2.1 (/usr/include/aarch64-linux-gnu/NvInferVersion.h, /usr/lib/aarch64-linux-gnu/libnvinfer.so.8)');
    expect(byId(results, 'tensorrt.addon').fix).toMatch(/^build it: scripts\/build-tensorrt-addon.sh/);
    // The live view on glibc 2.27: NVENC through GStreamer, WebRTC in TypeScript (no glibc-2.34 binary).
    expect(byId(results, 'preview.encoder').detail).toBe('nvv4l2h264enc (hardware H.264): NVENC (/dev/nvhost-msenc) with nvv4l2h264enc and nvvidconv (preview.enabled is false)');
    expect(byId(results, 'preview.transport').detail).toMatch(/^werift: WebRTC in TypeScript, no native code/);
    expect(byId(results, 'thermal').detail).toMatch(/^8: BCPU-therm/);
    expect(byId(results, 'power').detail).toMatch(/nvpmodel -q gave no mode \(exit 255: NVPM ERROR/);
    expect(byId(results, 'sharp').fix).toMatch(/prebuilt libvips needs glibc 2.28/);
  });
});

describe('doctor on a Xavier with JetPack 5.1 (addon built, engine present, broker down)', () => {
  async function ctx() {
    const engineDir = await mkdtemp(join(tmpdir(), 'pafcast-doctor-'));
    const xavier = { tensorrt: '8.5.2', gpu: { name: 'Xavier', computeCapability: '7.2' } };
    await writeEngine(engineDir, { identity: xavier });
    const run = runner({ ...media(['nvarguscamerasrc']), 'nvpmodel -q': ok(recordedNvpmodel('Jetson AGX Xavier, JetPack 4.x')) });
    return context('xavier-jp51', {
      glibc: '2.31', run, engineDirs: [engineDir],
      addonLoader: () => fakeTrtAddon({ info: { runtime: '8.5.2', compiledWith: '8.5.2', gpu: { name: 'Xavier', computeCapability: '7.2', integrated: true } } }),
      importModule: async (name) => {
        if (name === '@roamhq/wrtc') throw new Error("/lib/aarch64-linux-gnu/libc.so.6: version `GLIBC_2.34' not found (required by wrtc.node)");
        return {};
      },
      mqttProbe: async () => ({ ok: false, ms: 500, error: 'connect ECONNREFUSED 192.0.2.7:1883' }),
      flags: { 'mqtt.url': 'mqtt://192.0.2.7:1883' },
    });
  }

  it('gives the expected verdict per line', async () => {
    const results = await runDoctor(await ctx());
    expect(verdicts(results)).toEqual({
      board: 'OK', jetpack: 'OK', glibc: 'OK', node: 'OK', tensorrt: 'OK', 'tensorrt.addon': 'OK', 'tensorrt.engines': 'OK',
      onnxruntime: 'OK', sharp: 'OK', ffmpeg: 'OK', gstreamer: 'OK', 'gstreamer.nvidia': 'WARN', encoder: 'OK',
      'preview.encoder': 'OK', 'preview.transport': 'OK', cameras: 'WARN',
      thermal: 'OK', power: 'OK', mqtt: 'FAIL',
    });
    expect(byId(results, 'jetpack').detail).toBe('L4T R35.2.1 = JetPack 5.1');
    expect(byId(results, 'tensorrt.addon').detail).toBe('loads: TensorRT 8.5.2 on Xavier (sm72), named-tensors API, built against 8.5.2, zero-copy mapped memory');
    expect(byId(results, 'tensorrt.engines').detail).toMatch(/^lightweight-openpose-coco18\.44f4a4890c76\.trt8\.5\.2\.xavier-sm72\.fp16\.engine covers heights/);
    expect(byId(results, 'gstreamer.nvidia').detail).toBe('missing: nvarguscamerasrc; found: nvv4l2decoder, nvvidconv');
    expect(byId(results, 'power').detail).toBe('MAXN');
    expect(byId(results, 'mqtt').detail).toBe('mqtt://192.0.2.7:1883: connect ECONNREFUSED 192.0.2.7:1883');
  });

  it('exits 1 and prints JSON with --json --root when a check fails', async () => {
    const { root: _root, ...rest } = await ctx();
    const out: string[] = [];
    const code = await command(['--json', '--root', join(boards, 'xavier-jp51')], rest, (t) => out.push(t));
    expect(code).toBe(1);
    const report = JSON.parse(out.join(''));
    expect(report.verdict).toBe('FAIL');
    expect(report.checks.find((c: CheckResult) => c.id === 'board').detail).toBe('Jetson-AGX (xavier)');
    expect(report.checks.every((c: CheckResult) => ['OK', 'WARN', 'FAIL'].includes(c.verdict))).toBe(true);
  });
});

describe('doctor on an Orin Nano with JetPack 6.2 (engine from before the upgrade)', () => {
  async function ctx() {
    const engineDir = await mkdtemp(join(tmpdir(), 'pafcast-doctor-'));
    await writeEngine(engineDir, { identity: { tensorrt: '8.6.2', gpu: { name: 'Orin', computeCapability: '8.7' } } });
    // Mosquitto as Ubuntu 22.04 (JetPack 6) installs it (scripts/install.sh): the embedded broker line is OK.
    const run = runner({ ...media(), 'nvpmodel -q': ok(recordedNvpmodel('Jetson Orin Nano devkit (Super)')), 'mosquitto -h': { code: 3, stdout: 'mosquitto version 2.0.11\n', stderr: '' } });
    return context('orin-nano-jp6', {
      glibc: '2.35', run, engineDirs: [engineDir],
      addonLoader: () => fakeTrtAddon({ info: { runtime: '10.3.0', compiledWith: '10.3.0' } }),
    });
  }

  it('gives the expected verdict per line', async () => {
    const c = await ctx();
    const results = await runDoctor(c);
    expect(verdicts(results)).toEqual({
      board: 'OK', jetpack: 'OK', glibc: 'OK', node: 'OK', tensorrt: 'OK', 'tensorrt.addon': 'OK', 'tensorrt.engines': 'WARN',
      onnxruntime: 'OK', sharp: 'OK', ffmpeg: 'OK', gstreamer: 'OK', 'gstreamer.nvidia': 'OK', encoder: 'WARN',
      'preview.encoder': 'OK', 'preview.transport': 'OK', cameras: 'OK',
      thermal: 'OK', power: 'OK', mqtt: 'OK', broker: 'OK',
    });
    expect(byId(results, 'board').detail).toBe('NVIDIA Jetson Orin Nano Engineering Reference Developer Kit Super (orin-nano)');
    expect(byId(results, 'jetpack').detail).toBe('L4T R36.4.3 = JetPack 6.2');
    expect(byId(results, 'tensorrt').detail).toMatch(/^10\.3\.0 /);
    expect(byId(results, 'tensorrt.engines').detail).toMatch(/stale: TensorRT changed: built with 8.6.2, running 10.3.0/);
    expect(byId(results, 'tensorrt.engines').fix).toMatch(/^pafcast engines build --model lightweight-openpose-coco18 --heights .* --precision fp16 --aspect 16:9/);
    expect(byId(results, 'encoder')).toMatchObject({ detail: 'Orin Nano has no NVENC' });
    expect(byId(results, 'power').detail).toBe('MAXN_SUPER (mode 2)');
    expect(byId(results, 'mqtt').detail).toMatch(/embedded broker/);
    // Every command doctor ran went to the stand-in.
    expect((c.run as CommandRunner & { calls: string[] }).calls).toEqual([
      'ffmpeg -hide_banner -version', 'gst-launch-1.0 --version', 'gst-inspect-1.0 nvv4l2decoder', 'gst-inspect-1.0 nvvidconv',
      'gst-inspect-1.0 nvarguscamerasrc', 'gst-launch-1.0 --version', ...PROBED_ELEMENTS.map((el) => `gst-inspect-1.0 ${el}`), 'nvpmodel -q', 'mosquitto -h',
    ]);
  });

  it('prints one OK/WARN/FAIL line per check with the fix under it', async () => {
    const { root: _root, ...rest } = await ctx();
    const out: string[] = [];
    expect(await command(['--root', join(boards, 'orin-nano-jp6')], rest, (t) => out.push(t))).toBe(0);
    const text = out.join('');
    expect(text).toMatch(/^OK   board +NVIDIA Jetson Orin Nano/m);
    expect(text).toMatch(/^WARN hardware video encoder +Orin Nano has no NVENC\n +fix: the preview encodes in software/m);
    expect(text).toMatch(/^OK   live view encoder +x264enc \(software H.264, on the CPU\): software encoder \(not nvv4l2h264enc: no NVENC device node/m);
    expect(text).toMatch(/\n18 OK, 2 WARN, 0 FAIL\n$/);
  });
});

describe('doctor when the addon was built for another TensorRT', () => {
  it('fails the addon line and says to rebuild', async () => {
    const results = await runDoctor(context('orin-nano-jp6', { addonLoader: () => fakeTrtAddon({ info: { runtime: '10.3.0', compiledWith: '8.6.2' } }) }));
    expect(byId(results, 'tensorrt.addon')).toMatchObject({ verdict: 'FAIL', fix: 'rebuild it after the TensorRT upgrade: scripts/build-tensorrt-addon.sh' });
  });
});
