// secwatch's rules: loading (default-rules.yaml, then each --rules FILE), checking, choosing
// (--only, --skip, --kill, --deny), compiling into what the kernel program holds (model.ts's
// KernelRules), the conditions the kernel cannot decide (userSpaceHolds), and the text of
// --list-rules and --explain.
//
// A rules file is a YAML list of rules. An entry whose id is already known and that has no
// `event` is a patch: only the fields it gives change (a `when` key replaces that whole list; an
// empty list removes the condition). An entry with a known id and an `event` replaces the rule; a
// new id adds one; `enabled: false` takes a rule out (a later `enabled: true` puts it back).
//
// Every mistake is one line, `FILE:LINE: what`, thrown as UsageError (secwatch exits 2): the
// checks here are the kernel's limits (comm 15 bytes, paths PATH_LEN-1, a slot's uid and value
// lists, 64 rules), so that nothing a user writes is cut or dropped silently in the kernel.
import fs from 'node:fs';
import path from 'node:path';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { UsageError } from '../../lib/run/cli.ts';
import { TOOLS_DIR } from '../../lib/run/paths.ts';
import {
  ACTIONS, DENIABLE, EVENT_KINDS, MAX_RULES, MAX_SLOT_UIDS, MAX_SLOT_VALUES, MODE_BITS, OPEN_FLAGS, PATH_LEN,
  PRIORITIES, PTRACE_REQUESTS, USER_SPACE_CONDITIONS,
  type Action, type Conditions, type EventKind, type KernelRules, type PathEntry, type Priority, type Rule,
  type RuleMasks, type RuleSlot,
} from './model.ts';

// From the package root: the installed package runs this module from dist/, the rules stay in tools/.
export const DEFAULT_RULES_FILE = path.join(TOOLS_DIR, 'secwatch', 'default-rules.yaml');

/** The bytes of a comm the kernel keeps (TASK_COMM_LEN 16, with its NUL). */
const COMM_BYTES = 15;
const ID_SYNTAX = /^[a-z0-9][a-z0-9-]{0,39}$/;
const RULE_KEYS = ['id', 'name', 'description', 'priority', 'event', 'when', 'message', 'action', 'tags', 'enabled'] as const;

/** How a `when` value is read and checked. */
type ValueKind = 'comm' | 'uid' | 'path' | 'suffix' | 'flag' | 'mode' | 'port' | 'request' | 'fd' | 'bool';

/** The events with a file path (model.ts's Conditions.path). */
const PATH_EVENTS: readonly EventKind[] = ['exec', 'open', 'chmod', 'link', 'truncate', 'module'];

interface WhenKey {
  field: keyof Conditions;
  kind: ValueKind;
  /** The events it applies to; undefined: every event. */
  events?: readonly EventKind[];
}

/** `when`'s YAML keys (snake_case), in the order --list-rules prints them: the event's own first. */
export const WHEN_KEYS: Readonly<Record<string, WhenKey>> = {
  flags: { field: 'flags', kind: 'flag', events: ['open'] },
  mode: { field: 'mode', kind: 'mode', events: ['chmod'] },
  port: { field: 'port', kind: 'port', events: ['connect'] },
  request: { field: 'request', kind: 'request', events: ['ptrace'] },
  fd: { field: 'fd', kind: 'fd', events: ['dup'] },
  path: { field: 'path', kind: 'path', events: PATH_EVENTS },
  path_prefix: { field: 'pathPrefix', kind: 'path', events: PATH_EVENTS },
  path_suffix: { field: 'pathSuffix', kind: 'suffix', events: PATH_EVENTS },
  path_not: { field: 'pathNot', kind: 'path', events: PATH_EVENTS },
  path_prefix_not: { field: 'pathPrefixNot', kind: 'path', events: PATH_EVENTS },
  comm: { field: 'comm', kind: 'comm' },
  comm_not: { field: 'commNot', kind: 'comm' },
  pcomm: { field: 'pcomm', kind: 'comm' },
  pcomm_not: { field: 'pcommNot', kind: 'comm' },
  uid: { field: 'uid', kind: 'uid' },
  uid_not: { field: 'uidNot', kind: 'uid' },
  container: { field: 'container', kind: 'bool' },
};
const YAML_KEY_OF = new Map(Object.entries(WHEN_KEYS).map(([key, k]) => [k.field, key]));

