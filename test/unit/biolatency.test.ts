// biolatency's output path against bcc's: the expected text and JSON below were printed by bcc's
// own code (/usr/bin/python3 with python3-bpfcc: bcc.table.TableBase.print_log2_hist and
// print_json_hist on a stand-in table with these buckets, and biolatency.py's per-interval print
// loop, disk_print and flags_print executed from its source at bcc commit 6d0a964c). JSON
// expectations are bcc's dicts parsed with ast.literal_eval: same keys, same values, real JSON.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  formatInterval, jsonInterval, sectionsFrom, type Drained, type Grouping, type Interval,
} from '../../tools/biolatency/output.ts';
import { bccFlagLayout, describeFlags, describedMask, requestFlagLayout, rwbsDefines } from '../../lib/block/flags.ts';
import { kernelBtfOrNull } from 'bcc-node-bindings';
import { kernelDev } from '../../lib/block/disks.ts';

const BCC = {
  plain: `
10:00:01
     usecs               : count     distribution
         0 -> 1          : 0        |                                        |
         2 -> 3          : 0        |                                        |
         4 -> 7          : 0        |                                        |
         8 -> 15         : 3        |************                            |
        16 -> 31         : 10       |****************************************|
        32 -> 63         : 0        |                                        |
        64 -> 127        : 0        |                                        |
       128 -> 255        : 1        |****                                    |

avg = 88 usecs, total: 1234 usecs, count: 14

`,
  empty: `
`,
  wide: `
               msecs                         : count     distribution
                   0 -> 1                    : 2        |********************|
                   2 -> 3                    : 0        |                    |
                   4 -> 7                    : 0        |                    |
                   8 -> 15                   : 0        |                    |
                  16 -> 31                   : 0        |                    |
                  32 -> 63                   : 0        |                    |
                  64 -> 127                  : 0        |                    |
                 128 -> 255                  : 0        |                    |
                 256 -> 511                  : 0        |                    |
                 512 -> 1023                 : 0        |                    |
                1024 -> 2047                 : 0        |                    |
                2048 -> 4095                 : 0        |                    |
                4096 -> 8191                 : 0        |                    |
                8192 -> 16383                : 0        |                    |
               16384 -> 32767                : 0        |                    |
               32768 -> 65535                : 0        |                    |
               65536 -> 131071               : 0        |                    |
              131072 -> 262143               : 0        |                    |
              262144 -> 524287               : 0        |                    |
              524288 -> 1048575              : 0        |                    |
             1048576 -> 2097151              : 0        |                    |
             2097152 -> 4194303              : 0        |                    |
             4194304 -> 8388607              : 0        |                    |
             8388608 -> 16777215             : 0        |                    |
            16777216 -> 33554431             : 0        |                    |
            33554432 -> 67108863             : 0        |                    |
            67108864 -> 134217727            : 0        |                    |
           134217728 -> 268435455            : 0        |                    |
           268435456 -> 536870911            : 0        |                    |
           536870912 -> 1073741823           : 0        |                    |
          1073741824 -> 2147483647           : 0        |                    |
          2147483648 -> 4294967295           : 0        |                    |
          4294967296 -> 8589934591           : 0        |                    |
          8589934592 -> 17179869183          : 0        |                    |
         17179869184 -> 34359738367          : 0        |                    |
         34359738368 -> 68719476735          : 0        |                    |
         68719476736 -> 137438953471         : 0        |                    |
        137438953472 -> 274877906943         : 0        |                    |
        274877906944 -> 549755813887         : 0        |                    |
        549755813888 -> 1099511627775        : 1        |**********          |
`,
  disks: `

disk = loop3
     usecs               : count     distribution
         0 -> 1          : 0        |                                        |
         2 -> 3          : 0        |                                        |
         4 -> 7          : 0        |                                        |
         8 -> 15         : 0        |                                        |
        16 -> 31         : 7        |****************************************|
        32 -> 63         : 2        |***********                             |

disk = nvme0n1
     usecs               : count     distribution
         0 -> 1          : 0        |                                        |
         2 -> 3          : 0        |                                        |
         4 -> 7          : 5        |****************************************|

disk = vda
     usecs               : count     distribution
         0 -> 1          : 1        |*                                       |
         2 -> 3          : 0        |                                        |
         4 -> 7          : 0        |                                        |
         8 -> 15         : 0        |                                        |
        16 -> 31         : 0        |                                        |
        32 -> 63         : 0        |                                        |
        64 -> 127        : 0        |                                        |
       128 -> 255        : 0        |                                        |
       256 -> 511        : 4        |****                                    |
       512 -> 1023       : 0        |                                        |
      1024 -> 2047       : 0        |                                        |
      2048 -> 4095       : 40       |****************************************|

avg = 84 usecs, total: 5000 usecs, count: 59

`,
  flags: `
10:00:01

flags = Idle-Sync-Write
     usecs               : count     distribution
         0 -> 1          : 0        |                                        |
         2 -> 3          : 0        |                                        |
         4 -> 7          : 0        |                                        |
         8 -> 15         : 0        |                                        |
        16 -> 31         : 50       |****************************************|

flags = ReadAhead-Metadata-Read
     usecs               : count     distribution
         0 -> 1          : 0        |                                        |
         2 -> 3          : 0        |                                        |
         4 -> 7          : 0        |                                        |
         8 -> 15         : 0        |                                        |
        16 -> 31         : 0        |                                        |
        32 -> 63         : 0        |                                        |
        64 -> 127        : 1        |****************************************|

flags = Sync-Read
     usecs               : count     distribution
         0 -> 1          : 0        |                                        |
         2 -> 3          : 0        |                                        |
         4 -> 7          : 0        |                                        |
         8 -> 15         : 100      |****************************************|
        16 -> 31         : 3        |*                                       |
`,
  plainJson: [{"ts":"2026-11-25 10:00:01","val_type":"usecs","data":[{"interval-start":0,"interval-end":1,"count":0},{"interval-start":2,"interval-end":3,"count":0},{"interval-start":4,"interval-end":7,"count":0},{"interval-start":8,"interval-end":15,"count":3},{"interval-start":16,"interval-end":31,"count":10},{"interval-start":32,"interval-end":63,"count":0},{"interval-start":64,"interval-end":127,"count":0},{"interval-start":128,"interval-end":255,"count":1}]}],
  emptyJson: [{"ts":"2026-11-25 10:00:01","val_type":"msecs","data":[]}],
  disksJson: [{"ts":"2026-11-25 10:00:01","val_type":"usecs","data":[{"interval-start":0,"interval-end":1,"count":0},{"interval-start":2,"interval-end":3,"count":0},{"interval-start":4,"interval-end":7,"count":0},{"interval-start":8,"interval-end":15,"count":0},{"interval-start":16,"interval-end":31,"count":7},{"interval-start":32,"interval-end":63,"count":2}],"disk":"loop3"},{"ts":"2026-11-25 10:00:01","val_type":"usecs","data":[{"interval-start":0,"interval-end":1,"count":0},{"interval-start":2,"interval-end":3,"count":0},{"interval-start":4,"interval-end":7,"count":5}],"disk":"nvme0n1"},{"ts":"2026-11-25 10:00:01","val_type":"usecs","data":[{"interval-start":0,"interval-end":1,"count":1},{"interval-start":2,"interval-end":3,"count":0},{"interval-start":4,"interval-end":7,"count":0},{"interval-start":8,"interval-end":15,"count":0},{"interval-start":16,"interval-end":31,"count":0},{"interval-start":32,"interval-end":63,"count":0},{"interval-start":64,"interval-end":127,"count":0},{"interval-start":128,"interval-end":255,"count":0},{"interval-start":256,"interval-end":511,"count":4},{"interval-start":512,"interval-end":1023,"count":0},{"interval-start":1024,"interval-end":2047,"count":0},{"interval-start":2048,"interval-end":4095,"count":40}],"disk":"vda"}],
  flagsJson: [{"ts":"2026-11-25 10:00:01","val_type":"usecs","data":[{"interval-start":0,"interval-end":1,"count":0},{"interval-start":2,"interval-end":3,"count":0},{"interval-start":4,"interval-end":7,"count":0},{"interval-start":8,"interval-end":15,"count":0},{"interval-start":16,"interval-end":31,"count":50}],"flags":"Idle-Sync-Write"},{"ts":"2026-11-25 10:00:01","val_type":"usecs","data":[{"interval-start":0,"interval-end":1,"count":0},{"interval-start":2,"interval-end":3,"count":0},{"interval-start":4,"interval-end":7,"count":0},{"interval-start":8,"interval-end":15,"count":0},{"interval-start":16,"interval-end":31,"count":0},{"interval-start":32,"interval-end":63,"count":0},{"interval-start":64,"interval-end":127,"count":1}],"flags":"ReadAhead-Metadata-Read"},{"ts":"2026-11-25 10:00:01","val_type":"usecs","data":[{"interval-start":0,"interval-end":1,"count":0},{"interval-start":2,"interval-end":3,"count":0},{"interval-start":4,"interval-end":7,"count":0},{"interval-start":8,"interval-end":15,"count":100},{"interval-start":16,"interval-end":31,"count":3}],"flags":"Sync-Read"}],
  flagNames: [[0,"Read"],[1,"Write"],[2,"Flush"],[3,"Discard"],[5,"SecureErase"],[6,"ZoneReset"],[7,"WriteSame"],[9,"WriteZeros"],[4,"Unknown"],[8,"Unknown"],[255,"Unknown"],[2049,"Sync-Write"],[4096,"Metadata-Read"],[131073,"ForcedUnitAccess-Write"],[24576,"NoMerge-Priority-Read"],[32769,"Idle-Write"],[524288,"ReadAhead-Read"],[3145729,"NoWait-Background-Write"],[4194305,"Write"],[262145,"Write"],[4194303,"NoWait-Background-ReadAhead-Idle-NoMerge-Priority-ForcedUnitAccess-Metadata-Sync-Unknown"]],
};

