// `pafcast eval-events`: runs labelled clips through the agent's own frame loop (CaptureSource in every-frame
// mode with the labels' crop → PosePipeline → PoseRuntime → PoseTracker) with the event engine listening to it,
// and scores the `fall` events against the labels: recall, precision, false alarms on activities of daily
// living (ADL) and the delay from the moment the person is on the floor to the event.
//
// Scoring rule (issue 16): a fall clip's fall is found when a `fall` event comes between down_s − 1 and
// down_s + hold_last_s; any `fall` in an ADL clip is a false alarm. Event precision counts, of all `fall`
// events, the first in-window one of each fall clip as true and every other one as false.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pino } from 'pino';
import { CaptureSource } from '../capture/capture-source.js';
import { probeInput } from '../capture/probe.js';
import { detectTools } from '../capture/tools.js';
import { loadConfig } from '../config/load.js';
import { createLogger, type Logger } from '../log.js';
import { PosePipeline, type FrameSource, type PipelineEvents, type PipelineFrame, type PoseTracking } from '../pipeline.js';
import type { PoseEstimator } from '../session.js';
import { PoseEvents } from '../../runtime/events/engine.js';
import type { EventsConfigInput } from '../../runtime/events/config-schema.js';
import type { PoseEvent } from '../../runtime/events/types.js';
import { median as medianOf } from '../../runtime/eval/height-sweep.js';
import { loadManifest } from '../../runtime/manifest.js';
import { PoseRuntime } from '../../runtime/pose-runtime.js';
import { PoseTracker } from '../../runtime/tracking/pose-tracker.js';
import { sigmasFor } from '../../runtime/tracking/sigmas.js';
import { cliError, inferenceFromFlags, intOption, listOption, parseCommandArgs, runtimeFlagOptions, runtimeFlagsHelp } from './common.js';

const help = `usage: pafcast eval-events --labels LABELS.json --clips DIR [options]

Runs each labelled clip through the same frame loop as \`pafcast run\` (every frame, the labels'
crop, the last frame held for hold_last_s seconds: a person lying still), prints the events each
clip raised with their times, then fall recall, precision, false alarms on ADL clips and the median
delay from down_s to the \`fall\` event.

Labels: {"crop":{"x","y","width","height"},"hold_last_s":3,
         "clips":[{"file":"fall-01.mp4","label":"fall","down_s":3.7},{"file":"adl-01.mp4","label":"adl"}]}
A fall is found when a \`fall\` event comes between down_s - 1 and down_s + hold_last_s; any \`fall\`
in an "adl" clip is a false alarm.

options:
  --labels FILE         the labels (required)
  --clips DIR           directory the clips' file names are relative to (required)
  --config FILE         agent config whose source, inference, tracking and events sections to use
                        (environment variables are not read, so a run is reproducible)
  --model NAME|PATH     model manifest (default: the config's)
  --height N            net input height (default: the config's, else the model's)
${runtimeFlagsHelp}  --json                print one JSON object instead of the table
`;

export interface ClipLabel {
  file: string;
  label: 'fall' | 'adl';
  /** When the person is on the floor, s from the start of the clip (fall clips). */
  down_s?: number;
}

export interface Labels {
  crop?: { x: number; y: number; width: number; height: number };
  hold_last_s: number;
  clips: ClipLabel[];
}

/** An event as the report lists it (keypoints left out; `t_s` = source time in s from the start of the clip). */
export interface ReportedEvent {
  type: PoseEvent['type'];
  id: number;
  t_s: number;
  frame: number;
  zone?: string | null;
  line?: string;
  direction?: string;
  hand?: string;
  dwell_s?: number;
  since_s?: number;
}