// ---- Where things were written, for the messages ----

type RuleWhere = { file: string; line: number };

interface Where extends RuleWhere {
  /** Order of writing across all files: of two conflicting keys, the later one is blamed. */
  seq: number;
}
let writeSeq = 0;

function fail(at: RuleWhere, message: string): never {
  throw new UsageError(`${at.file}:${at.line}: ${message}`);
}

/** The command line's mistakes have no file to name. */
function fail0(message: string): never {
  throw new UsageError(message);
}

function list(items: readonly string[], max = 20): string {
  return items.length > max ? `${items.slice(0, max).join(', ')}, …` : items.join(', ');
}

// ---- Reading one file ----

/** One entry of a rules file, checked field by field; `at` holds each given key's line. */
interface Entry {
  id: string;
  where: Where;
  fields: Partial<Omit<Rule, 'when' | 'source' | 'id'>> & { enabled?: boolean };
  /** `when` keys given; an empty list removes the condition in a patch. */
  when?: Conditions;
  at: Map<string, Where>;
}

class FileReader {
  private readonly lines = new LineCounter();
  private doc!: Document;
  constructor(private readonly file: string) {}

  where(node: Node | null | undefined, fallback?: Where): Where {
    const offset = node?.range?.[0];
    if (offset === undefined) return fallback ?? { file: this.file, line: 1, seq: ++writeSeq };
    return { file: this.file, line: this.lines.linePos(offset).line, seq: ++writeSeq };
  }

  entries(text: string): Entry[] {
    this.doc = parseDocument(text, { lineCounter: this.lines, prettyErrors: false, uniqueKeys: true });
    const bad = this.doc.errors[0];
    if (bad) {
      const line = bad.linePos?.[0].line ?? this.lines.linePos(bad.pos[0]).line;
      fail({ file: this.file, line }, `bad YAML: ${bad.message.split('\n')[0]}`);
    }
    const top = this.doc.contents;
    if (top === null || (isScalar(top) && top.value === null)) return [];
    if (!isSeq(top)) fail(this.where(top), 'a rules file is a YAML list of rules (- id: …)');
    const seen = new Map<string, Where>();
    return top.items.map((item) => {
      const entry = this.entry(this.resolve(item as Node));
      const first = seen.get(entry.id);
      if (first) fail(entry.at.get('id')!, `rule "${entry.id}" is given twice in this file (first at line ${first.line})`);
      seen.set(entry.id, entry.at.get('id')!);
      return entry;
    });
  }

  private resolve(node: Node | null | undefined): Node | null {
    if (node && isAlias(node)) return (node.resolve(this.doc) as Node | undefined) ?? null;
    return node ?? null;
  }

  private entry(node: Node | null): Entry {
    const where = this.where(node);
    if (!isMap(node)) fail(where, 'each rule is a mapping (id: …, event: …, when: …)');
    const at = new Map<string, Where>();
    const values = new Map<string, Node | null>();
    for (const pair of node.items) {
      const keyNode = pair.key as Node;
      const key = isScalar(keyNode) ? String(keyNode.value) : '?';
      const keyAt = this.where(keyNode, where);
      if (!(RULE_KEYS as readonly string[]).includes(key)) {
        fail(keyAt, `unknown key "${key}" (a rule's keys: ${RULE_KEYS.join(', ')})`);
      }
      at.set(key, keyAt);
      values.set(key, this.resolve(pair.value as Node | null));
    }
    const idNode = values.get('id');
    if (idNode === undefined) fail(where, 'a rule needs an id');
    const id = this.text(idNode, at.get('id')!, 'id');
    if (!ID_SYNTAX.test(id)) fail(at.get('id')!, `bad rule id "${id}": lower-case letters, digits and "-", at most 40, starting with a letter or digit`);

    const entry: Entry = { id, where, fields: {}, at };
    const f = entry.fields;
    for (const [key, value] of values) {
      const keyAt = at.get(key)!;
      switch (key) {
        case 'name': case 'message': f[key] = this.oneLine(value, keyAt, key); break;
        case 'description': f.description = this.text(value, keyAt, key).replace(/\s+/g, ' ').trim(); break;
        case 'priority': f.priority = this.priority(value, keyAt); break;
        case 'event': f.event = this.oneOf(value, keyAt, 'event', EVENT_KINDS); break;
        case 'action': f.action = this.oneOf(value, keyAt, 'action', ACTIONS); break;
        case 'tags': f.tags = this.items(value, keyAt).map((n) => this.text(n, this.where(n, keyAt), 'tag')); break;
        case 'enabled': f.enabled = this.bool(value, keyAt, 'enabled'); break;
        case 'when': entry.when = this.when(value, keyAt, at); break;
      }
    }
    return entry;
  }

