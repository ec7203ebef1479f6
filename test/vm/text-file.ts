// The matrix's stamps, indexes, TAP files and README are read whole, and a missing one is empty.
import fs from 'node:fs';

export function readText(file: string): string {
  try { return fs.readFileSync(file, 'utf8'); } catch { return ''; }
}
