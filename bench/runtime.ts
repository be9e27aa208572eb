// Runtime benchmark: preprocess, inference and parse medians over real street.avi frames, per model and
// net height, plus heap growth across the hot loop once warm.

import { PoseRuntime } from '../src/runtime/pose-runtime.js';
import type { RawFrame } from '../src/runtime/types.js';
import { fmt, median, type Row } from './table.js';

export interface RuntimeBenchOptions {
  models: string[];
  heights: number[];
  frames: RawFrame[];
  warmup: number;
}

const gc = (globalThis as { gc?: () => void }).gc;

function heapAfterGc(): number {
  gc?.();
  return process.memoryUsage().heapUsed;
}

export async function benchRuntime(opts: RuntimeBenchOptions): Promise<Row[]> {
  const rows: Row[] = [];
  for (const model of opts.models) {
    for (const height of opts.heights) {
      const src = opts.frames[0]!;
      let runtime: PoseRuntime;
      try {
        runtime = await PoseRuntime.create({ model, heights: [height], sourceSize: { width: src.width, height: src.height } });
      } catch (e) {
        rows.push({ model, net: `h${height}`, note: (e as Error).message.split('\n')[0]! });
        continue;
      }
      for (let i = 0; i < opts.warmup; i++) await runtime.estimate(opts.frames[i % opts.frames.length]!, height);
      const n = opts.frames.length;
      const pre = new Float64Array(n), inf = new Float64Array(n), parse = new Float64Array(n), people = new Float64Array(n);
      let net = '';
      for (let i = 0; i < n; i++) {
        const r = await runtime.estimate(opts.frames[i]!, height);
        pre[i] = r.timing_ms.preprocess_ms;
        inf[i] = r.timing_ms.inference_ms;
        parse[i] = r.timing_ms.parse_ms;
        people[i] = r.people.length;
        net = `${r.net.height}x${r.net.width}`;
      }
      // Steady state: a second pass over the same frames once the timed pass has warmed every code
      // path; retained heap after GC must not grow with the number of frames processed.
      const heapBefore = heapAfterGc();
      for (let i = 0; i < n; i++) await runtime.estimate(opts.frames[i]!, height);
      const heapGrowth = heapAfterGc() - heapBefore;
      const mPre = median(pre), mInf = median(inf), mParse = median(parse);
      rows.push({
        model,
        net,
        frames: n,
        backend: runtime.backend.info.device,
        'people (median)': median(people),
        'preprocess ms': fmt(mPre),
        'inference ms': fmt(mInf),
        'parse ms': fmt(mParse, 3),
        '(pre+parse)/inference': `${fmt((100 * (mPre + mParse)) / mInf, 1)} %`,
        'heap growth over 60 more frames': gc ? `${fmt(heapGrowth / 1024, 1)} KiB` : 'run with --expose-gc',
      });
      await runtime.dispose();
    }
  }
  return rows;
}
