// The live view's encoder choice and commands. The NVIDIA pipeline is built from what a Jetson's
// gst-inspect-1.0 says (recorded output, fixtures/jetson-gst-inspect, through a stand-in that answers like the
// board) and checked element by element against those recordings; the software pipelines against this
// machine's own gst-inspect-1.0 (encoder.test.ts runs them for real).

import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { previewConfig } from '../../../src/agent/preview/config-schema.js';
import { chooseEncoder, encoderCommand, encoderEnv, encoderMallocTunables, EncoderUnavailableError, ENCODER_TEMPLATES, type EncoderChoice, type EncoderName, type EncoderTools } from '../../../src/agent/preview/encoder-plan.js';
import { PROBED_ELEMENTS, probeEncoderTools } from '../../../src/agent/preview/encoder-probe.js';
import { capsFit, jetsonStandIn, localInspect, parseInspect, parseLaunch, recordedInspect, valueProblem, type Stage } from './support/gst-inspect.js';
import { access } from 'node:fs/promises';

const boards = fileURLToPath(new URL('../../fixtures/boards/', import.meta.url));
const onBoard = (board: string) => (path: string) => access(join(boards, board, path)).then(() => true, () => false);
const params = { width: 640, height: 360, fps: 15, bitrateKbps: 1000, keyframeIntervalS: 2, ssrc: 0x1234abcd, pt: 96, mtu: 1200 };
const encoderCfg = (over: object = {}) => previewConfig({ encoder: over as never }).encoder;

function tools(elements: string[], nvencDevice: string | null = null): EncoderTools {
  return { gstLaunch: true, elements: new Set(elements), nvencDevice };
}
const all = [...PROBED_ELEMENTS];

/**
 * Checks a gst-launch argv element by element against gst-inspect outputs: each element is known, each property
 * exists, is writable and takes the value given; each caps filter fits the src pad before it and the sink pad after.
 */
function checkPipeline(argv: readonly string[], inspect: (element: string) => string | null): string[] {
  const problems: string[] = [];
  for (const chain of parseLaunch(argv)) {
    chain.forEach((stage, i) => {
      if (stage.kind === 'element') {
        const text = inspect(stage.factory);
        if (!text) return problems.push(`${stage.factory}: no gst-inspect output`);
        const { properties } = parseInspect(text);
        for (const [k, v] of stage.props) {
          const p = properties.get(k);
          if (!p) problems.push(`${stage.factory}: no property ${k}`);
          else {
            const why = valueProblem(p, v);
            if (why) problems.push(`${stage.factory}: ${why}`);
          }
        }
      } else if (stage.kind === 'caps') {
        const near = (s: Stage | undefined, dir: 'src' | 'sink') => {
          if (s?.kind !== 'element') return;
          const text = inspect(s.factory);
          const pad = text && parseInspect(text).pads.find((p) => p.direction === dir);
          if (pad && !capsFit(stage.caps, pad.caps)) problems.push(`caps ${stage.caps.media}(${stage.caps.features}) do not fit ${s.factory}'s ${dir} pad`);
        };
        near(chain[i - 1], 'src');
        near(chain[i + 1], 'sink');
      }
    });
  }
  return problems;
}

