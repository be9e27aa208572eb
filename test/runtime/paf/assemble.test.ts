import { describe, expect, it } from 'vitest';
import { layoutOf, loadManifest, type ModelLayout } from '../../../src/runtime/manifest.js';
import { PersonAssembler } from '../../../src/runtime/paf/assemble.js';
import { ConnectionSet } from '../../../src/runtime/paf/match.js';
import { PeakSet } from '../../../src/runtime/paf/peaks.js';

const coco = layoutOf(loadManifest('lightweight-openpose-coco18'));
const trt = layoutOf(loadManifest('trt-pose-resnet18-att-224'));

/** A frame with the given peaks (one per listed part name, in order) and connections between them. */
function frame(layout: ModelLayout, parts: string[], links: [number, number, number][]) {
  const names = layout.manifest.keypoints;
  const peaks = new PeakSet(layout.numParts);
  // PeakSet groups peaks by part, so push them part by part.
  const index = new Map<number, number>();
  for (let k = 0; k < layout.numParts; k++) {
    peaks.start[k] = peaks.total;
    parts.forEach((name, i) => {
      if (names.indexOf(name) !== k) return;
      index.set(i, peaks.total);
      peaks.push(i, 0, 0.5);
    });
    peaks.count[k] = peaks.total - peaks.start[k]!;
  }
  const conns = new ConnectionSet();
  for (const [i, j, score] of links) {
    const a = names.indexOf(parts[i]!), b = names.indexOf(parts[j]!);
    const limb = layout.manifest.limbs.findIndex((l) => l.from === names[a] && l.to === names[b]);
    if (limb < 0) throw new Error(`no limb ${parts[i]}→${parts[j]}`);
    conns.push(index.get(i)!, index.get(j)!, limb, score);
  }
  return { peaks, conns, index };
}

/** People as sorted lists of the frame's peak numbers (positions in `parts`). */
function people(layout: ModelLayout, asm: PersonAssembler, index: Map<number, number>): number[][] {
  const back = new Map([...index].map(([i, p]) => [p, i]));
  const out: number[][] = [];
  for (let p = 0; p < asm.count; p++) {
    const members: number[] = [];
    for (let k = 0; k < layout.numParts; k++) {
      const peak = asm.personPeak[p * layout.numParts + k]!;
      if (peak >= 0) members.push(back.get(peak)!);
    }
    out.push(members.sort((a, b) => a - b));
  }
  return out.sort((a, b) => a[0]! - b[0]!);
}