export interface ClipResult {
  file: string;
  label: 'fall' | 'adl';
  down_s?: number;
  /** Frames processed, the held ones included. */
  frames: number;
  events: ReportedEvent[];
  /** Fall clips: whether the fall was found, and the delay of the first in-window `fall` from down_s. */
  found?: boolean;
  delay_s?: number;
  /** `fall` events that are not the found fall (all of them in ADL clips). */
  false_falls: number;
  error?: string;
}

export interface EvalSummary {
  recall: number | null;
  precision: number | null;
  adl_false_alarm_rate: number | null;
  adl_false_alarms_per_clip: number | null;
  median_delay_s: number | null;
  falls: number;
  adls: number;
}

class LabelsError extends Error {}

/** Reads and checks a labels file; throws LabelsError naming what is wrong. */
export function parseLabels(text: string, where: string): Labels {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new LabelsError(`${where}: not JSON (${(e as Error).message})`);
  }
  const o = raw as Partial<Labels> & Record<string, unknown>;
  if (typeof o !== 'object' || o === null || !Array.isArray(o.clips)) throw new LabelsError(`${where}: needs a "clips" array`);
  const hold = o.hold_last_s ?? 0;
  if (typeof hold !== 'number' || !(hold >= 0 && hold <= 600)) throw new LabelsError(`${where}: hold_last_s must be a number of seconds in 0..600`);
  let crop: Labels['crop'];
  if (o.crop !== undefined) {
    const c = o.crop as Record<string, unknown>;
    for (const k of ['x', 'y', 'width', 'height'])
      if (!Number.isInteger(c?.[k]) || (c[k] as number) < 0) throw new LabelsError(`${where}: crop.${k} must be a non-negative integer`);
    crop = { x: c.x as number, y: c.y as number, width: c.width as number, height: c.height as number };
  }
  const clips = o.clips.map((clip: unknown, i: number): ClipLabel => {
    const c = clip as Partial<ClipLabel>;
    const at = `${where}: clips[${i}]`;
    if (typeof c?.file !== 'string' || !c.file) throw new LabelsError(`${at}.file must be a file name`);
    if (c.label !== 'fall' && c.label !== 'adl') throw new LabelsError(`${at}.label must be "fall" or "adl"`);
    if (c.label === 'fall' && !(typeof c.down_s === 'number' && c.down_s >= 0)) throw new LabelsError(`${at}.down_s (s) is required for a fall`);
    return { file: c.file, label: c.label, ...(c.label === 'fall' ? { down_s: c.down_s } : {}) };
  });
  if (!clips.length) throw new LabelsError(`${where}: "clips" is empty`);
  return { crop, hold_last_s: hold, clips };
}

/** Scores one clip's events by the rule above (fills found, delay_s, false_falls). */
export function scoreClip(clip: Omit<ClipResult, 'found' | 'delay_s' | 'false_falls'>, holdLastS: number): ClipResult {
  const falls = clip.events.filter((e) => e.type === 'fall');
  if (clip.label === 'adl') return { ...clip, false_falls: falls.length };
  const down = clip.down_s!;
  const hit = falls.find((e) => e.t_s >= down - 1 && e.t_s <= down + holdLastS);
  return {
    ...clip,
    found: Boolean(hit),
    ...(hit ? { delay_s: round(hit.t_s - down, 3) } : {}),
    false_falls: falls.length - (hit ? 1 : 0),
  };
}

/** Recall, precision, ADL false alarms and median delay over scored clips (clips that failed to run are left out). */
export function summarise(clips: readonly ClipResult[]): EvalSummary {
  const ok = clips.filter((c) => !c.error);
  const falls = ok.filter((c) => c.label === 'fall'), adls = ok.filter((c) => c.label === 'adl');
  const found = falls.filter((c) => c.found);
  const falseFalls = ok.reduce((n, c) => n + c.false_falls, 0);
  const median = found.length === 0 ? null : medianOf(found.map((c) => c.delay_s!));
  const ratio = (a: number, b: number) => (b === 0 ? null : round(a / b, 4));
  return {
    recall: ratio(found.length, falls.length),
    precision: ratio(found.length, found.length + falseFalls),
    adl_false_alarm_rate: ratio(adls.filter((c) => c.false_falls > 0).length, adls.length),
    adl_false_alarms_per_clip: ratio(adls.reduce((n, c) => n + c.false_falls, 0), adls.length),
    median_delay_s: median === null ? null : round(median, 3),
    falls: falls.length,
    adls: adls.length,
  };
}

