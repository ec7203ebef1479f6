// Flame graphs as one self-contained SVG file: what profile and offcputime write for --svg, and
// what a user's folded file (flamegraph.pl's input, our -f output) becomes. Stacks sharing a
// prefix merge into one tree; each frame is as wide as its share of the total, its children sit on
// top in alphabetical order (so the same input always gives the same bytes), and a small embedded
// script (lib/output/flamegraph-script.ts) adds zoom and search. Without the script (an <img>, a
// viewer with scripts off) the picture and its tooltips are still complete.

import { flameGraphScript, type ScriptConfig } from './flamegraph-script.ts';

export interface FlameStack {
  /** Outermost first, e.g. ['burn-cpu', 'main', 'burn_cpu']. */
  frames: readonly string[];
  value: number;
}

export interface FlameGraphOptions {
  title: string;
  /** The unit of the values: 'samples', 'us'. */
  countName: string;
  subtitle?: string;
}

const IMAGE_WIDTH = 1200;
const PAD = 10;
const FRAME_HEIGHT = 16;
const FONT_SIZE = 12;
// Verdana's average advance, close enough to decide how many characters fit without measuring.
const CHAR_WIDTH = FONT_SIZE * 0.59;
/** Narrower frames would be invisible slivers that only bloat the file. */
const MIN_WIDTH = 0.1;
const TOP = FONT_SIZE * 5;
const BOTTOM = FONT_SIZE * 4;
const DELIMITER = '-';
const ROOT_COLOUR = 'rgb(200,200,200)';

interface Node {
  name: string;
  value: number;
  kernel: boolean;
  children: Map<string, Node>;
}

/**
 * Parses folded stacks ("outer;...;inner count" a line). Blank lines are skipped; the count is
 * the last space-separated field, so frames may hold spaces ("operator new(unsigned long)").
 */
export function parseFolded(text: string): FlameStack[] {
  const stacks: FlameStack[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    const fail = (why: string): never => {
      throw new Error(`folded stacks, line ${i + 1}: ${why} in "${line.length > 80 ? `${line.slice(0, 77)}...` : line}"`);
    };
    const space = line.lastIndexOf(' ');
    if (space < 0) fail('expected "frame;frame;... count"');
    const count = line.slice(space + 1);
    if (!/^\d+(\.\d+)?$/.test(count)) fail(`the count "${count}" is not a number`);
    const frames = line.slice(0, space).trimEnd().split(';');
    if (frames.some((f) => f === '')) fail('empty frame');
    stacks.push({ frames, value: Number(count) });
  });
  return stacks;
}

function buildTree(stacks: readonly FlameStack[]): Node {
  const root: Node = { name: 'all', value: 0, kernel: false, children: new Map() };
  for (const { frames, value } of stacks) {
    if (!Number.isFinite(value) || value < 0) throw new Error(`flame graph: bad value ${value} for ${frames.join(';')}`);
    root.value += value;
    let node = root;
    let kernel = false;
    frames.forEach((name, depth) => {
      let child = node.children.get(name);
      if (!child) {
        child = { name, value: 0, kernel: kernel || name.endsWith('_[k]'), children: new Map() };
        node.children.set(name, child);
      }
      // Frames after the -d delimiter are the kernel's; the process name (depth 0) is never it.
      if (name === DELIMITER && depth > 0) kernel = true;
      child.value += value;
      node = child;
    });
  }
  return root;
}

/** Code-unit order, not the locale's: the output must not depend on where it is made. */
const byName = (a: Node, b: Node): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

// ---- text ---------------------------------------------------------------------------------

/** XML-escapes text and replaces what XML 1.0 cannot hold at all (a comm may contain any byte). */
function escapeXml(text: string): string {
  return text
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd')
    .replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/** 1234567 → "1,234,567", fractions to two places; fixed so bytes do not vary by locale. */
function formatCount(n: number): string {
  const [whole, frac] = (Number.isInteger(n) ? String(n) : n.toFixed(2)).split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+$)/g, ',');
  return frac ? `${grouped}.${frac}` : grouped;
}

