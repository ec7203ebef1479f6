// --chart: a live line chart of a tool's main series (asciichart). On a terminal it redraws in
// place after each interval; when stdout is a pipe or file it prints each frame plainly, with no
// escape codes, so logs stay readable.
import asciichart from 'asciichart';

const COLORS = [asciichart.green, asciichart.blue, asciichart.yellow, asciichart.magenta, asciichart.cyan, asciichart.red];

export interface ChartOptions {
  title: string;
  /** Points kept per series (the chart's width). */
  width?: number;
  height?: number;
  /** Terminal (true) or plain output. */
  tty?: boolean;
}

export class LiveChart {
  private readonly series = new Map<string, number[]>();
  private readonly width: number;
  private readonly height: number;
  private readonly tty: boolean;
  private linesDrawn = 0;

  constructor(private readonly opts: ChartOptions) {
    this.width = opts.width ?? Math.max(20, Math.min(100, (process.stdout.columns ?? 80) - 20));
    this.height = opts.height ?? 10;
    this.tty = opts.tty ?? Boolean(process.stdout.isTTY);
  }

  /** Adds one point to each named series (a series missing from `values` gets 0). */
  push(values: Record<string, number>): void {
    for (const name of Object.keys(values)) if (!this.series.has(name)) this.series.set(name, []);
    for (const [name, points] of this.series) {
      points.push(values[name] ?? 0);
      if (points.length > this.width) points.shift();
    }
  }

  render(): string {
    const names = [...this.series.keys()];
    if (names.length === 0) return `${this.opts.title}: no data yet\n`;
    const length = Math.max(...[...this.series.values()].map((p) => p.length));
    const data = names.map((n) => { const p = this.series.get(n)!; return [...new Array(length - p.length).fill(0), ...p]; });
    const plot = asciichart.plot(data, {
      height: this.height,
      colors: this.tty ? COLORS.slice(0, names.length) : undefined,
      format: (x: number) => formatAxis(x).padStart(10),
    });
    const legend = names.map((n, i) => (this.tty ? `${COLORS[i % COLORS.length]}━━\u001b[0m ${n}` : `[${i + 1}] ${n}`)).join('  ');
    return `${this.opts.title}\n${plot}\n${legend}\n`;
  }

  /** Writes the chart, replacing the previous frame on a terminal. */
  draw(out: NodeJS.WriteStream = process.stdout): void {
    const frame = this.render();
    if (this.tty && this.linesDrawn > 0) out.write(`\u001b[${this.linesDrawn}F\u001b[J`);
    out.write(frame);
    this.linesDrawn = frame.split('\n').length - 1;
  }
}

function formatAxis(x: number): string {
  const abs = Math.abs(x);
  if (abs >= 1e9) return `${(x / 1e9).toFixed(1)}G`;
  if (abs >= 1e6) return `${(x / 1e6).toFixed(1)}M`;
  if (abs >= 1e4) return `${(x / 1e3).toFixed(1)}k`;
  return abs >= 100 || Number.isInteger(x) ? x.toFixed(0) : x.toFixed(2);
}