  private when(node: Node | null, whenAt: Where, at: Map<string, Where>): Conditions {
    const conditions: Conditions = {};
    if (node === null || (isScalar(node) && node.value === null)) return conditions;
    if (!isMap(node)) fail(whenAt, 'when is a mapping of conditions (comm: […], path_prefix: […], …)');
    for (const pair of node.items) {
      const keyNode = pair.key as Node;
      const key = isScalar(keyNode) ? String(keyNode.value) : '?';
      const keyAt = this.where(keyNode, whenAt);
      const spec = WHEN_KEYS[key];
      if (!spec) fail(keyAt, `unknown condition "${key}" (known: ${Object.keys(WHEN_KEYS).join(', ')})`);
      at.set(`when.${key}`, keyAt);
      const value = this.resolve(pair.value as Node | null);
      if (spec.kind === 'bool') {
        conditions.container = this.bool(value, keyAt, key);
        continue;
      }
      const parsed = [...new Set(this.items(value, keyAt).map((n) => this.value(spec.kind, n, this.where(n, keyAt), key)))];
      const limit = spec.kind === 'uid' ? MAX_SLOT_UIDS : ['port', 'request', 'fd'].includes(spec.kind) ? MAX_SLOT_VALUES : Infinity;
      if (parsed.length > limit) fail(keyAt, `${key} has ${parsed.length} values; the kernel holds at most ${limit} per rule`);
      (conditions as Record<string, unknown>)[spec.field] = parsed;
    }
    return conditions;
  }

  /** One value of a `when` list, checked against what the kernel can hold. */
  private value(kind: ValueKind, node: Node, at: Where, key: string): string | number {
    switch (kind) {
      case 'comm': {
        const comm = this.text(node, at, key);
        const bytes = Buffer.byteLength(comm);
        if (bytes > COMM_BYTES) {
          const cut = Buffer.from(comm).subarray(0, COMM_BYTES).toString();
          fail(at, `${key} "${comm}" is ${bytes} bytes: the kernel keeps a comm's first ${COMM_BYTES} bytes, so write "${cut}"`);
        }
        return comm;
      }
      case 'path': case 'suffix': {
        const path = this.text(node, at, key);
        if (kind === 'path' && !path.startsWith('/')) fail(at, `${key} "${path}" is not absolute (paths start with /)`);
        if (Buffer.byteLength(path) > PATH_LEN - 1) fail(at, `${key} "${path.slice(0, 40)}…" is longer than the kernel's ${PATH_LEN - 1} bytes`);
        if (path.includes('\0')) fail(at, `${key} "${path}" contains a NUL byte`);
        if ((key === 'path' || key === 'path_not') && path.length > 1 && path.endsWith('/')) {
          fail(at, `${key} "${path}" ends with /: exact paths never do; use path_prefix for everything below a directory`);
        }
        return path;
      }
      case 'uid': return this.integer(node, at, key, 0, 0xffffffff);
      case 'port': return this.integer(node, at, key, 1, 65535);
      case 'fd': return this.integer(node, at, key, 0, 1023);
      case 'flag': return this.oneOf(node, at, key, Object.keys(OPEN_FLAGS));
      case 'mode': return this.oneOf(node, at, key, Object.keys(MODE_BITS));
      case 'request': return this.oneOf(node, at, key, Object.keys(PTRACE_REQUESTS));
      case 'bool': return fail(at, `${key} is not a list`);
    }
  }

