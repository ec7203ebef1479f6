// gen-man: writes a man page (section 8) for every command of the registry, and bpfkit.8 for the
// dispatcher. The build (scripts/build.mjs) runs it into dist/man/; package.json's `man` installs
// those pages.
//
// USAGE: node --import tsx scripts/gen-man.ts [--out DIR]     (default DIR: dist/man)
//
// A page is made from the registry's line (tools/index.ts), the spec that builds the command's
// --help (tools/<name>/options.ts), the opening paragraph of its notes (tools/<name>/README.md)
// and its example file (tools/<name>/<name>_example.txt). A tracing tool's page has its command's
// name (execsnoop.8, as the bin); an agent, run only as `bpfkit <name>`, gets bpfkit-<name>.8, as
// git's subcommands do, rather than a page named like a generic word.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { REGISTRY, type ToolInfo } from '../tools/index.ts';
import { firstParagraph, indexPage, toolPage } from '../lib/output/man.ts';
import type { ToolSpec } from '../lib/run/cli.ts';

const ROOT = path.resolve(import.meta.dirname, '..');

/** The page of a registered command, without its section. */
export function pageName(tool: ToolInfo): string {
  return tool.agent ? `bpfkit-${tool.name}` : tool.name;
}

/** package.json's `man`: bpfkit.8, then one page per command in the registry's order. */
export function manEntries(): string[] {
  return ['bpfkit', ...REGISTRY.map(pageName)].map((page) => `./dist/man/${page}.8`);
}

function readIfPresent(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

async function specOf(tool: ToolInfo): Promise<ToolSpec> {
  const file = path.join(ROOT, 'tools', tool.name, 'options.ts');
  if (!fs.existsSync(file)) throw new Error(`tools/${tool.name}/options.ts is missing (the spec its man page is made from)`);
  const { spec } = await import(pathToFileURL(file).href) as { spec?: ToolSpec };
  if (!spec) throw new Error(`tools/${tool.name}/options.ts exports no spec`);
  return spec;
}

/** Writes the pages of `tools` (default: every command) and bpfkit.8 into `outDir`; returns the files written. */
export async function generateManPages(outDir: string, tools: readonly ToolInfo[] = REGISTRY): Promise<string[]> {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string; description: string };
  const pages = new Map<string, string>();
  for (const tool of tools) {
    const home = path.join(ROOT, 'tools', tool.name);
    const notes = readIfPresent(path.join(home, 'README.md'));
    const opening = notes === undefined ? undefined : firstParagraph(notes);
    const exampleName = `${tool.name}_example.txt`;
    const example = readIfPresent(path.join(home, exampleName));
    pages.set(pageName(tool), toolPage({
      spec: await specOf(tool),
      page: pageName(tool),
      command: tool.agent ? `bpfkit ${tool.name}` : tool.name,
      description: opening ? [opening] : [],
      exampleFile: example === undefined ? undefined : { name: exampleName, text: example },
      // Debian and Ubuntu install bcc's tools as <tool>-bpfcc; upstream's name would be this page's own.
      seeAlso: ['bpfkit(8)', ...(tool.bcc ? [`${tool.bcc}-bpfcc(8)`] : [])],
      version: pkg.version,
    }));
  }
  const readme = firstParagraph(fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8'));
  pages.set('bpfkit', indexPage({
    summary: pkg.description,
    description: readme ? [readme] : [],
    commands: REGISTRY.map((t) => ({ name: t.name, page: pageName(t), summary: t.summary })),
    version: pkg.version,
  }));
  fs.mkdirSync(outDir, { recursive: true });
  const written: string[] = [];
  for (const [page, text] of pages) {
    const file = path.join(outDir, `${page}.8`);
    fs.writeFileSync(file, text);
    written.push(file);
  }
  return written;
}

async function main(argv: string[]): Promise<number> {
  let out = path.join(ROOT, 'dist', 'man');
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--out' && argv[i + 1] !== undefined && argv[i + 1] !== '') out = path.resolve(argv[++i]);
    else if (argv[i] === '--out') return usage('--out needs a directory');
    else return usage(`unrecognized argument ${JSON.stringify(argv[i])}`);
  }
  try {
    const files = await generateManPages(out);
    console.log(`gen-man: ${files.length} pages in ${path.relative(process.cwd(), out) || '.'}`);
    return 0;
  } catch (err) {
    process.stderr.write(`gen-man: ${(err as Error).message}\n`);
    return 1;
  }
}

function usage(problem: string): number {
  process.stderr.write(`gen-man: ${problem} (usage: gen-man.ts [--out DIR])\n`);
  return 2;
}

if (import.meta.filename === fs.realpathSync(process.argv[1] ?? '')) {
  process.exitCode = await main(process.argv.slice(2));
}