describe('encoder choice', () => {
  it('takes NVENC where the board has the device node and the elements, and says so', () => {
    const c = chooseEncoder(encoderCfg(), tools(all, '/dev/nvhost-msenc'));
    expect(c).toMatchObject({ encoder: 'nvv4l2h264enc', codec: 'H264', hardware: true });
    expect(c.why).toBe('NVENC (/dev/nvhost-msenc) with nvv4l2h264enc and nvvidconv');
  });

  it('falls back to x264enc without NVENC (Orin Nano: the element exists, the encoder does not), naming why', () => {
    const c = chooseEncoder(encoderCfg(), tools(all, null));
    expect(c).toMatchObject({ encoder: 'x264enc', codec: 'H264', hardware: false });
    expect(c.why).toMatch(/not nvv4l2h264enc: no NVENC device node \(\/dev\/nvhost-msenc, \/dev\/v4l2-nvenc\)/);
  });

  it('goes down the list: openh264enc without x264enc, VP8 without either, and fails with every reason', () => {
    const without = (...gone: string[]) => all.filter((e) => !gone.includes(e));
    expect(chooseEncoder(encoderCfg(), tools(without('x264enc'))).encoder).toBe('openh264enc');
    const vp8 = chooseEncoder(encoderCfg(), tools(without('x264enc', 'openh264enc')));
    expect(vp8).toMatchObject({ encoder: 'vp8enc', codec: 'VP8' });
    expect(vp8.why).toMatch(/not x264enc: gst-inspect-1.0 does not find x264enc \(gstreamer1.0-plugins-ugly\)/);
    expect(() => chooseEncoder(encoderCfg(), tools(without('x264enc', 'openh264enc', 'vp8enc')))).toThrow(EncoderUnavailableError);
    expect(() => chooseEncoder(encoderCfg(), { gstLaunch: false, elements: new Set(), nvencDevice: null })).toThrow(/gst-launch-1.0 is not installed/);
    expect(() => chooseEncoder(encoderCfg(), tools(without('rtpstreampay')))).toThrow(/rtpstreampay.*gstreamer1.0-plugins-good/);
  });

  it('honours preview.encoder.use, and refuses one that cannot run here', () => {
    expect(chooseEncoder(encoderCfg({ use: 'vp8enc' }), tools(all, '/dev/nvhost-msenc')).encoder).toBe('vp8enc');
    expect(() => chooseEncoder(encoderCfg({ use: 'nvv4l2h264enc' }), tools(all, null))).toThrow(/use is nvv4l2h264enc, which cannot run here: no NVENC/);
  });

  it('runs a configured pipeline as given, with its placeholders filled, and rejects unknown placeholders', () => {
    const cfg = encoderCfg({ pipeline: ['my-encoder', '--size={width}x{height}', '--rate={fps}', '--kbps={bitrate_kbps}', '--ssrc={ssrc}'], codec: 'vp8' });
    const c = chooseEncoder(cfg, tools([]));
    expect(c).toMatchObject({ encoder: 'custom', codec: 'VP8' });
    expect(encoderCommand(c, params, cfg.pipeline)).toEqual(['my-encoder', '--size=640x360', '--rate=15/1', '--kbps=1000', `--ssrc=${0x1234abcd}`]);
    expect(() => encoderCommand(c, params, ['x', '{nope}'])).toThrow(/preview.encoder.pipeline: unknown placeholder \{nope\}/);
  });
});

describe('the NVIDIA pipeline, from recorded gst-inspect-1.0 output of a Jetson', () => {
  it('is what the probe picks on the recorded Xavier board tree with a stand-in that answers like the board', async () => {
    const found = await probeEncoderTools(jetsonStandIn(), onBoard('xavier-jp51'));
    expect(found.nvencDevice).toBe('/dev/nvhost-msenc');
    expect(found.elements.has('nvv4l2h264enc') && found.elements.has('nvvidconv')).toBe(true);
    expect(chooseEncoder(encoderCfg(), found).encoder).toBe('nvv4l2h264enc');
    // The Orin Nano tree has no encoder node: software, even though the element answers.
    const nano = await probeEncoderTools(jetsonStandIn({ stock: [...PROBED_ELEMENTS.filter((e) => !e.startsWith('nv'))] }), onBoard('orin-nano-jp6'));
    expect(nano.nvencDevice).toBeNull();
    expect(chooseEncoder(encoderCfg(), nano).encoder).toBe('x264enc');
  });

  const nv: EncoderChoice = { encoder: 'nvv4l2h264enc', codec: 'H264', hardware: true, why: '' };
  const argv = encoderCommand(nv, params);
  const inspect = (el: string) => recordedInspect(el) ?? localInspect(el);

  it('uses every element and property as the recorded Jetson elements define them', () => {
    expect(recordedInspect('nvv4l2h264enc')).not.toBeNull();
    expect(checkPipeline(argv, inspect)).toEqual([]);
  });

  it('sends NVMM I420 into nvv4l2h264enc with SPS/PPS at every IDR, bit/s bitrate, baseline, a GOP of the keyframe interval', () => {
    const chain = parseLaunch(argv)[0]!;
    const names = chain.map((s) => (s.kind === 'element' ? s.factory : s.kind === 'caps' ? `${s.caps.media}(${s.caps.features})` : s.ref));
    expect(names.slice(0, 7)).toEqual(['fdsrc', 'rawvideoparse', 'nvvidconv', 'video/x-raw(memory:NVMM)', 'nvv4l2h264enc', 'video/x-h264()', 'rtph264pay']);
    const enc = chain.find((s) => s.kind === 'element' && s.factory === 'nvv4l2h264enc') as Extract<Stage, { kind: 'element' }>;
    expect(Object.fromEntries(enc.props)).toEqual({
      'insert-sps-pps': 'true', profile: '0', 'preset-level': '1', 'control-rate': '1', 'maxperf-enable': 'true',
      iframeinterval: '30', idrinterval: '30', bitrate: '1000000',
    });
    // What those numbers mean on the board, read from the recording rather than assumed.
    const props = parseInspect(recordedInspect('nvv4l2h264enc')!).properties;
    const nick = (name: string, v: string) => (props.get(name)!.type as { values: Array<{ value: number; nick: string }> }).values.find((e) => String(e.value) === v)?.nick;
    expect([nick('profile', '0'), nick('control-rate', '1'), nick('preset-level', '1')]).toEqual(['Baseline', 'constant_bitrate', 'UltraFastPreset']);
    // The caps filter before the encoder is what nvvidconv gives and nvv4l2h264enc takes.
    const nvmm = chain[3] as Extract<Stage, { kind: 'caps' }>;
    expect(Object.fromEntries(nvmm.caps.fields)).toEqual({ format: 'I420' });
  });

  it('would be caught by the check: a property the board does not have, a value out of range, caps the encoder does not take', () => {
    const bad = argv.map((a) => (a === 'profile=0' ? 'profile=1' : a === 'maxperf-enable=true' ? 'zerolatency=true' : a === 'video/x-raw(memory:NVMM),format=I420' ? 'video/x-raw,format=I420' : a));
    const problems = checkPipeline(bad, inspect);
    expect(problems).toContain('nvv4l2h264enc: profile=1: not one of 0 (Baseline), 2 (Main), 4 (High), 7 (High444)');
    expect(problems).toContain('nvv4l2h264enc: no property zerolatency');
    expect(problems).toContain("caps video/x-raw() do not fit nvv4l2h264enc's sink pad");
  });
});

