// bashreadline's command line: bcc's one option (-s), help texts and examples. No side effects
// on import (the man pages and the option tests read `spec`).
import fs from 'node:fs';
import { UsageError, type ToolSpec } from '../../lib/run/cli.ts';
import { summaryOf } from '../index.ts';

export interface Options {
  shared?: string;
}

const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);

/** -s: an ELF file that can be read. Whether it has readline is for program.ts to say. */
export function elfFile(value: string): string {
  let fd: number;
  try {
    fd = fs.openSync(value, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`cannot open ${JSON.stringify(value)}: ${code === 'ENOENT' ? 'no such file' : code ?? String(err)}`);
  }
  try {
    if (!fs.fstatSync(fd).isFile()) throw new UsageError(`${JSON.stringify(value)} is not a file`);
    const head = Buffer.alloc(4);
    if (fs.readSync(fd, head, 0, 4, 0) !== 4 || !head.equals(ELF_MAGIC)) throw new UsageError(`${JSON.stringify(value)} is not an ELF binary or library`);
  } finally {
    fs.closeSync(fd);
  }
  return value;
}

export const spec: ToolSpec = {
  name: 'bashreadline',
  description: summaryOf('bashreadline'),
  options: [
    {
      long: 'shared', short: 's', type: 'string', metavar: 'SHARED', parse: elfFile,
      help: 'the file whose readline to trace: a libreadline.so, or a bash (default: /bin/bash, else the libreadline it links)',
    },
  ],
  examples: [
    ['bashreadline', 'print the commands typed into every bash'],
    ['bashreadline -s /usr/lib/x86_64-linux-gnu/libreadline.so.8', 'trace the readline of this library (a bash that links it)'],
    ['bashreadline --json', 'one JSON object per line typed, with the uid'],
    ['bashreadline --explain', 'also say which file and function are probed, at which offset'],
  ],
};