  /** A list's items; a lone scalar is a one-item list, null an empty one. */
  private items(node: Node | null, at: Where): Node[] {
    if (node === null || (isScalar(node) && node.value === null)) return [];
    if (isSeq(node)) return node.items.map((n) => this.resolve(n as Node) ?? fail(at, 'empty list item'));
    if (isScalar(node)) return [node];
    return fail(this.where(node, at), 'expected a list or a single value, not a mapping');
  }

  private text(node: Node | null, at: Where, what: string): string {
    if (isScalar(node) && (typeof node.value === 'string' || typeof node.value === 'number')) {
      const text = String(node.value);
      if (text !== '') return text;
    }
    return fail(this.where(node, at), `${what} must be a non-empty string`);
  }

  private oneLine(node: Node | null, at: Where, what: string): string {
    const text = this.text(node, at, what).trim();
    if (text.includes('\n')) fail(this.where(node, at), `${what} must be one line`);
    return text;
  }

  private bool(node: Node | null, at: Where, what: string): boolean {
    if (isScalar(node) && typeof node.value === 'boolean') return node.value;
    return fail(this.where(node, at), `${what} must be true or false`);
  }

  private integer(node: Node, at: Where, what: string, min: number, max: number): number {
    const v = isScalar(node) ? node.value : undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      fail(at, `${what} ${isScalar(node) ? JSON.stringify(node.value) : 'value'} is not an integer from ${min} to ${max}`);
    }
    return v;
  }

  private oneOf<T extends string>(node: Node | null, at: Where, what: string, known: readonly T[]): T {
    const text = this.text(node, at, what);
    if (!(known as readonly string[]).includes(text)) fail(this.where(node, at), `unknown ${what} "${text}" (known: ${known.join(', ')})`);
    return text as T;
  }

  /** Falco's files write WARNING; ours Warning: either is taken. */
  private priority(node: Node | null, at: Where): Priority {
    const text = this.text(node, at, 'priority');
    const found = PRIORITIES.find((p) => p.toLowerCase() === text.toLowerCase());
    return found ?? fail(this.where(node, at), `unknown priority "${text}" (known: ${PRIORITIES.join(', ')})`);
  }
}

// ---- Applying entries: add, replace, patch, disable ----

interface Held {
  rule: Rule;
  at: Map<string, Where>;
  enabled: boolean;
}

function newRule(e: Entry): Rule {
  const f = e.fields;
  if (!f.event) {
    fail(e.at.get('id')!, `rule "${e.id}" is not a known rule, so it needs event (a patch of a known rule names no event)`);
  }
  if (!f.priority) fail(e.where, `rule "${e.id}" needs priority (one of ${PRIORITIES.join(', ')})`);
  if (!f.message) fail(e.where, `rule "${e.id}" needs message (the alert's one-line text)`);
  return {
    id: e.id, name: f.name ?? e.id, description: f.description ?? '', priority: f.priority, event: f.event,
    when: nonEmpty(e.when ?? {}), message: f.message, action: f.action ?? 'alert', tags: f.tags ?? [],
    source: { file: e.where.file, line: e.where.line },
  };
}

/** Empty lists are no condition: drop them so that the rule reads as it acts. */
function nonEmpty(when: Conditions): Conditions {
  const out: Conditions = {};
  for (const [k, v] of Object.entries(when)) if (!(Array.isArray(v) && v.length === 0)) (out as Record<string, unknown>)[k] = v;
  return out;
}

function apply(rules: Map<string, Held>, e: Entry): void {
  const held = rules.get(e.id);
  if (!held || e.fields.event !== undefined) {
    // A disabling entry for an unknown id is harmless (a shared file may name rules not here).
    if (!held && e.fields.enabled === false && !e.fields.event) return;
    const rule = newRule(e);
    rules.set(e.id, { rule, at: e.at, enabled: e.fields.enabled ?? true });
    check(rules.get(e.id)!);
    return;
  }
  const { id, source, when, ...rest } = held.rule;
  const { enabled: _, ...fields } = e.fields;
  const rule: Rule = { id, source, ...rest, ...fields, when: nonEmpty({ ...when, ...e.when }) };
  const at = new Map([...held.at, ...e.at]);
  rules.set(id, { rule, at, enabled: e.fields.enabled ?? held.enabled });
  check(rules.get(id)!);
}

