// secwatch's command line: which rules run (--rules, --only, --skip), which of them enforce
// (--kill, --deny, --dry-run), and whom they watch (-p). --json, --explain, --ebpf and the other
// common options come from lib/run/cli.ts; --metrics and its companions from the metrics agent.
// No side effects on import (the man pages and the option tests read `spec`).
//
// Rule ids are only checked for their spelling here: which ids exist depends on the rules files,
// so the rules loader (rules.ts) refuses an unknown one once it has read them.
import { PID_OPTION_RANGE, UsageError, existingPid, type ToolSpec } from '../../lib/run/cli.ts';
import { METRICS_OPTIONS, type MetricsOptions } from '../../lib/metrics/agent.ts';
import { summaryOf } from '../index.ts';

export interface Options extends MetricsOptions {
  /** Rules files, in the order given: each adds rules or overrides earlier ones by id. */
  rules?: string[];
  'list-rules': boolean;
  only?: string[];
  skip?: string[];
  kill?: string[];
  deny?: string[];
  'dry-run': boolean;
  verbose: boolean;
  pid?: number;
}

/** A rule id as rules files spell them (model.ts Rule.id): also a safe metrics label value. */
export const RULE_ID = /^[a-z0-9][a-z0-9-]{0,39}$/;

/**
 * The items of a comma-separated list. cli.ts joins a repeated option's values with commas
 * before parse() sees them, so `--kill a --kill b` and `--kill a,b` arrive alike.
 */
function listItems(value: string, what: string): string[] {
  const items = value.split(',').map((item) => item.trim());
  if (items.some((item) => item === '')) throw new UsageError(`empty ${what} in ${JSON.stringify(value)}`);
  return [...new Set(items)];
}

/** --only, --skip, --kill, --deny: rule ids, spelled as ids are (whether they exist is the loader's to say). */
export function ruleIds(value: string): string[] {
  const ids = listItems(value, 'rule id');
  const bad = ids.find((id) => !RULE_ID.test(id));
  if (bad !== undefined) {
    throw new UsageError(`bad rule id ${JSON.stringify(bad)}: lower-case letters, digits and dashes, at most 40, not starting with a dash`);
  }
  return ids;
}

/**
 * --rules: the files, in order. The repeated option reaches parse() already comma-joined (cli.ts
 * keeps no other form), so a path that contains a comma cannot be given: link or rename it.
 * Whether each file exists and parses is the loader's to say, with the file's name and line.
 */
export function rulesFiles(value: string): string[] {
  return listItems(value, 'rules file');
}

const IDS_METAVAR = 'ID,...';

export const spec: ToolSpec = {
  name: 'secwatch',
  description: summaryOf('secwatch'),
  options: [
    {
      long: 'rules', type: 'string', metavar: 'FILE', repeatable: true, parse: rulesFiles,
      help: 'add the rules of this YAML file to the default ones; a rule with an id already loaded replaces it (repeatable; a path may not contain a comma)',
    },
    { long: 'list-rules', type: 'boolean', help: 'print the rules (id, priority, event, action, source) and exit' },
    { long: 'only', type: 'string', metavar: IDS_METAVAR, repeatable: true, parse: ruleIds, help: 'run only these rules' },
    { long: 'skip', type: 'string', metavar: IDS_METAVAR, repeatable: true, parse: ruleIds, help: 'do not run these rules' },
    {
      long: 'kill', type: 'string', metavar: IDS_METAVAR, repeatable: true, parse: ruleIds,
      help: 'kill the process when these rules match: SIGKILL from the BPF program at the call (the call completes, the process runs no further instruction)',
    },
    {
      long: 'deny', type: 'string', metavar: IDS_METAVAR, repeatable: true, parse: ruleIds,
      help: 'refuse the call with EPERM when these rules match (exec, open, connect: a BPF LSM program; the call never happens). Where the kernel refuses BPF LSM programs, deny falls back to kill, and the alert says so',
    },
    { long: 'verbose', short: 'v', type: 'boolean', help: "with --list-rules: each rule's conditions, description and file" },
    { long: 'dry-run', type: 'boolean', help: 'enforce nothing: report what would have been killed or denied' },
    { long: 'pid', short: 'p', type: 'int', ...PID_OPTION_RANGE, parse: existingPid, metavar: 'PID', help: 'watch this PID only' },
    ...METRICS_OPTIONS,
  ],
  examples: [
    ['secwatch', 'alert on the default rules, in Falco\'s text format'],
    ['secwatch --list-rules', 'list the rules and exit'],
    ['secwatch --json', 'one alert per line in Falco\'s JSON shape'],
    ['secwatch --only sensitive-read,shm-exec', 'run these two rules only'],
    ['secwatch --skip write-etc', 'run every default rule but write-etc'],
    ['secwatch --kill shm-exec', 'kill any process that execs a file in /dev/shm'],
    ['secwatch --deny shm-exec --dry-run', 'say which execs from /dev/shm would be denied, deny none'],
    ['secwatch --rules ./my-rules.yaml', 'add (or override by id) the rules of my-rules.yaml'],
    ['secwatch -p 181', 'watch PID 181 only'],
    ['secwatch --metrics 9435', 'serve alerts by rule and priority, and actions, to Prometheus on 127.0.0.1:9435'],
  ],
};
