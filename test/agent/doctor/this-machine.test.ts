// `pafcast doctor` on the machine running the tests (root "/", real commands, real modules): the
// development/CI host, which is not a Jetson. Verdicts that depend on what the host has installed are
// computed independently here rather than assumed.

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/agent/config/load.js';
import { hostContext, runDoctor } from '../../../src/agent/doctor/run-doctor.js';
import type { CheckResult } from '../../../src/agent/doctor/types.js';

function onPath(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('doctor on this machine', () => {
  it('reports a non-Jetson development host as such, with onnxruntime ready', async () => {
    if (existsSync('/etc/nv_tegra_release')) return; // on a real Jetson the recorded-board tests apply instead
    const { config } = loadConfig({});
    const results = await runDoctor({ ...hostContext(config), engineDirs: [] });
    const v = (id: string) => results.find((r: CheckResult) => r.id === id)!;
    expect(v('board')).toMatchObject({ verdict: 'WARN', detail: 'not a Jetson (no /proc/device-tree/model)' });
    expect(v('jetpack').verdict).toBe('WARN');
    // glibc comes from Node's own report (Debian 12 here: 2.36, which also runs the wrtc prebuilt).
    const header = (process.report.getReport() as { header: { glibcVersionRuntime?: string } }).header;
    expect(v('glibc').detail).toBe(header.glibcVersionRuntime);
    expect(v('glibc').verdict).toBe('OK');
    expect(v('node')).toMatchObject({ verdict: 'OK', detail: process.version });
    expect(v('tensorrt')).toMatchObject({ verdict: 'WARN', detail: 'not installed (not a Jetson)' });
    expect(v('tensorrt.addon').verdict).toBe('OK');
    expect(v('tensorrt.addon').detail).toMatch(/^not used here/);
    expect(v('onnxruntime')).toMatchObject({ verdict: 'OK' });
    expect(v('onnxruntime').detail.split(', ')).toContain('cpu');
    expect(v('sharp')).toMatchObject({ verdict: 'OK', detail: 'loads' });
    expect(v('ffmpeg').verdict).toBe(onPath('ffmpeg') ? 'OK' : 'WARN');
    expect(v('gstreamer').verdict).toBe(onPath('gst-launch-1.0') ? 'OK' : 'WARN');
    expect(v('gstreamer.nvidia').verdict).toBe('OK');
    expect(v('encoder').detail).toMatch(/not a Jetson/);
    expect(v('power').detail).toMatch(/not a Jetson/);
    expect(v('mqtt')).toMatchObject({ verdict: 'OK', detail: 'mqtt.url is empty: the agent starts its embedded broker' });
    expect(results.every((r) => ['OK', 'WARN', 'FAIL'].includes(r.verdict) && (r.verdict === 'OK' || !!r.fix))).toBe(true);
  });
});
