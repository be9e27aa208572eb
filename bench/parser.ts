// Parser benchmark: parse time against people count on synthetic maps (COCO-18 layout).

import { layoutOf, loadManifest } from '../src/runtime/manifest.js';
import { PafParser } from '../src/runtime/paf/parser.js';
import { randomSkeletons, renderSyntheticMaps } from '../src/runtime/synthetic.js';
import { fmt, median, type Row } from './table.js';

export async function benchParser(): Promise<Row[]> {
  const manifest = loadManifest('lightweight-openpose-coco18');
  const layout = layoutOf(manifest);
  const rows: Row[] = [];
  // A 736×1312 net (92×164 map) leaves room for 64 non-overlapping people.
  const W = 164, H = 92, iterations = 200;
  for (const people of [1, 2, 4, 8, 16, 32, 64]) {
    const input = renderSyntheticMaps(layout, W, H, randomSkeletons(layout, people, W, H, 7 + people));
    const parser = new PafParser(layout, manifest.parser);
    for (let i = 0; i < 20; i++) parser.parse(input);
    const times = new Float64Array(iterations);
    let found = 0;
    for (let i = 0; i < iterations; i++) {
      const t0 = performance.now();
      found = parser.parse(input).count;
      times[i] = performance.now() - t0;
    }
    const m = median(times);
    // Work counters: pairs considered grow as people² (every A–B pair of a limb), the PAF samples
    // read stay near 1 per rejected pair (most are rejected from their end samples alone).
    const w = parser.work;
    rows.push({
      people, found, map: `${H}x${W}`, 'parse ms (median)': fmt(m, 3), 'µs per person': fmt((1000 * m) / people, 1),
      pairs: w.pairs, 'PAF samples': w.samples,
    });
  }
  return rows;
}