/** The checks across fields: a condition on the wrong event, and what kill or deny cannot do. */
function check({ rule, at }: Held): void {
  const keyAt = (key: string): Where => at.get(key) ?? { ...rule.source, seq: 0 };
  const later = (a: string, b: string): Where => {
    const [x, y] = [keyAt(a), keyAt(b)];
    return x.seq >= y.seq ? x : y;
  };
  const given = Object.keys(rule.when).map((field) => YAML_KEY_OF.get(field as keyof Conditions)!);
  for (const key of given) {
    const applies = WHEN_KEYS[key].events;
    if (applies && !applies.includes(rule.event)) {
      const takes = Object.keys(WHEN_KEYS).filter((k) => WHEN_KEYS[k].events?.includes(rule.event) ?? true);
      fail(keyAt(`when.${key}`), `rule "${rule.id}": ${key} does not apply to ${rule.event} events (${rule.event} takes: ${takes.join(', ')})`);
    }
  }
  if (rule.when.uid && rule.when.uidNot) {
    fail(later('when.uid', 'when.uid_not'), `rule "${rule.id}": give uid or uid_not, not both (the kernel holds one uid list per rule)`);
  }
  if (rule.action !== 'alert') {
    checkAction(rule, rule.action, (key) => later('action', key), keyAt('action'));
  }
}

/** kill and deny are the kernel's: every condition must be decided there, deny on a deniable call. */
function checkAction(rule: Rule, action: Action, blame: (key: string) => RuleWhere, actionAt: RuleWhere | null, option?: string): void {
  const say = (at: RuleWhere | null, msg: string): never => (at ? fail(at, msg) : fail0(`${option}: ${msg}`));
  if (action === 'deny' && !DENIABLE.includes(rule.event)) {
    say(actionAt, `rule "${rule.id}" watches ${rule.event}: deny refuses only ${DENIABLE.join(', ')} (use kill)`);
  }
  for (const field of USER_SPACE_CONDITIONS) {
    if (rule.when[field] === undefined) continue;
    const key = YAML_KEY_OF.get(field)!;
    say(option ? null : blame(`when.${key}`), `rule "${rule.id}" has ${key}, decided in user space: the kernel cannot ${action} on it`);
  }
}

// ---- loadRules ----

export interface LoadOptions {
  /** --rules FILE, in order. */
  files?: string[];
  only?: string[];
  skip?: string[];
  kill?: string[];
  deny?: string[];
}

function readEntries(file: string): Entry[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    return fail0(`${file}: cannot read the rules file (${code})`);
  }
  return new FileReader(file).entries(text);
}

/** The rules secwatch runs: the defaults, each --rules file over them, then the command line's choices. */
export function loadRules(opts: LoadOptions = {}): Rule[] {
  const rules = new Map<string, Held>();
  for (const file of [DEFAULT_RULES_FILE, ...(opts.files ?? [])]) {
    for (const entry of readEntries(file)) apply(rules, entry);
  }
  const known = [...rules.keys()];
  const unknownIds = (option: string, ids: string[] | undefined): void => {
    const unknown = (ids ?? []).filter((id) => !rules.has(id));
    if (unknown.length) fail0(`${option}: unknown rule id${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (known: ${list(known)})`);
  };
  for (const [option, ids] of [['--only', opts.only], ['--skip', opts.skip], ['--kill', opts.kill], ['--deny', opts.deny]] as const) {
    unknownIds(option, ids as string[] | undefined);
  }
  const disabledOnly = (opts.only ?? []).filter((id) => !rules.get(id)!.enabled);
  if (disabledOnly.length) fail0(`--only: ${disabledOnly.join(', ')} disabled by a rules file (enabled: false)`);

  const only = opts.only?.length ? new Set(opts.only) : null;
  const skip = new Set(opts.skip ?? []);
  const chosen = [...rules.values()].filter((h) => h.enabled && (!only || only.has(h.rule.id)) && !skip.has(h.rule.id));
  const byId = new Map(chosen.map((h) => [h.rule.id, h]));

  const both = (opts.kill ?? []).filter((id) => opts.deny?.includes(id));
  if (both.length) fail0(`rule${both.length > 1 ? 's' : ''} ${both.join(', ')} given to both --kill and --deny`);
  for (const [option, action, ids] of [['--kill', 'kill', opts.kill], ['--deny', 'deny', opts.deny]] as const) {
    for (const id of ids ?? []) {
      const held = byId.get(id);
      if (!held) fail0(`${option}: rule ${id} is not loaded (disabled, or left out by --only/--skip)`);
      checkAction(held.rule, action, () => held.rule.source, null, option);
      held.rule = { ...held.rule, action };
    }
  }
  if (chosen.length > MAX_RULES) {
    const over = chosen[MAX_RULES].rule;
    fail(over.source, `rule "${over.id}" is rule ${MAX_RULES + 1}: the kernel holds at most ${MAX_RULES} (--skip some, or enabled: false)`);
  }
  return chosen.map((h) => h.rule);
}