describe('PersonAssembler', () => {
  it('keeps a body whole when its strongest limbs are not adjacent (no fragments to merge)', () => {
    // Descending order: forearm 0.99, neck–shoulder 0.98, then the upper arm 0.5 that links them.
    const f = frame(coco, ['neck', 'r_shoulder', 'r_elbow', 'r_wrist'], [[2, 3, 0.99], [0, 1, 0.98], [1, 2, 0.5]]);
    const asm = new PersonAssembler(coco.numParts);
    expect(asm.assemble(coco, f.peaks, f.conns)).toBe(1);
    expect(people(coco, asm, f.index)).toEqual([[0, 1, 2, 3]]);
    expect(asm.personLimbs[0]).toBe(3);
    expect(asm.personLimbSum[0]).toBeCloseTo(0.99 + 0.98 + 0.5, 9);
    expect(asm.personPeakSum[0]).toBeCloseTo(4 * 0.5, 9);
  });

  it('keeps separate bodies apart', () => {
    const f = frame(coco, ['neck', 'r_shoulder', 'neck', 'r_shoulder', 'r_elbow'], [[0, 1, 0.9], [2, 3, 0.8], [3, 4, 0.7]]);
    const asm = new PersonAssembler(coco.numParts);
    asm.assemble(coco, f.peaks, f.conns);
    expect(people(coco, asm, f.index)).toEqual([[0, 1], [2, 3, 4]]);
  });

  it('closes a cycle of limbs (trt_pose neck–hips) without adding anything twice', () => {
    const f = frame(trt, ['neck', 'left_hip', 'right_hip'], [[0, 1, 0.9], [0, 2, 0.85], [1, 2, 0.8]]);
    const asm = new PersonAssembler(trt.numParts);
    expect(asm.assemble(trt, f.peaks, f.conns)).toBe(1);
    expect(people(trt, asm, f.index)).toEqual([[0, 1, 2]]);
    expect(asm.personParts[0]).toBe(3);
    expect(asm.personLimbs[0]).toBe(2);
  });

  it('never gives a person two peaks of one part', () => {
    // Two necks reach the same left hip and right hip around the trt_pose cycle.
    const f = frame(trt, ['neck', 'left_hip', 'right_hip', 'neck'], [[0, 1, 0.9], [1, 2, 0.8], [3, 2, 0.7]]);
    const asm = new PersonAssembler(trt.numParts);
    asm.assemble(trt, f.peaks, f.conns);
    expect(people(trt, asm, f.index)).toEqual([[0, 1, 2]]);
  });

  describe('redundant limbs', () => {
    it('add a missing part to a person', () => {
      const f = frame(coco, ['neck', 'r_shoulder', 'r_ear'], [[0, 1, 0.9], [1, 2, 0.6]]);
      const asm = new PersonAssembler(coco.numParts);
      asm.assemble(coco, f.peaks, f.conns);
      expect(people(coco, asm, f.index)).toEqual([[0, 1, 2]]);
      expect(asm.personLimbs[0]).toBe(2);
    });
    it('create nobody', () => {
      const f = frame(coco, ['r_shoulder', 'r_ear'], [[0, 1, 0.99]]);
      const asm = new PersonAssembler(coco.numParts);
      expect(asm.assemble(coco, f.peaks, f.conns)).toBe(0);
    });
    it('merge nobody, even when scored above every other limb', () => {
      // A body without ears and an eye–ear pair, linked only by the redundant ear–shoulder limb.
      const f = frame(coco, ['neck', 'r_shoulder', 'r_eye', 'r_ear'], [[1, 3, 0.99], [0, 1, 0.9], [2, 3, 0.8]]);
      const asm = new PersonAssembler(coco.numParts);
      asm.assemble(coco, f.peaks, f.conns);
      expect(people(coco, asm, f.index)).toEqual([[0, 1], [2, 3]]);
    });
    it('do not replace a part the person has', () => {
      const f = frame(coco, ['nose', 'r_eye', 'r_ear', 'r_shoulder', 'neck', 'r_ear'], [[0, 1, 0.9], [1, 2, 0.9], [4, 3, 0.9], [4, 0, 0.9], [3, 5, 0.99]]);
      const asm = new PersonAssembler(coco.numParts);
      asm.assemble(coco, f.peaks, f.conns);
      expect(people(coco, asm, f.index)).toEqual([[0, 1, 2, 3, 4]]);
    });
  });

  it('reuses its buffers and resets between frames', () => {
    const asm = new PersonAssembler(coco.numParts);
    const big = frame(coco, ['neck', 'r_shoulder', 'neck', 'r_shoulder'], [[0, 1, 0.9], [2, 3, 0.8]]);
    asm.assemble(coco, big.peaks, big.conns);
    const buffer = asm.personPeak;
    const small = frame(coco, ['neck', 'l_shoulder'], [[0, 1, 0.9]]);
    expect(asm.assemble(coco, small.peaks, small.conns)).toBe(1);
    expect(asm.personPeak).toBe(buffer);
    expect(people(coco, asm, small.index)).toEqual([[0, 1]]);
  });
});

describe('PersonAssembler with cycles (trt_pose)', () => {
  it('never takes a peak that another person already holds', () => {
    // Y (neck1, both hips) is built first; X (neck0, right hip0) then reaches Y's left hip1 over
    // the hip–hip limb that Y could not use (it has a right hip already).
    const f = frame(trt, ['neck', 'left_hip', 'right_hip', 'neck', 'right_hip'], [
      [0, 1, 0.95], [0, 2, 0.94], [3, 4, 0.9], [1, 4, 0.5],
    ]);
    const asm = new PersonAssembler(trt.numParts);
    expect(asm.assemble(trt, f.peaks, f.conns)).toBe(2);
    expect(people(trt, asm, f.index)).toEqual([[0, 1, 2], [3, 4]]);
  });
});