// bcc stamps intervals with the wall clock; both sides are pinned to this local time.
const TIME = new Date(2026, 10, 25, 10, 0, 1);

type Slots = Record<number, number>;

function drained(groups: Array<[number, Slots]>, ext?: Array<[number, number, number]>): Drained {
  const dist: Drained['dist'] = [];
  for (const [group, slots] of groups) {
    for (const [slot, count] of Object.entries(slots)) dist.push([{ group: BigInt(group), slot: BigInt(slot) }, BigInt(count)]);
  }
  // The kernel's map order is arbitrary: the output must not depend on it.
  dist.reverse();
  return { dist, ext: ext?.map(([group, total, count]) => [BigInt(group), { total: BigInt(total), count: BigInt(count) }]) };
}

function interval(grouping: Grouping, unit: 'usecs' | 'msecs', data: Drained, labelOf: (g: number) => string = () => ''): Interval {
  return { grouping, unit, time: TIME, sections: sectionsFrom(data, grouping, labelOf) };
}

// Plain JSON values, as a reader of our output sees them.
const parsed = (objs: unknown[]) => objs.map((o) => JSON.parse(JSON.stringify(o, (_k, v) => (typeof v === 'bigint' ? Number(v) : v))));

const DISKS: Record<number, string> = {
  [kernelDev(7, 3)]: 'loop3', [kernelDev(254, 0)]: 'vda', [kernelDev(259, 0)]: 'nvme0n1',
};
const diskGroups: Array<[number, Slots]> = [
  [kernelDev(7, 3), { 5: 7, 6: 2 }], [kernelDev(254, 0), { 1: 1, 9: 4, 12: 40 }], [kernelDev(259, 0), { 3: 5 }],
];
const W = 1, R = 0, SYNC = 1 << 11, IDLE = 1 << 15, META = 1 << 12, RAHEAD = 1 << 19;
const flagGroups: Array<[number, Slots]> = [[W | SYNC | IDLE, { 5: 50 }], [R | SYNC, { 4: 100, 5: 3 }], [R | RAHEAD | META, { 7: 1 }]];

