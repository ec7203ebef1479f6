// Manual pages in roff (man(7) macros), laid out as bcc's man/man8 pages are: NAME, SYNOPSIS,
// DESCRIPTION, OPTIONS, EXAMPLES, SEE ALSO. A tool's page is made from the spec that builds its
// --help, so the two cannot say different things.
//
// Every page is plain ASCII: other characters, and the ASCII ones groff would typeset as
// typographic glyphs (' ` ^ ~ and -), are written as named roff escapes, so that options and
// commands copied from a page work, whichever groff version, device or encoding renders it.
import { CHART_OPTION, COMMON_OPTIONS, REST_HELP, allOptions, usageLine, type OptionSpec, type ToolSpec } from '../run/cli.ts';

const NAMED: Record<string, string> = {
  '\\': '\\e', '-': '\\-', "'": '\\(aq', '`': '\\(ga', '^': '\\(ha', '~': '\\(ti',
};

/** Text escaped for a roff text line (not for macro arguments). */
export function roffEscape(text: string): string {
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (NAMED[ch]) out += NAMED[ch];
    // Control characters would be read as roff input; show them as cat -v does.
    else if (code < 0x20 || code === 0x7f) out += `^${String.fromCharCode(code ^ 0x40)}`;
    else if (code > 0x7e) out += `\\[u${code.toString(16).toUpperCase().padStart(4, '0')}]`;
    else out += ch;
  }
  return out;
}

/** A text line that starts with . or ' would be read as a request. */
function textLine(roff: string): string {
  return /^[.']/.test(roff) ? `\\&${roff}` : roff;
}

const sentence = (text: string) => (/[.!?]$/.test(text) ? text : `${text}.`);
const bold = (text: string) => `\\fB${roffEscape(text)}\\fR`;
const italic = (text: string) => `\\fI${roffEscape(text)}\\fR`;

/** Text kept line for line (the example files): escaped, tabs expanded as a terminal shows them. */
export function literalBlock(text: string): string[] {
  const lines = text.replace(/\n+$/, '').split('\n').map((line) => textLine(roffEscape(expandTabs(line.trimEnd()))));
  return ['.nf', ...lines, '.fi'];
}

function expandTabs(line: string): string {
  let out = '';
  for (const ch of line) out += ch === '\t' ? ' '.repeat(8 - (out.length % 8)) : ch;
  return out;
}

/**
 * One paragraph of Markdown as filled roff text: `code` and **strong** in bold, links as their
 * text. Line breaks become spaces (roff fills the paragraph itself).
 */
export function markdownParagraph(markdown: string): string {
  const text = markdown.split('\n').map((l) => l.trim()).filter(Boolean).join(' ');
  let out = '';
  let at = 0;
  for (const m of text.matchAll(/`([^`]+)`|\*\*([^*]+)\*\*|\[([^\]]+)\]\([^)]*\)/g)) {
    out += roffEscape(text.slice(at, m.index));
    if (m[1] !== undefined) out += bold(m[1]);
    else if (m[2] !== undefined) out += bold(m[2]);
    else out += markdownParagraph(m[3]);
    at = m.index! + m[0].length;
  }
  return out + roffEscape(text.slice(at));
}

/** The first paragraph of a Markdown document that is prose (not a heading, list, table, code or quote). */
export function firstParagraph(markdown: string): string | undefined {
  for (const block of markdown.replace(/```[\s\S]*?```/g, '').split(/\n\s*\n/)) {
    const first = block.trim();
    if (first && !/^(#|[-*+] |\d+\. |\||>|<|!\[)/.test(first)) return first;
  }
  return undefined;
}

/** .TH: the page's title line. Undated, so that a build makes the same page twice. */
function titleLine(page: string, version: string): string {
  return `.TH ${page} 8 "" "bpfkit ${version}" "System Manager's Manual"`;
}

/** A section heading; the words are fixed ASCII of ours, never user text. */
const section = (title: string) => `.SH ${title}`;

/** A tagged paragraph: the tag on its own line, the body indented under it. */
function tagged(tag: string, body: string): string[] {
  return ['.TP', textLine(tag), textLine(body)];
}

export interface ToolPage {
  spec: ToolSpec;
  /** The page's name: the command a user types, or bpfkit-<name> for `bpfkit <name>`. */
  page: string;
  /** How the command is run: "execsnoop", "bpfkit exporter". */
  command: string;
  /** Paragraphs of Markdown after the summary (the tool's notes' opening). */
  description: string[];
  /** The tool's example file, kept line for line. */
  exampleFile?: { name: string; text: string };
  /** Other pages, as "name(8)". */
  seeAlso: string[];
  version: string;
}

/** What `<tool> --help` lists, in its order (allOptions decides which, as for --help). */
function optionRows(spec: ToolSpec): Array<{ tag: string; help: string }> {
  const options = allOptions(spec);
  const rows = (spec.positionals ?? []).map((p) => ({ tag: italic(p.name), help: p.help }));
  rows.push({ tag: `${bold('-h')}, ${bold('--help')}`, help: 'show this help message and exit' });
  for (const o of options.filter((o) => !o.hidden)) rows.push({ tag: optionTag(o), help: o.help });
  if (spec.restAfter) {
    rows.push({ tag: `${bold(`--${spec.restAfter}`)} ${italic('COMMAND')} ...`, help: REST_HELP });
  }
  return rows;
}

function optionTag(o: OptionSpec): string {
  const flags = [o.short && bold(`-${o.short}`), bold(`--${o.long}`)].filter(Boolean).join(', ');
  return o.type === 'boolean' ? flags : `${flags} ${italic(o.metavar ?? o.long.toUpperCase().replace(/-/g, '_'))}`;
}

/** The usage line of --help, with the command in bold and no bracketed group split across lines. */
function synopsis(spec: ToolSpec, command: string): string {
  const args = usageLine(spec).replace(/^usage: \S+ ?/, '');
  const groups = args.match(/\[[^\]]*\]|\S+/g) ?? [];
  return [bold(command), ...groups.map((g) => roffEscape(g).replace(/ /g, '\\ '))].join(' ');
}

const EXIT_STATUS = [
  ...tagged('0', 'A normal end: the trace finished, or was stopped by Ctrl\\-C, SIGTERM, SIGHUP or a closed pipe.'),
  ...tagged('1', 'Any other failure.'),
  ...tagged('2', 'Bad usage or a missing prerequisite (not root, no libbcc, tracefs or kernel headers), told in one line on standard error.'),
];

function seeAlso(pages: string[]): string {
  return pages.map((p) => {
    const m = /^(.+)\((\d)\)$/.exec(p);
    return m ? `${bold(m[1])}(${m[2]})` : roffEscape(p);
  }).join(', ');
}

/** A tool's page, bcc's sections in bcc's order. */
export function toolPage(t: ToolPage): string {
  const { spec } = t;
  const lines = [
    titleLine(t.page, t.version),
    // Breaking at a hyphen would split option names; left-aligned keeps the spacing as written.
    '.nh', '.ad l',
    section('NAME'), `${roffEscape(t.page)} \\- ${roffEscape(spec.description)}`,
    section('SYNOPSIS'), textLine(synopsis(spec, t.command)),
    section('DESCRIPTION'), textLine(roffEscape(sentence(spec.description))),
  ];
  for (const paragraph of t.description) lines.push('.PP', textLine(markdownParagraph(paragraph)));
  lines.push('.PP', 'Since this uses BPF, only the root user can use this tool.');
  lines.push(section('OPTIONS'));
  for (const row of optionRows(spec)) lines.push(...tagged(row.tag, roffEscape(row.help)));
  lines.push(section('EXAMPLES'));
  for (const [command, meaning] of spec.examples) {
    lines.push(...tagged(`${roffEscape(meaning.charAt(0).toUpperCase() + meaning.slice(1))}:`, `# ${bold(command)}`));
  }
  if (t.exampleFile) {
    lines.push(`.SS ${roffEscape(t.exampleFile.name)}`, '.PP',
      `Real output with commentary, from ${bold(t.exampleFile.name)} in the package:`, '.PP', ...literalBlock(t.exampleFile.text));
  }
  lines.push(section('EXIT STATUS'), ...EXIT_STATUS);
  lines.push(section('SEE ALSO'), textLine(seeAlso(t.seeAlso)));
  return `${lines.join('\n')}\n`;
}