describe('the software pipelines, against this machine\'s gst-inspect-1.0', () => {
  for (const name of ['x264enc', 'openh264enc', 'vp8enc'] as EncoderName[]) {
    const present = localInspect(name) !== null;
    it.skipIf(!present)(`${name}: every element, property and caps filter is valid`, () => {
      const argv = encoderCommand({ encoder: name, codec: name === 'vp8enc' ? 'VP8' : 'H264', hardware: false, why: '' }, params);
      expect(checkPipeline(argv, localInspect)).toEqual([]);
    });
    if (!present) console.warn(`[encoder-plan test] ${name} not installed here: its pipeline check is skipped`);
  }

  it('x264enc: zero-latency constrained baseline at the configured kbit/s with a GOP of the keyframe interval; no bitrate at 0', () => {
    const argv = encoderCommand({ encoder: 'x264enc', codec: 'H264', hardware: false, why: '' }, params);
    expect(argv.join(' ')).toContain('x264enc tune=zerolatency speed-preset=ultrafast key-int-max=30 threads=1 bitrate=1000 ! video/x-h264,stream-format=byte-stream,alignment=au,profile=constrained-baseline');
    expect(argv.join(' ')).toContain('rtph264pay pt=96 ssrc=305441741 timestamp-offset=0 mtu=1200 config-interval=-1');
    expect(encoderCommand({ encoder: 'x264enc', codec: 'H264', hardware: false, why: '' }, { ...params, bitrateKbps: 0 }).some((a) => a.startsWith('bitrate='))).toBe(false);
    expect(argv.slice(0, 2)).toEqual(['gst-launch-1.0', '-q']);
  });

  it('every built-in template uses only the elements the probe asks about', () => {
    for (const [name, template] of Object.entries(ENCODER_TEMPLATES)) {
      const elements = parseLaunch(template.filter((a) => !a.startsWith('{'))).flat().filter((s) => s.kind === 'element').map((s) => (s as { factory: string }).factory);
      for (const e of elements) expect(PROBED_ELEMENTS, `${name} uses ${e}`).toContain(e);
    }
  });

  it('keeps frame buffers of every preview size below the child\'s mmap threshold, within what glibc accepts, a GLIBC_TUNABLES already set still winning', () => {
    const threshold = (t: string) => Number(/mmap_threshold=(\d+)/.exec(t)![1]);
    const trim = (t: string) => Number(/trim_threshold=(\d+)/.exec(t)![1]);
    for (const [w, h] of [[320, 180], [640, 360], [1280, 720], [1920, 1080]]) {
      const frame = (w! * h! * 3) / 2;
      const t = encoderMallocTunables(frame);
      expect(threshold(t)).toBeGreaterThanOrEqual(4 * frame);
      expect(trim(t)).toBe(2 * threshold(t));
    }
    expect(threshold(encoderMallocTunables(3840 * 2160 * 1.5))).toBe(32 << 20); // glibc ignores a larger one
    const user = { PATH: '/usr/bin', GLIBC_TUNABLES: 'glibc.malloc.trim_threshold=1' };
    const env = encoderEnv(640 * 360 * 1.5, user);
    expect(env.GLIBC_TUNABLES).toBe(`${encoderMallocTunables(640 * 360 * 1.5)}:glibc.malloc.trim_threshold=1`);
    expect(env.PATH).toBe('/usr/bin');
    expect(user.GLIBC_TUNABLES).toBe('glibc.malloc.trim_threshold=1');
    expect(encoderEnv(100, {}).GLIBC_TUNABLES).toBe(encoderMallocTunables(100));
  });
});