test('one histogram with -T and -e prints exactly what bcc prints', () => {
  const data = drained([[0, { 4: 3, 5: 10, 6: 0, 8: 1 }]], [[0, 1234, 14]]);
  assert.equal(formatInterval(interval('none', 'usecs', data), { timestamp: true, extension: true }), BCC.plain);
});

test('an empty interval prints only the blank line, and its JSON has no buckets, as in bcc', () => {
  const empty = interval('none', 'msecs', { dist: [], ext: [] });
  assert.equal(formatInterval(empty, { extension: true }), BCC.empty);
  assert.deepEqual(parsed(jsonInterval(empty)), BCC.emptyJson);
});

test('latencies beyond slot 32 switch to bcc\'s wide layout', () => {
  assert.equal(formatInterval(interval('none', 'msecs', drained([[0, { 1: 2, 40: 1 }]]))), BCC.wide);
});

test('-D prints a "disk = NAME" section per disk, sorted by name, and -e sums every disk', () => {
  const data = drained(diskGroups, [[kernelDev(7, 3), 2000, 20], [kernelDev(254, 0), 2500, 35], [kernelDev(259, 0), 500, 4]]);
  assert.equal(formatInterval(interval('disk', 'usecs', data, (d) => DISKS[d]), { extension: true }), BCC.disks);
});