const percent = (value: number, total: number): string => `${((100 * value) / total).toFixed(2)}%`;

/** The label that fits a frame `width` wide: the name, its start with "..", or nothing. */
function fitLabel(name: string, width: number): string {
  const chars = Math.floor((width - 6) / CHAR_WIDTH);
  if (chars < 3) return '';
  return name.length <= chars ? name : `${name.slice(0, chars - 2)}..`;
}

const px = (n: number): string => String(Math.round(n * 100) / 100);

// ---- colour -------------------------------------------------------------------------------

/** FNV-1a: the same name gets the same colour in every graph. */
function hash(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

function hslToRgb(h: number, s: number, l: number): string {
  const a = s * Math.min(l, 1 - l);
  const channel = (n: number): number => {
    const k = (n + h / 30) % 12;
    return Math.round(255 * (l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1))));
  };
  return `rgb(${channel(0)},${channel(8)},${channel(4)})`;
}

const isPlaceholder = (name: string): boolean => name === DELIMITER || /^\[(unknown|Missed .* Stack)\]$/.test(name);

/** Warm (red to yellow) for user code, blue for the kernel, grey for what is not a function. */
function frameColour(name: string, kernel: boolean): string {
  const h = hash(name);
  const f1 = (h & 0xff) / 255;
  const f2 = ((h >>> 8) & 0xff) / 255;
  const f3 = ((h >>> 16) & 0xff) / 255;
  if (isPlaceholder(name)) return hslToRgb(0, 0, 0.7 + 0.08 * f1);
  if (kernel) return hslToRgb(190 + 35 * f1, 0.45 + 0.2 * f2, 0.6 + 0.12 * f3);
  return hslToRgb(50 * f1, 0.75 + 0.2 * f2, 0.5 + 0.1 * f3);
}

// ---- layout -------------------------------------------------------------------------------

interface Drawn {
  frames: string[];
  depth: number;
  omitted: number;
}

function countNodes(node: Node): number {
  let n = 1;
  for (const c of node.children.values()) n += countNodes(c);
  return n;
}

function svgHeader(height: number): string[] {
  return [
    '<?xml version="1.0" encoding="UTF-8" standalone="no"?>',
    `<svg version="1.1" xmlns="http://www.w3.org/2000/svg" width="${IMAGE_WIDTH}" height="${height}" viewBox="0 0 ${IMAGE_WIDTH} ${height}">`,
    '<style>',
    `text { font-family: Verdana, sans-serif; font-size: ${FONT_SIZE}px; fill: rgb(0,0,0); }`,
    '#title { font-size: 17px; font-weight: bold; }',
    '#subtitle, #note { fill: rgb(90,90,90); }',
    '.button { cursor: pointer; text-decoration: underline; }',
    '.f { cursor: pointer; }',
    '.f:hover rect { stroke: rgb(0,0,0); stroke-width: 0.5; }',
    '.f.ancestor { opacity: 0.5; }',
    '.hidden { display: none; }',
    '</style>',
    `<rect x="0" y="0" width="${IMAGE_WIDTH}" height="${height}" fill="rgb(250,250,242)"/>`,
  ];
}

/**
 * The flame graph of `stacks` as an SVG document: the root ("all") at the bottom, callees on top
 * of their callers, a <title> on every frame ("name (N samples, P%)").
 */
