// Plain-text tables and order statistics for the benchmarks.

export type Row = Record<string, string | number>;

export function median(values: ArrayLike<number>): number {
  return quantile(values, 0.5);
}

export function quantile(values: ArrayLike<number>, q: number): number {
  const sorted = Float64Array.from(values).sort();
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export function fmt(v: number, digits = 2): string {
  return Number.isFinite(v) ? v.toFixed(digits) : '—';
}

/** Renders rows as an aligned Markdown table (readable in a terminal and pasteable into notes). */
export function table(title: string, rows: Row[]): string {
  if (rows.length === 0) return `## ${title}\n(no rows)\n`;
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cells = rows.map((r) => cols.map((c) => String(r[c] ?? '')));
  const widths = cols.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const line = (vals: string[]) => `| ${vals.map((v, i) => v.padEnd(widths[i]!)).join(' | ')} |`;
  return [`## ${title}`, line(cols), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...cells.map(line), ''].join('\n');
}
