// The live view must never cost the poses their frame rate. libwebrtc (inside @roamhq/wrtc) encodes
// and paces on threads of its own, which on a CPU-bound board compete with inference at equal
// priority; Linux lets a process raise the nice value of its own threads (no privilege needed), so
// the threads WebRTC creates after the preview starts run at a lower priority than the pipeline.

import { readdirSync } from 'node:fs';
import { setPriority } from 'node:os';

/** Nice value for the preview's threads: they get the CPU the pipeline leaves, first. */
export const PREVIEW_THREAD_NICE = 10;

export class ThreadDeprioritiser {
  private readonly known = new Set<number>();

  /** Remembers the threads that exist now (pipeline, inference worker): they keep their priority. */
  constructor(private readonly nice = PREVIEW_THREAD_NICE) {
    for (const tid of threadIds()) this.known.add(tid);
  }

  /** Lowers the priority of threads created since the last call; returns how many were changed. */
  sweep(): number {
    let changed = 0;
    for (const tid of threadIds()) {
      if (this.known.has(tid)) continue;
      this.known.add(tid);
      try {
        setPriority(tid, this.nice);
        changed++;
      } catch {
        // Not Linux, or the thread already exited: nothing to lower.
      }
    }
    return changed;
  }
}

function threadIds(): number[] {
  try {
    return readdirSync('/proc/self/task').map(Number).filter((n) => Number.isInteger(n) && n !== process.pid);
  } catch {
    return [];
  }
}