// ---- compileRules ----

/** The maps and slots secwatch.bpf.c evaluates; a rule's index in `rules` is its bit. */
export function compileRules(rules: Rule[]): KernelRules {
  if (rules.length > MAX_RULES) throw new Error(`compileRules: ${rules.length} rules, at most ${MAX_RULES}`);
  const paths = new Map<string, PathEntry>();
  const comms = new Map<string, RuleMasks>();
  const pcomms = new Map<string, RuleMasks>();
  const masks = <K>(map: Map<K, RuleMasks>, key: K, make: () => RuleMasks): RuleMasks => {
    let m = map.get(key);
    if (!m) map.set(key, (m = make()));
    return m;
  };
  const addPaths = (list: string[] | undefined, exact: boolean, side: 'include' | 'exclude', bit: bigint): void => {
    for (const path of list ?? []) masks(paths, `${exact ? '=' : '^'}${path}`, () => ({ path, exact, include: 0n, exclude: 0n }))[side] |= bit;
  };
  const addComms = (map: Map<string, RuleMasks>, list: string[] | undefined, side: 'include' | 'exclude', bit: bigint): void => {
    for (const comm of list ?? []) masks(map, comm, () => ({ include: 0n, exclude: 0n }))[side] |= bit;
  };

  const slots = rules.map((rule, index): RuleSlot => {
    const bit = 1n << BigInt(index);
    const w = rule.when;
    addPaths(w.path, true, 'include', bit);
    addPaths(w.pathPrefix, false, 'include', bit);
    addPaths(w.pathNot, true, 'exclude', bit);
    addPaths(w.pathPrefixNot, false, 'exclude', bit);
    addComms(comms, w.comm, 'include', bit);
    addComms(comms, w.commNot, 'exclude', bit);
    addComms(pcomms, w.pcomm, 'include', bit);
    addComms(pcomms, w.pcommNot, 'exclude', bit);
    const flags = (w.flags ?? []).reduce((m, f) => m | OPEN_FLAGS[f], 0) | (w.mode ?? []).reduce((m, b) => m | MODE_BITS[b], 0);
    return {
      event: EVENT_KINDS.indexOf(rule.event),
      needPath: !!(w.path?.length || w.pathPrefix?.length),
      pathCond: !!(w.path?.length || w.pathPrefix?.length || w.pathNot?.length || w.pathPrefixNot?.length || w.pathSuffix?.length),
      needComm: !!w.comm?.length,
      needPcomm: !!w.pcomm?.length,
      flagsAny: flags,
      container: w.container === undefined ? 0 : w.container ? 1 : 2,
      action: ACTIONS.indexOf(rule.action) as 0 | 1 | 2,
      uids: [...(w.uid ?? w.uidNot ?? [])],
      uidNot: !w.uid && !!w.uidNot,
      values: [...(w.port ?? w.request?.map((r) => PTRACE_REQUESTS[r]) ?? w.fd ?? [])],
    };
  });

  // The trie answers with the longest matching entry only, so each entry carries the masks of
  // every shorter entry that also matches its paths: the prefixes of it (an exact entry matches
  // one path, so it is nobody's prefix).
  const entries = [...paths.values()];
  const closed = entries.map((e) => {
    const out = { ...e };
    for (const p of entries) {
      if (p !== e && !p.exact && e.path.startsWith(p.path)) {
        out.include |= p.include;
        out.exclude |= p.exclude;
      }
    }
    return out;
  });
  closed.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : Number(a.exact) - Number(b.exact)));

  return {
    slots,
    paths: closed,
    comms,
    pcomms,
    events: new Set(rules.map((r) => r.event)),
    usesPcomm: rules.some((r) => !!(r.when.pcomm?.length || r.when.pcommNot?.length)),
  };
}

