// Download progress on a terminal: one line rewritten in place, at most ten times a second.
// Not a terminal (journald, pipes, CI logs): nothing, the caller prints one line per result.

export interface ProgressSink {
  isTTY?: boolean;
  write(text: string): unknown;
}

function megabytes(n: number): string {
  return (n / 1e6).toFixed(1);
}

export function progressLine(label: string, received: number, total: number | null): string {
  if (total === null || total <= 0) return `${label}  ${megabytes(received)} MB`;
  const pct = Math.min(100, Math.floor((received / total) * 100));
  return `${label}  ${String(pct).padStart(3)}%  ${megabytes(received)}/${megabytes(total)} MB`;
}

export function createProgress(sink: ProgressSink, label: string, now: () => number = Date.now) {
  let last = -Infinity;
  let shown = false;
  return {
    update(received: number, total: number | null): void {
      if (!sink.isTTY) return;
      const t = now();
      if (t - last < 100 && received !== total) return;
      last = t;
      shown = true;
      sink.write(`\r\x1b[2K${progressLine(label, received, total)}`);
    },
    /** Clears the line so the caller's result line starts clean. */
    done(): void {
      if (shown) sink.write('\r\x1b[2K');
      shown = false;
    },
  };
}