/**
 * Hands the capture's frames on and, after the last one, the last frame again `holdFrames` times with the
 * source time running on: what a camera shows of a person lying still. Equivalent to ffmpeg's
 * `tpad=stop_mode=clone:stop_duration=N` (checked in the test), for any capture backend.
 */
export class HoldLastFrame implements FrameSource {
  private held = 0;
  private ended = false;
  private last: PipelineFrame | null = null;
  private lastIndex = 0;
  private lastMediaMs = 0;

  constructor(
    private readonly inner: FrameSource,
    private readonly holdFrames: number,
    private readonly intervalMs: number,
  ) {}

  async next(): Promise<PipelineFrame | null> {
    if (!this.ended) {
      const f = await this.inner.next();
      if (f) {
        this.keep(f);
        return f;
      }
      this.ended = true;
    }
    const last = this.last;
    if (!last || this.held >= this.holdFrames) return null;
    this.held++;
    last.seq++;
    last.index = this.lastIndex + this.held;
    last.mediaMs = this.lastMediaMs + this.held * this.intervalMs;
    last.ts = Date.now();
    return last;
  }

  /** Keeps a copy of `f` (the capture reuses its buffer after the next call). */
  private keep(f: PipelineFrame): void {
    const data = this.last && this.last.data.length === f.data.length ? this.last.data : new Uint8Array(f.data.length);
    data.set(f.data);
    this.lastIndex = f.index ?? f.seq;
    this.lastMediaMs = f.mediaMs ?? this.lastIndex * this.intervalMs;
    this.last = { ...f, data };
  }
}

/** The agent's frame loop for one clip; the one place eval-events builds it (keep in step with agent.ts). */
function clipPipeline(source: FrameSource, estimator: PoseEstimator, height: number, tracker: PoseTracking, log: Logger): PosePipeline {
  return new PosePipeline({
    source,
    // One runtime serves every clip; the pipeline must not dispose it when a clip ends.
    openSession: async () => ({ estimator: bind(estimator), heights: [height] }),
    tracker,
    publisher: { publish() {} },
    options: { height, skipEmptyFrames: false, decimals: 2, model: estimator.manifest.name },
    log,
  });
}

/** The estimator without its dispose(): the caller owns the runtime. */
function bind(e: PoseEstimator): PoseEstimator {
  return {
    manifest: e.manifest,
    netSize: e.netSize.bind(e),
    estimate: e.estimate.bind(e),
    setParserParams: e.setParserParams.bind(e),
  };
}

interface RunContext {
  runtime: PoseRuntime;
  height: number;
  config: ReturnType<typeof loadConfig>['config'];
  events: EventsConfigInput;
  labels: Labels;
  log: Logger;
}

