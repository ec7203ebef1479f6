// What `--version` prints on every command: the command's name and the package's version, read from
// package.json at the package root (the same file in a checkout and in the installed package).
import fs from 'node:fs';
import path from 'node:path';
import { PACKAGE_ROOT } from './paths.ts';

export function packageVersion(): string {
  const { version } = JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version?: unknown };
  if (typeof version !== 'string') throw new Error(`no version in ${path.join(PACKAGE_ROOT, 'package.json')}`);
  return version;
}

/** `<command> (bpfkit) <version>`, as GNU tools print `<command> (<package>) <version>`. */
export function versionLine(command: string): string {
  return `${command} (bpfkit) ${packageVersion()}\n`;
}
