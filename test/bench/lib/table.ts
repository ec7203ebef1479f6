// Plain-text tables for stdout and Markdown tables for the README, from the same rows.
export type Cell = string | number | null | undefined;

export interface Table {
  title: string;
  columns: string[];
  /** Columns (by index) aligned right: the numbers. */
  right?: number[];
  rows: Cell[][];
  notes?: string[];
}

const text = (c: Cell) => (c === null || c === undefined ? '—' : String(c));

export function renderText(t: Table): string {
  const cells = [t.columns, ...t.rows.map((r) => r.map(text))];
  const widths = t.columns.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (t.right?.includes(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  const out = [`== ${t.title}`, line(t.columns), line(widths.map((w) => '-'.repeat(w))), ...cells.slice(1).map(line)];
  for (const n of t.notes ?? []) out.push(`   ${n}`);
  return `${out.join('\n')}\n`;
}

export function renderMarkdown(t: Table): string {
  const esc = (c: string) => c.replace(/\|/g, '\\|');
  const out = [`#### ${t.title}`, '', `| ${t.columns.map(esc).join(' | ')} |`,
    `|${t.columns.map((_, i) => (t.right?.includes(i) ? '---:' : '---')).join('|')}|`,
    ...t.rows.map((r) => `| ${r.map((c) => esc(text(c))).join(' | ')} |`)];
  if (t.notes?.length) out.push('', ...t.notes.map((n) => `- ${n}`));
  return `${out.join('\n')}\n`;
}

/** "12.3 (11.9)": median (min), with `digits` decimals. */
export function medMin(s: { median: number; min: number } | null | undefined, digits = 1): string | null {
  if (!s) return null;
  return `${s.median.toFixed(digits)} (${s.min.toFixed(digits)})`;
}

export function fixed(v: number | null | undefined, digits = 1): string | null {
  return v === null || v === undefined || !Number.isFinite(v) ? null : v.toFixed(digits);
}