async function runClip(path: string, label: ClipLabel, ctx: RunContext): Promise<ClipResult> {
  const base = { file: label.file, label: label.label, ...(label.down_s !== undefined ? { down_s: label.down_s } : {}) };
  const tools = await detectTools();
  const info = await probeInput(path, 'file', tools);
  const fps = info.fps || 30;
  const intervalMs = 1000 / fps;
  const { config } = ctx;
  const crop = ctx.labels.crop ?? config.source.crop;
  const capture = new CaptureSource({ ...config.source, uri: path, loop: false, mode: 'every-frame', crop, pipeline: [] }, ctx.log.child({ module: 'capture' }));
  const manifest = ctx.runtime.manifest;
  const tracker = new PoseTracker(config.tracking, manifest.keypoints.length, sigmasFor(manifest));
  const source = new HoldLastFrame(capture, Math.round(ctx.labels.hold_last_s * fps), intervalMs);
  const pipeline = clipPipeline(source, ctx.runtime, ctx.height, tracker, ctx.log.child({ module: 'pipeline' }));

  let engine: PoseEvents | null = null;
  const events: ReportedEvent[] = [];
  let frames = 0;
  let failure: string | null = null;
  const listener: PipelineEvents = {
    onFrame: (frame, tracked, meta) => {
      engine ??= new PoseEvents(ctx.events, manifest.keypoints, meta.source);
      engine.setSourceSize(meta.source);
      const index = frame.index ?? frame.seq;
      for (const e of engine.update(tracked, frame.mediaMs ?? index * intervalMs, index)) events.push(reported(e));
      frames++;
    },
    onError: (e) => (failure ??= e.message),
  };
  pipeline.on(listener);
  // A clip that cannot be read is reported, not retried forever as a camera would be.
  capture.on('problem', (msg: string) => {
    failure ??= msg;
    void pipeline.stop();
    void capture.stop();
  });
  capture.start();
  const end = await pipeline.start();
  await capture.stop();
  if (failure && (end !== 'ended' || frames === 0)) return scoreClip({ ...base, frames, events, error: failure }, ctx.labels.hold_last_s);
  return scoreClip({ ...base, frames, events }, ctx.labels.hold_last_s);
}

function reported(e: PoseEvent): ReportedEvent {
  const out: ReportedEvent = { type: e.type, id: e.id, t_s: round(e.ts / 1000, 3), frame: e.frame };
  if ('zone' in e) out.zone = e.zone;
  if ('line' in e) out.line = e.line;
  if ('direction' in e) out.direction = e.direction;
  if ('hand' in e) out.hand = e.hand;
  if ('dwell_s' in e) out.dwell_s = e.dwell_s;
  if ('since' in e) out.since_s = round(e.since / 1000, 3);
  return out;
}

const round = (v: number, d: number) => Math.round(v * 10 ** d) / 10 ** d;
const fmt = (v: number | null, d = 2) => (v === null ? '–' : v.toFixed(d));