// ---- What user space decides ----

/**
 * The part of a rule the kernel could not decide, for an event the kernel matched: path_suffix,
 * exact paths when the path filled the kernel's buffer (PATH_LEN-1 bytes or more: the kernel
 * saw a cut path, and a listed path equal to the cut one may not be the real one), and every path
 * condition of a name with "." or ".." segments (`unresolved`: the kernel let them all pass).
 */
export function userSpaceHolds(rule: Rule, event: { path: string; unresolved?: boolean }): boolean {
  const w = rule.when;
  const path = event.path;
  if (event.unresolved) {
    const listed = (list?: string[]): boolean => !!list?.includes(path);
    const under = (list?: string[]): boolean => !!list?.some((p) => path.startsWith(p));
    if ((w.path || w.pathPrefix) && !listed(w.path) && !under(w.pathPrefix)) return false;
    if (listed(w.pathNot) || under(w.pathPrefixNot)) return false;
  }
  const cut = Buffer.byteLength(path) >= PATH_LEN - 1;
  if (w.pathSuffix && !cut && !w.pathSuffix.some((s) => path.endsWith(s))) return false;
  if (cut && (w.path || w.pathNot)) {
    const underPrefix = (list?: string[]): boolean => !!list?.some((p) => path.startsWith(p));
    // An exact match on a cut path proves nothing: only a prefix still includes it.
    if ((w.path || w.pathPrefix) && !underPrefix(w.pathPrefix)) return false;
    if (w.pathNot?.includes(path) || underPrefix(w.pathPrefixNot)) return false;
  }
  return true;
}

// ---- Text for --list-rules and --explain ----

/** A rule's event and conditions on one line: `open flags=read path=/etc/shadow,… comm_not=sshd,…`. */
export function conditionsText(rule: Rule, maxItems = Infinity): string {
  const parts: string[] = [rule.event];
  for (const [key, spec] of Object.entries(WHEN_KEYS)) {
    const v = rule.when[spec.field];
    if (v === undefined) continue;
    if (!Array.isArray(v)) {
      parts.push(`${key}=${v}`);
      continue;
    }
    const shown = v.slice(0, maxItems).map(String);
    parts.push(`${key}=${shown.join(',')}${v.length > shown.length ? `,…(+${v.length - shown.length})` : ''}`);
  }
  if (rule.action !== 'alert') parts.push(`action=${rule.action}`);
  return parts.join(' ');
}

/** --list-rules: a header and one aligned line per rule; verbose adds conditions, description and source. */
export function listRules(rules: Rule[], verbose = false): string {
  const rows = [['ID', 'PRIORITY', 'EVENT', 'ACTION', 'NAME'], ...rules.map((r) => [r.id, r.priority, r.event, r.action, r.name])];
  const widths = [0, 1, 2, 3].map((c) => Math.max(...rows.map((row) => row[c].length)));
  const line = (row: string[]): string => row.map((cell, c) => (c < 4 ? cell.padEnd(widths[c]) : cell)).join('  ');
  const out = [line(rows[0])];
  rules.forEach((rule, i) => {
    out.push(line(rows[i + 1]));
    if (!verbose) return;
    out.push(`    when: ${conditionsText(rule)}`);
    if (rule.description) out.push(`    ${rule.description}`);
    out.push(`    from: ${rule.source.file}:${rule.source.line}${rule.tags.length ? `  tags: ${rule.tags.join(', ')}` : ''}`);
  });
  return out.join('\n');
}
