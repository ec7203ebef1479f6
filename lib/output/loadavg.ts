// The system summary top-style tools print above their table: /proc/loadavg as it is
// ("0.08 0.02 0.17 1/367 17342": load averages over 1, 5 and 15 minutes, runnable/total
// scheduling entities, last PID), and the same figures as data for --json.
import fs from 'node:fs';

export interface LoadAverage {
  /** The file's text, trailing newline included (bcc prints it as is). */
  raw: string;
  load1: number;
  load5: number;
  load15: number;
  running: number;
  total: number;
  lastPid: number;
}

export function parseLoadavg(raw: string): LoadAverage {
  const m = /^(\S+) (\S+) (\S+) (\d+)\/(\d+) (\d+)/.exec(raw);
  if (!m) throw new Error(`unexpected /proc/loadavg: ${JSON.stringify(raw)}`);
  return {
    raw,
    load1: Number(m[1]), load5: Number(m[2]), load15: Number(m[3]),
    running: Number(m[4]), total: Number(m[5]), lastPid: Number(m[6]),
  };
}

export function readLoadavg(path = '/proc/loadavg'): LoadAverage {
  return parseLoadavg(fs.readFileSync(path, 'utf8'));
}

/**
 * bcc's summary line, `"%-8s loadavg: %s" % (time, raw)`: the file's own newline plus print's
 * leave one empty line before the table.
 */
export function summaryLine(time: string, load: LoadAverage): string {
  return `${time.padEnd(8)} loadavg: ${load.raw.endsWith('\n') ? load.raw : `${load.raw}\n`}`;
}
