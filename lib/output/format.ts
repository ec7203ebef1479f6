// Text formats the tools share with bcc's: clock times and padded columns.

/** "HH:MM:SS" in local time, as bcc's strftime("%H:%M:%S"). */
export function clock(date = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

/** Python's "%-Ns": left-aligned, never truncated. */
export function left(value: string | number | bigint, width: number): string {
  return String(value).padEnd(width);
}

/** Python's "%Ns": right-aligned, never truncated. */
export function right(value: string | number | bigint, width: number): string {
  return String(value).padStart(width);
}