test('-F prints a "flags = NAME" section per flag set with bcc\'s names', () => {
  const data = drained(flagGroups);
  const text = formatInterval(interval('flags', 'usecs', data, (f) => describeFlags(f, bccFlagLayout())), { timestamp: true });
  assert.equal(text, BCC.flags);
});

test('-j objects carry the same keys and buckets as bcc\'s dicts, as real JSON', () => {
  assert.deepEqual(parsed(jsonInterval(interval('none', 'usecs', drained([[0, { 4: 3, 5: 10, 6: 0, 8: 1 }]])))), BCC.plainJson);
  assert.deepEqual(parsed(jsonInterval(interval('disk', 'usecs', drained(diskGroups), (d) => DISKS[d]))), BCC.disksJson);
  const flags = interval('flags', 'usecs', drained(flagGroups), (f) => describeFlags(f, bccFlagLayout()));
  assert.deepEqual(parsed(jsonInterval(flags)), BCC.flagsJson);
});

test('-j with -e adds avg, total and count per section; the text has their sum', () => {
  const data = drained(diskGroups.slice(0, 2), [[kernelDev(7, 3), 200, 9], [kernelDev(254, 0), 4500, 45]]);
  const i = interval('disk', 'usecs', data, (d) => DISKS[d]);
  const objs = parsed(jsonInterval(i, { extension: true }));
  assert.deepEqual(objs.map((o) => [o.disk, o.avg, o.total, o.count]), [['loop3', 22, 200, 9], ['vda', 100, 4500, 45]]);
  assert.match(formatInterval(i, { extension: true }), /\navg = 87 usecs, total: 4700 usecs, count: 54\n\n$/);
});

test('flag values with the same name share one section instead of repeating it', () => {
  // Operations 4 and 8 are both "Unknown" to bcc, which would print two "flags = Unknown" sections.
  const i = interval('flags', 'usecs', drained([[4, { 3: 1 }], [8, { 3: 2, 4: 1 }]]), (f) => describeFlags(f, bccFlagLayout()));
  assert.deepEqual(i.sections.map((s) => [s.label, s.slots.map(Number)]), [['Unknown', [0, 0, 0, 3, 1]]]);
});

test('flag descriptions equal bcc\'s flags_print for every operation and modifier bit', () => {
  for (const [value, name] of BCC.flagNames) assert.equal(describeFlags(value as number, bccFlagLayout()), name, `flags ${value}`);
});

test('the kernel groups -F histograms only by the bits the names describe', () => {
  const layout = bccFlagLayout();
  const mask = describedMask(layout);
  for (const [value] of BCC.flagNames) {
    const v = value as number;
    assert.equal(describeFlags(v & mask, layout), describeFlags(v, layout));
  }
  assert.equal(mask & (1 << 18), 0, 'PREFLUSH is not a bcc name');
});

test('rwbs letters map to flags that print as bcc names them', () => {
  const layout = bccFlagLayout();
  const d = rwbsDefines(layout);
  assert.equal(describeFlags(d.RWBS_OP_WRITE | d.RWBS_SYNC, layout), 'Sync-Write');
  assert.equal(describeFlags(d.RWBS_OP_READ | d.RWBS_RAHEAD | d.RWBS_META, layout), 'ReadAhead-Metadata-Read');
  assert.equal(describeFlags(d.RWBS_OP_WRITE | d.RWBS_FUA, layout), 'ForcedUnitAccess-Write');
  assert.equal(describeFlags(d.RWBS_OP_SECURE_ERASE, layout), 'SecureErase');
  assert.equal(describeFlags(d.RWBS_OP_OTHER, layout), 'Unknown');
});

test('on a kernel with BTF, flag numbers come from its enums (renumbered operations named right)', (t) => {
  const btf = kernelBtfOrNull();
  if (!btf?.enumValues('req_op')) return t.skip('no kernel BTF with enum req_op');
  const layout = requestFlagLayout(btf);
  assert.equal(layout.source, 'kernel BTF');
  const ops = btf.enumValues('req_op')!;
  const bits = btf.enumValues('req_flag_bits')!;
  assert.equal(describeFlags(Number(ops.get('REQ_OP_WRITE')) | 2 ** Number(bits.get('__REQ_SYNC')), layout), 'Sync-Write');
  if (ops.has('REQ_OP_ZONE_RESET')) assert.equal(describeFlags(Number(ops.get('REQ_OP_ZONE_RESET')), layout), 'ZoneReset');
  assert.equal(describeFlags(Number(ops.get('REQ_OP_READ')) | 2 ** Number(bits.get('__REQ_RAHEAD')), layout), 'ReadAhead-Read');
});
