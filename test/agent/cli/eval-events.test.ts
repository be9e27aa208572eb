import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CaptureSource } from '../../../src/agent/capture/capture-source.js';
import { formatTable, HoldLastFrame, parseLabels, scoreClip, summarise, type ClipResult, type ReportedEvent } from '../../../src/agent/cli/eval-events.js';
import { ensureBuilt } from '../helpers/agent-process.js';
import { recordingLogger } from '../capture/helpers.js';
import { repoRoot, sharedPath } from '../../support/shared.js';

const run = promisify(execFile);
const bin = join(repoRoot, 'bin', 'pafcast.js');
const falls = sharedPath('media', 'falls');

async function evalEvents(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, 'eval-events', ...args], { maxBuffer: 1 << 24 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

beforeAll(() => ensureBuilt());

describe('pafcast eval-events on the UR Fall clips (real model, real ffmpeg)', () => {
  it('finds both falls and raises no fall on the two ADL clips', async () => {
    const { code, stdout, stderr } = await evalEvents(['--labels', join(falls, 'labels.json'), '--clips', falls, '--json']);
    expect(code, stderr).toBe(0);
    const report = JSON.parse(stdout) as {
      recall: number; precision: number; adl_false_alarm_rate: number; median_delay_s: number; hold_last_s: number;
      clips: Array<ClipResult & { events: ReportedEvent[] }>;
    };
    expect(report.clips.map((c) => [c.file, c.label])).toEqual([
      ['fall-01-cam0.mp4', 'fall'], ['fall-12-cam0.mp4', 'fall'], ['adl-01-cam0.mp4', 'adl'], ['adl-11-cam0.mp4', 'adl'],
    ]);
    for (const c of report.clips) {
      const falling = c.events.filter((e) => e.type === 'fall');
      if (c.label === 'fall') {
        expect(c.found, `${c.file}: ${JSON.stringify(c.events)}`).toBe(true);
        expect(falling, c.file).toHaveLength(1);
        expect(falling[0].t_s).toBeGreaterThanOrEqual(c.down_s! - 1);
        expect(falling[0].t_s).toBeLessThanOrEqual(c.down_s! + report.hold_last_s);
      } else expect(falling, `${c.file}: ${JSON.stringify(c.events)}`).toEqual([]);
    }
    expect(report.recall).toBe(1);
    expect(report.precision).toBe(1);
    expect(report.adl_false_alarm_rate).toBe(0);
    expect(report.median_delay_s).toBeLessThanOrEqual(2);
    // Every frame of each clip plus hold_last_s × 30 fps held frames: 160 + 90, 110 + 90, 150 + 90, 300 + 90.
    expect(report.clips.map((c) => c.frames)).toEqual([250, 200, 240, 390]);
    // 1,080 frames of real inference: ~4 min on an idle 2-core machine, up to ~17 min seen while shared.
  }, 1_800_000);

  it('bad input: one clear line and exit code 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pafcast-eval-events-'));
    const noDown = join(dir, 'no-down.json');
    writeFileSync(noDown, JSON.stringify({ clips: [{ file: 'fall-01-cam0.mp4', label: 'fall' }] }));
    const missing = join(dir, 'missing.json');
    writeFileSync(missing, JSON.stringify({ clips: [{ file: 'nope.mp4', label: 'adl' }] }));
    const cases: Array<[string[], RegExp]> = [
      [['--clips', falls], /--labels and --clips are required/],
      [['--labels', join(dir, 'absent.json'), '--clips', falls], /absent\.json: no such file/],
      [['--labels', noDown, '--clips', falls], /clips\[0\]\.down_s \(s\) is required for a fall/],
      [['--labels', missing, '--clips', falls], /not in .*: nope\.mp4/],
      [['--labels', join(falls, 'labels.json'), '--clips', falls, '--height', 'x'], /--height must be a non-negative integer/],
    ];
    for (const [args, message] of cases) {
      const r = await evalEvents(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    }
  });
});