export function flameGraphSvg(stacks: readonly FlameStack[], options: FlameGraphOptions): string {
  const root = buildTree(stacks);
  const total = root.value;
  const usable = IMAGE_WIDTH - 2 * PAD;
  const scale = total > 0 ? usable / total : 0;

  // Depth first, widths from cumulative offsets (not summed rounded widths) so a child can never
  // poke out of its parent and the root is exactly the usable width.
  const drawn: Drawn = { frames: [], depth: 0, omitted: 0 };
  const rows: Array<{ node: Node; depth: number; start: number }> = [];
  const visit = (node: Node, depth: number, start: number): void => {
    if (node.value * scale < MIN_WIDTH) {
      drawn.omitted += countNodes(node);
      return;
    }
    rows.push({ node, depth, start });
    drawn.depth = Math.max(drawn.depth, depth);
    let offset = start;
    for (const child of [...node.children.values()].sort(byName)) {
      visit(child, depth + 1, offset);
      offset += child.value;
    }
  };
  if (total > 0) visit(root, 0, 0);

  const height = TOP + (drawn.depth + 1) * FRAME_HEIGHT + BOTTOM;
  const base = TOP + drawn.depth * FRAME_HEIGHT; // the root's y: flames grow upward
  for (const { node, depth, start } of rows) {
    const x = Math.round((PAD + start * scale) * 100) / 100;
    const end = Math.round((PAD + (start + node.value) * scale) * 100) / 100;
    const width = end - x;
    const y = base - depth * FRAME_HEIGHT;
    const label = `${node.name} (${formatCount(node.value)} ${options.countName}, ${percent(node.value, total)})`;
    const text = fitLabel(node.name, width);
    drawn.frames.push(
      `<g class="f"><title>${escapeXml(label)}</title>` +
        `<rect x="${px(x)}" y="${y}" width="${px(width)}" height="${FRAME_HEIGHT - 1}" rx="2" ry="2" fill="${depth === 0 ? ROOT_COLOUR : frameColour(node.name, node.kernel)}"/>` +
        `<text x="${px(x + 3)}" y="${y + FRAME_HEIGHT - 4.5}">${escapeXml(text)}</text></g>`,
    );
  }

  const out = svgHeader(height);
  const centre = IMAGE_WIDTH / 2;
  out.push(`<text id="title" x="${centre}" y="${FONT_SIZE * 2}" text-anchor="middle">${escapeXml(options.title)}</text>`);
  if (options.subtitle) {
    out.push(`<text id="subtitle" x="${centre}" y="${FONT_SIZE * 3.5}" text-anchor="middle">${escapeXml(options.subtitle)}</text>`);
  }
  // Buttons stay hidden until the script shows them: without it they would do nothing.
  const buttonsY = FONT_SIZE * 2;
  out.push(`<text id="unzoom" class="button hidden" x="${PAD}" y="${buttonsY}">Reset Zoom</text>`);
  out.push(`<text id="search" class="button hidden" x="${IMAGE_WIDTH - PAD}" y="${buttonsY}" text-anchor="end">Search</text>`);

  if (total > 0) {
    out.push(`<g id="frames">`, ...drawn.frames, '</g>');
  } else {
    out.push(`<text id="empty" x="${centre}" y="${TOP + FRAME_HEIGHT - 4.5}" text-anchor="middle">No samples: nothing to draw</text>`);
  }

  const bottom = TOP + (drawn.depth + 1) * FRAME_HEIGHT;
  out.push(`<text id="details" x="${PAD}" y="${bottom + FONT_SIZE * 1.5}"> </text>`);
  out.push(`<text id="matched" x="${IMAGE_WIDTH - PAD}" y="${bottom + FONT_SIZE * 1.5}" text-anchor="end"> </text>`);
  const omitted = drawn.omitted === 0 ? 'none here'
    : `${formatCount(drawn.omitted)} frame${drawn.omitted === 1 ? '' : 's'} left out`;
  out.push(`<text id="note" x="${PAD}" y="${bottom + FONT_SIZE * 3}">Total ${formatCount(total)} ${escapeXml(options.countName)}. ` +
    `Frames narrower than ${MIN_WIDTH} px are not drawn (${omitted}).</text>`);
  out.push(`<text id="help" class="hidden" x="${IMAGE_WIDTH - PAD}" y="${bottom + FONT_SIZE * 3}" text-anchor="end">Click a frame to zoom in, Ctrl-F to search</text>`);

  const config: ScriptConfig = { left: PAD, width: usable, charWidth: CHAR_WIDTH, frameHeight: FRAME_HEIGHT };
  out.push(`<script type="text/ecmascript"><![CDATA[\n${flameGraphScript(config)}\n]]></script>`, '</svg>', '');
  return out.join('\n');
}