export interface IndexPage {
  /** The package's one-line description. */
  summary: string;
  /** Paragraphs of Markdown (the README's opening). */
  description: string[];
  commands: Array<{ name: string; page: string; summary: string }>;
  version: string;
}

/** bpfkit(8): the dispatcher, every command with its page, the options every tool has. */
export function indexPage(p: IndexPage): string {
  const lines = [
    titleLine('bpfkit', p.version), '.nh', '.ad l',
    section('NAME'), `bpfkit \\- ${roffEscape(p.summary)}`,
    section('SYNOPSIS'),
    `${bold('bpfkit')} ${italic('tool')} [${italic('options')}]`, '.br',
    `${bold('bpfkit')} ${italic('tool')} ${bold('--help')}`, '.br',
    `${bold('bpfkit')} ${bold('--list')}`,
    section('DESCRIPTION'),
  ];
  p.description.forEach((paragraph, i) => lines.push(...(i ? ['.PP'] : []), textLine(markdownParagraph(paragraph))));
  lines.push('.PP', textLine(roffEscape('bpfkit runs the tool named by its first argument with the arguments that follow; each tracing tool is also a command of its own.')));
  lines.push(section('COMMANDS'));
  for (const c of p.commands) lines.push(...tagged(`${bold(c.name)}`, `${roffEscape(c.summary)}; see ${bold(c.page)}(8).`));
  lines.push(section('OPTIONS'));
  lines.push(...tagged(`${bold('-l')}, ${bold('--list')}`, 'list the commands and what they do'));
  lines.push(...tagged(`${bold('-h')}, ${bold('--help')}`, 'show the usage line and exit'));
  lines.push('.SS Options every tool has');
  for (const o of [...COMMON_OPTIONS, CHART_OPTION].filter((o) => !o.hidden)) {
    const help = o === CHART_OPTION ? `tools that print intervals: ${o.help}` : o.help;
    lines.push(...tagged(optionTag(o), roffEscape(help)));
  }
  lines.push(section('EXIT STATUS'), ...EXIT_STATUS);
  lines.push(section('SEE ALSO'), textLine(seeAlso(p.commands.map((c) => `${c.page}(8)`))));
  return `${lines.join('\n')}\n`;
}