describe('eval-events scoring', () => {
  const fall = (t_s: number, id = 1): ReportedEvent => ({ type: 'fall', id, t_s, frame: Math.round(t_s * 30) });
  const clip = (label: 'fall' | 'adl', events: ReportedEvent[], down_s?: number) =>
    scoreClip({ file: `${label}.mp4`, label, ...(down_s === undefined ? {} : { down_s }), frames: 100, events }, 3);

  it('a fall counts between down_s - 1 and down_s + hold_last_s, the first one only', () => {
    expect(clip('fall', [fall(2.7)], 3.7)).toMatchObject({ found: true, delay_s: -1, false_falls: 0 });
    expect(clip('fall', [fall(6.7)], 3.7)).toMatchObject({ found: true, delay_s: 3, false_falls: 0 });
    expect(clip('fall', [fall(2.6)], 3.7)).toMatchObject({ found: false, false_falls: 1 });
    expect(clip('fall', [fall(6.8)], 3.7)).toMatchObject({ found: false, false_falls: 1 });
    expect(clip('fall', [fall(0.5), fall(4.5), fall(5)], 3.7)).toMatchObject({ found: true, delay_s: 0.8, false_falls: 2 });
    // Other event types are listed but never scored.
    expect(clip('adl', [{ type: 'hands_up', id: 1, t_s: 2, frame: 60 }])).toMatchObject({ false_falls: 0 });
    expect(clip('adl', [fall(1), fall(2)])).toMatchObject({ false_falls: 2 });
  });

  it('summarises recall, precision, ADL false alarms and the median delay', () => {
    const clips = [clip('fall', [fall(4.5)], 3.7), clip('fall', [fall(3.0)], 1.8), clip('fall', [], 2), clip('adl', [fall(1), fall(2)]), clip('adl', []), clip('adl', [])];
    expect(summarise(clips)).toEqual({
      recall: 0.6667, precision: 0.5, adl_false_alarm_rate: 0.3333, adl_false_alarms_per_clip: 0.6667, median_delay_s: 1, falls: 3, adls: 3,
    });
    // A clip that could not be run is left out of every figure.
    expect(summarise([...clips, { ...clip('fall', [], 2), error: 'cannot read' }]).falls).toBe(3);
    expect(summarise([])).toMatchObject({ recall: null, precision: null, median_delay_s: null });
    const table = formatTable(clips, summarise(clips), 3);
    expect(table).toMatch(/\| fall\.mp4 \| fall +\| 3\.70 +\| 100 +\| fall#1@4\.50 +\| found, delay 0\.80 s +\|/);
    expect(table).toContain('FALSE ALARM (2)');
    expect(table).toContain('recall 0.667  precision 0.500  ADL false alarm rate 0.333');
  });

  it('parses the labels format and names what is wrong', () => {
    const ok = parseLabels(JSON.stringify({ crop: { x: 320, y: 0, width: 320, height: 240 }, hold_last_s: 3, clips: [{ file: 'a.mp4', label: 'adl', down_s: 1 }] }), 'l.json');
    expect(ok).toEqual({ crop: { x: 320, y: 0, width: 320, height: 240 }, hold_last_s: 3, clips: [{ file: 'a.mp4', label: 'adl' }] });
    expect(parseLabels('{"clips":[{"file":"a.mp4","label":"fall","down_s":2}]}', 'l').hold_last_s).toBe(0);
    expect(() => parseLabels('{', 'l.json')).toThrow('l.json: not JSON');
    expect(() => parseLabels('{"clips":[]}', 'l.json')).toThrow('"clips" is empty');
    expect(() => parseLabels('{"clips":[{"file":"a","label":"walk"}]}', 'l.json')).toThrow('clips[0].label must be "fall" or "adl"');
    expect(() => parseLabels('{"crop":{"x":-1,"y":0,"width":1,"height":1},"clips":[{"file":"a","label":"adl"}]}', 'l.json')).toThrow('crop.x');
    expect(() => parseLabels('{"hold_last_s":-1,"clips":[{"file":"a","label":"adl"}]}', 'l.json')).toThrow('hold_last_s');
  });
});

describe('holding the last frame', () => {
  const sources: CaptureSource[] = [];
  afterEach(async () => {
    await Promise.all(sources.splice(0).map((s) => s.stop()));
  });
  const sha = (d: Uint8Array) => createHash('sha256').update(d).digest('hex');

  it("equals ffmpeg's tpad=stop_mode=clone: the same frames, the last one repeated, source time running on", async () => {
    const clipPath = join(falls, 'fall-12-cam0.mp4');
    const capture = new CaptureSource({ uri: clipPath, mode: 'every-frame', output_height: 0, crop: { x: 320, y: 0, width: 320, height: 240 } }, recordingLogger());
    sources.push(capture);
    const held = new HoldLastFrame(capture, 90, 1000 / 30);
    capture.start();
    const ours: Array<{ hash: string; index: number; mediaMs: number }> = [];
    for (let f = await held.next(); f; f = await held.next()) ours.push({ hash: sha(f.data), index: f.index!, mediaMs: f.mediaMs! });

    const size = 320 * 240 * 3;
    const raw = execFileSync('ffmpeg', ['-v', 'error', '-nostdin', '-i', clipPath, '-vf', 'crop=320:240:320:0,tpad=stop_mode=clone:stop_duration=3',
      '-pix_fmt', 'bgr24', '-f', 'rawvideo', 'pipe:1'], { maxBuffer: 256 << 20 });
    const theirs: string[] = [];
    for (let o = 0; o + size <= raw.length; o += size) theirs.push(sha(raw.subarray(o, o + size)));

    expect(ours).toHaveLength(110 + 90);
    expect(ours.map((f) => f.hash)).toEqual(theirs);
    expect(new Set(ours.slice(109).map((f) => f.hash)).size).toBe(1);
    expect(ours.map((f) => f.index)).toEqual(ours.map((_, i) => i));
    expect(ours[199].mediaMs).toBeCloseTo((199 * 1000) / 30, 6);
  }, 120_000);
});
