// Text formats the tools share with bcc's: clock times, padded columns, byte counts.

/** "HH:MM:SS" in local time, as bcc's strftime("%H:%M:%S"). */
export function clock(date = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

/** "YYYY-MM-DD HH:MM:SS" in local time (bcc's JSON histogram timestamps). */
export function dateTime(date = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${clock(date)}`;
}

/** Python's "%-Ns": left-aligned, never truncated. */
export function left(value: string | number | bigint, width: number): string {
  return String(value).padEnd(width);
}

/** Python's "%Ns": right-aligned, never truncated. */
export function right(value: string | number | bigint, width: number): string {
  return String(value).padStart(width);
}

/** Seconds since `startNs` (a process.hrtime.bigint() value), like bcc's "%-8.3f". */
export function secondsSince(startNs: bigint, nowNs = process.hrtime.bigint()): string {
  return (Number(nowNs - startNs) / 1e9).toFixed(3);
}