/** The report as a Markdown table plus the summary lines. */
export function formatTable(clips: readonly ClipResult[], s: EvalSummary, holdLastS: number): string {
  const rows = clips.map((c) => {
    const evs = c.events.map((e) => `${e.type}${e.type === 'fall' ? `#${e.id}` : ''}@${e.t_s.toFixed(2)}`).join(' ') || '–';
    const verdict = c.error
      ? `error: ${c.error}`
      : c.label === 'fall'
        ? c.found ? `found, delay ${fmt(c.delay_s!)} s${c.false_falls ? `, ${c.false_falls} extra fall` : ''}` : 'MISSED'
        : c.false_falls ? `FALSE ALARM (${c.false_falls})` : 'ok';
    return [c.file, c.label, c.down_s === undefined ? '–' : c.down_s.toFixed(2), String(c.frames), evs, verdict];
  });
  const head = ['clip', 'label', 'down_s', 'frames', 'events (type@s)', 'result'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => `| ${r.map((v, i) => v.padEnd(widths[i])).join(' | ')} |`;
  return [
    line(head),
    `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`,
    ...rows.map(line),
    '',
    `falls ${s.falls}, ADL clips ${s.adls} (fall counts when raised between down_s - 1 and down_s + ${holdLastS} s)`,
    `recall ${fmt(s.recall, 3)}  precision ${fmt(s.precision, 3)}  ADL false alarm rate ${fmt(s.adl_false_alarm_rate, 3)} ` +
      `(${fmt(s.adl_false_alarms_per_clip, 2)} per ADL clip)  median delay ${fmt(s.median_delay_s)} s`,
    '',
  ].join('\n');
}

export async function command(argv: string[]): Promise<number> {
  const args = parseCommandArgs('eval-events', argv, {
    labels: { type: 'string' },
    clips: { type: 'string' },
    config: { type: 'string' },
    model: { type: 'string' },
    height: { type: 'string' },
    json: { type: 'boolean', default: false },
    ...runtimeFlagOptions,
    help: { type: 'boolean', short: 'h' },
  }, help);
  if (!args) return 2;
  const o = args.values;
  if (o.help) {
    process.stdout.write(help);
    return 0;
  }
  if (!o.labels || !o.clips) return cliError('eval-events', '--labels and --clips are required (see --help)', 2);
  if (args.positionals.length) return cliError('eval-events', `unexpected argument "${args.positionals[0]}"`, 2);

  let labels: Labels;
  let height: number | undefined;
  let loaded: ReturnType<typeof loadConfig>;
  try {
    if (!existsSync(o.labels)) throw new LabelsError(`${o.labels}: no such file`);
    labels = parseLabels(readFileSync(o.labels, 'utf8'), o.labels);
    if (!existsSync(o.clips) || !statSync(o.clips).isDirectory()) throw new LabelsError(`${o.clips}: not a directory`);
    const missing = labels.clips.map((c) => c.file).filter((f) => !existsSync(join(o.clips!, f)));
    if (missing.length) throw new LabelsError(`not in ${o.clips}: ${missing.join(', ')}`);
    height = intOption('--height', o.height);
    loaded = loadConfig({ file: o.config, env: {} });
    if (loaded.errors.length) throw new LabelsError(`invalid configuration:\n${loaded.errors.join('\n')}`);
  } catch (e) {
    return cliError('eval-events', (e as Error).message, 2);
  }
  const config = loaded.config;
  // The agent composes `events` into its config; until a file carries it, the defaults apply.
  const events = ((config as unknown as { events?: EventsConfigInput }).events ?? {}) as EventsConfigInput;

  let runtime: PoseRuntime;
  try {
    const manifest = loadManifest(o.model ?? config.inference.model);
    height ||= config.inference.height || manifest.input_size.default_height;
    const flags = inferenceFromFlags(o);
    runtime = await PoseRuntime.create({
      model: o.model ?? config.inference.model,
      modelPath: [...(listOption(o['model-path']) ?? []), ...config.inference.model_path],
      heights: [height],
      sourceSize: labels.crop && labels.crop.width && labels.crop.height ? labels.crop : undefined,
      inference: { ...config.inference, ...(flags.backend ? { backend: flags.backend } : {}), ...(o.providers || o.threads ? { onnxruntime: flags.onnxruntime } : {}) },
    });
    new PoseEvents(events, manifest.keypoints, { width: 1, height: 1 }); // a bad events section fails here, once
  } catch (e) {
    return cliError('eval-events', (e as Error).message, 1);
  }

  const log = createLogger('warn', pino.destination({ dest: 2, sync: true }));
  const clips: ClipResult[] = [];
  try {
    for (const label of labels.clips) {
      const path = resolve(o.clips, label.file);
      try {
        clips.push(await runClip(path, label, { runtime, height, config, events, labels, log }));
      } catch (e) {
        clips.push(scoreClip({ file: label.file, label: label.label, down_s: label.down_s, frames: 0, events: [], error: (e as Error).message }, labels.hold_last_s));
      }
      if (!o.json) process.stderr.write(`pafcast eval-events: ${label.file} done\n`);
    }
  } finally {
    await runtime.dispose();
  }

  const summary = summarise(clips);
  if (o.json) {
    const report = {
      ...summary,
      hold_last_s: labels.hold_last_s,
      crop: labels.crop ?? null,
      model: runtime.manifest.name,
      net_height: height,
      clips,
    };
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } else process.stdout.write(formatTable(clips, summary, labels.hold_last_s));
  return clips.some((c) => c.error) ? 1 : 0;
}
