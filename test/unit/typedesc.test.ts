// Fixtures are libbcc's own descriptions plus gcc-laid-out sample bytes;
// regenerate with BCC_KERNEL_SOURCE=... /usr/bin/python3 test/fixtures/typedesc/capture.py
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  collectNamedTypes,
  LayoutSizeMismatchError,
  layoutAlign,
  layoutSize,
  parsePerfEventFields,
  parseTypeDescription,
  type IntLayout,
  type Layout,
  type StructLayout,
} from '../../lib/bcc-node-bindings/src/types/layout.ts';
import { decode, encode, makeDecoder } from '../../lib/bcc-node-bindings/src/types/codec.ts';

interface TableFixture {
  map_type: number;
  key_desc: string;
  leaf_desc: string;
  key_size: number;
  leaf_size: number;
}
interface Sample {
  name: string;
  c_type: string;
  layout_from: string;
  hex: string;
  value: unknown;
}

const fixture = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`../fixtures/typedesc/${name}`, import.meta.url), 'utf8'), (_k, v: unknown) =>
    typeof v === 'string' && /^-?\d+n$/.test(v) ? BigInt(v.slice(0, -1)) : v,
  );
const tables = (fixture('tables.json') as { tables: Record<string, TableFixture> }).tables;
const events = fixture('events.json') as Record<string, string[]>;
const samples = fixture('samples.json') as Sample[];

const struct = (l: Layout): StructLayout => {
  assert.equal(l.kind, 'struct');
  return l as StructLayout;
};
const offsets = (l: Layout): Record<string, number> =>
  Object.fromEntries(struct(l).fields.map((f) => [f.name, f.offset]));

/** Round trip through encode; returns the bytes. */
function roundTrip(l: Layout, value: unknown): Buffer {
  const buf = Buffer.alloc(layoutSize(l));
  encode(l, value, buf);
  assert.deepEqual(decode(l, buf), value);
  return buf;
}

// Unions decode every member; the C initialiser only named one.
function assertContains(actual: unknown, expected: unknown, path = ''): void {
  if (expected !== null && typeof expected === 'object' && !Array.isArray(expected)) {
    assert.equal(typeof actual, 'object', path);
    for (const [k, v] of Object.entries(expected)) {
      assertContains((actual as Record<string, unknown>)[k], v, `${path}.${k}`);
    }
  } else {
    assert.deepEqual(actual, expected, path);
  }
}

describe('libbcc table descriptions (fixtures)', () => {
  // Descriptions bcc gets wrong: see LayoutSizeMismatchError.
  const lossy = new Set(['t_md:leaf', 't_tdarr:leaf']);

  for (const [name, t] of Object.entries(tables)) {
    for (const side of ['key', 'leaf'] as const) {
      const desc = side === 'key' ? t.key_desc : t.leaf_desc;
      const size = side === 'key' ? t.key_size : t.leaf_size;
      // Queues have no key; ring buffers report sizes of 0.
      if (desc === '' || size === 0) continue;
      test(`${name} ${side} matches libbcc's size`, () => {
        if (lossy.has(`${name}:${side}`)) {
          assert.throws(() => parseTypeDescription(desc, size), LayoutSizeMismatchError);
          return;
        }
        const l = parseTypeDescription(desc, size);
        assert.equal(layoutSize(l), size);
        assert.equal(layoutSize(l) % layoutAlign(l), 0);
      });
    }
  }

  test('multi-dimensional and typedef-ed array fields lose dimensions', () => {
    const md = parseTypeDescription(tables.t_md.leaf_desc);
    assert.equal(layoutSize(md), 12);
    assert.equal(tables.t_md.leaf_size, 28);
    assert.throws(() => parseTypeDescription(tables.t_md.leaf_desc, 28), /drops inner dimensions/);
    // u64x4_t vals; is described as a single unsigned long long
    assert.match(tables.t_tdarr.leaf_desc, /\["vals","unsigned long long"\]/);
  });

  test('a typedef-ed array leaf is described as its element and widened', () => {
    assert.equal(tables.t_arr_typedef.leaf_desc, '"unsigned long long"');
    const l = parseTypeDescription(tables.t_arr_typedef.leaf_desc, 32);
    assert.deepEqual(l, { kind: 'array', length: 4, element: parseTypeDescription('"unsigned long long"') });
    assert.deepEqual(parseTypeDescription('"char"', 16), { kind: 'chararray', length: 16 });
  });

  test('queue keys are empty, ring buffers say int/unsigned int with size 0', () => {
    assert.equal(tables.t_queue.key_desc, '');
    assert.throws(() => parseTypeDescription(tables.t_queue.key_desc), /empty type description/);
    assert.deepEqual([tables.rb.key_desc, tables.rb.leaf_size], ['"int"', 0]);
    assert.equal(layoutSize(parseTypeDescription(tables.rb.key_desc, tables.rb.key_size)), 4);
  });

  test('enums are described by their underlying integer type, pointers as unsigned long long', () => {
    assert.equal(tables.t_enum.key_desc, '"unsigned int"');
    assert.equal(tables.t_enum.leaf_desc, '"unsigned long"'); // enum with a 2^32 enumerator
    assert.equal(tables.t_enum_neg.key_desc, '"int"');
    assert.equal(tables.t_misc.key_desc, '"unsigned long long"'); // void *
  });

  test('struct_packed offsets follow the explicit padding', () => {
    const l = parseTypeDescription(tables.t_kints.key_desc);
    assert.deepEqual(offsets(l), { a: 0, __pad_1: 4, b: 8, c: 16, __pad_end: 17 });
    assert.deepEqual(struct(l).fields[1].layout, { kind: 'pad', size: 4 });
    assert.equal(layoutAlign(l), 8);
  });

  test('nested struct, array of structs, anonymous record type', () => {
    const l = struct(parseTypeDescription(tables.t_nested.leaf_desc));
    assert.deepEqual(offsets(l), { in: 0, __pad_1: 4, ts: 8, arr: 16, named_anon: 28, __pad_end: 36 });
    const arr = l.fields.find((f) => f.name === 'arr')!.layout;
    assert.equal(arr.kind, 'array');
    assert.equal(layoutSize(arr), 12);
  });

  test('bitfield structs are described unpadded and laid out here', () => {
    const l = struct(parseTypeDescription(tables.t_bits.key_desc));
    const bits = Object.fromEntries(l.fields.map((f) => [f.name, [f.offset, f.bitOffset, f.bitWidth]]));
    assert.deepEqual(bits, {
      a: [0, 0, 3],
      b: [0, 3, 5],
      c: [4, 0, 24], // after "u32 :0"
      d: [8, 0, 40], // would straddle the first u64 unit
      e: [13, undefined, undefined],
      f: [12, 16, 7],
      g: [14, 7, 4],
    });
    assert.equal(l.size, 16);
  });

  test('anonymous union and struct members are inline records', () => {
    const l = struct(parseTypeDescription(tables.t_anon.leaf_desc));
    assert.deepEqual(
      l.fields.map((f) => [f.name, f.offset, f.layout.kind === 'struct' && f.layout.union]),
      [['kind', 0, false], ['', 4, true], ['', 8, false]],
    );
  });
});

describe('gcc-laid-out samples', () => {
  const named = collectNamedTypes(
    Object.values(tables).flatMap((t) =>
      [t.key_desc, t.leaf_desc].filter((d) => d !== '').map((d) => parseTypeDescription(d)),
    ),
  );
  const layoutFor = (s: Sample): Layout => {
    const [kind, name, side] = s.layout_from.split(':');
    if (kind === 'event') return parsePerfEventFields(events[name], name, { types: named });
    // bcc cannot describe u32 m[2][3]; the perf-event spelling can.
    if (name === 't_md') return parsePerfEventFields(['m#u32[2][3]', 'after#u8'], 'md_t');
    const t = tables[name];
    return side === 'key'
      ? parseTypeDescription(t.key_desc, t.key_size)
      : parseTypeDescription(t.leaf_desc, t.leaf_size);
  };

  for (const s of samples) {
    test(`${s.name} (${s.c_type}) decodes and re-encodes byte for byte`, () => {
      const l = layoutFor(s);
      const bytes = Buffer.from(s.hex, 'hex');
      assert.equal(layoutSize(l), bytes.length, 'sizeof');
      assertContains(decode(l, bytes), s.value);
      const out = Buffer.alloc(bytes.length, 0xee);
      encode(l, decode(l, bytes, 0, { rawStrings: true }), out);
      // x87 long double: only 10 of its 16 bytes are the value
      const compared = s.name === 'misc' ? 74 : bytes.length;
      assert.deepEqual(out.subarray(0, compared), bytes.subarray(0, compared));
      encode(l, s.value, out);
      if (s.name === 'strs') {
        // char tiny[4] = "abcd" has no NUL; a string is stored as N-1 bytes and a NUL
        assert.deepEqual(out.subarray(16, 20), Buffer.from('abc\0'));
        out.write('d', 19);
      }
      assert.deepEqual(out.subarray(0, compared), bytes.subarray(0, compared));
    });
  }

  test('a struct from a table resolves "struct inner_t" in an event', () => {
    assert.deepEqual(events.rb, ['a#u32', 'in#struct inner_t', 'b#u64']);
    assert.throws(() => parsePerfEventFields(events.rb, 'rb'), /unknown type "struct inner_t" for field "in" of event "rb"/);
  });
});

describe('integers', () => {
  const charSigned = (parseTypeDescription('"char"') as IntLayout).signed;
  const cases: [string, number | bigint, number | bigint][] = [
    ['char', charSigned ? -128 : 0, charSigned ? 127 : 255],
    ['signed char', -128, 127],
    ['unsigned char', 0, 255],
    ['short', -32768, 32767],
    ['unsigned short', 0, 65535],
    ['int', -2147483648, 2147483647],
    ['unsigned int', 0, 4294967295],
    ['long', -(2n ** 63n), 2n ** 63n - 1n],
    ['unsigned long', 0n, 2n ** 64n - 1n],
    ['long long', -(2n ** 63n), 2n ** 63n - 1n],
    ['unsigned long long', 0n, 2n ** 64n - 1n],
    ['__int128', -(2n ** 127n), 2n ** 127n - 1n],
    ['unsigned __int128', 0n, 2n ** 128n - 1n],
  ];
  for (const [cType, min, max] of cases) {
    test(`${cType}: limits round-trip, one past them is a RangeError`, () => {
      const l = parseTypeDescription(JSON.stringify(cType));
      roundTrip(l, min);
      roundTrip(l, max);
      const buf = Buffer.alloc(layoutSize(l));
      const under = typeof min === 'bigint' ? min - 1n : min - 1;
      const over = typeof max === 'bigint' ? max + 1n : max + 1;
      assert.throws(() => encode(l, under, buf), RangeError);
      assert.throws(() => encode(l, over, buf), RangeError);
    });
  }

  test('64-bit fields accept numbers and decode to bigint', () => {
    const l = parseTypeDescription('"unsigned long long"');
    const buf = Buffer.alloc(8);
    encode(l, 42, buf);
    assert.equal(decode(l, buf), 42n);
    assert.throws(() => encode(l, 1.5, buf), TypeError);
    assert.throws(() => encode(l, '1', buf), TypeError);
  });

  test('small fields accept bigints', () => {
    const l = parseTypeDescription('"short"');
    const buf = Buffer.alloc(2);
    encode(l, -2n, buf);
    assert.equal(decode(l, buf), -2);
  });

  test('the RangeError names the field', () => {
    const l = parseTypeDescription(tables.t_nested.leaf_desc);
    const buf = Buffer.alloc(layoutSize(l));
    assert.throws(() => encode(l, { arr: [{}, { x: 70000 }] }, buf), (e: Error) => {
      assert.ok(e instanceof RangeError);
      assert.match(e.message, /field "arr\[1\]\.x": 70000 is out of range for unsigned short/);
      return true;
    });
  });
});

describe('floats and bools', () => {
  test('float, double, _Bool', () => {
    roundTrip(parseTypeDescription('"float"'), 1.25);
    roundTrip(parseTypeDescription('"double"'), -1e300);
    roundTrip(parseTypeDescription('"_Bool"'), true);
    roundTrip(parseTypeDescription('"_Bool"'), false);
    assert.throws(() => encode(parseTypeDescription('"float"'), 1e300, Buffer.alloc(4)), RangeError);
    assert.throws(() => encode(parseTypeDescription('"_Bool"'), 2, Buffer.alloc(1)), RangeError);
  });

  test('long double (x87)', { skip: process.arch !== 'x64' }, () => {
    const l = parseTypeDescription('"long double"');
    assert.deepEqual([layoutSize(l), layoutAlign(l)], [16, 16]);
    const values = [0, -0, 1, -3.5, 1e-310, 5e-324, 1.7976931348623157e308, Infinity, -Infinity, Math.PI];
    for (const v of values) roundTrip(l, v);
    const buf = Buffer.alloc(16);
    encode(l, NaN, buf);
    assert.ok(Number.isNaN(decode(l, buf)));
  });
});

describe('char arrays', () => {
  const l = parseTypeDescription('["s", [["comm","char",[8]]], "struct_packed"]');

  test('stop at the first NUL; full length without NUL is all N bytes', () => {
    assert.deepEqual(decode(l, Buffer.from('bash\0xyz')), { comm: 'bash' });
    assert.deepEqual(decode(l, Buffer.from('12345678')), { comm: '12345678' });
    assert.deepEqual(decode(l, Buffer.alloc(8)), { comm: '' });
  });

  test('invalid UTF-8 is replaced by default and kept with rawStrings', () => {
    const bytes = Buffer.from([0x61, 0xff, 0xfe, 0x62, 0, 0x63, 0, 0]);
    assert.deepEqual(decode(l, bytes), { comm: 'a\ufffd\ufffdb' });
    const raw = decode(l, bytes, 0, { rawStrings: true }) as { comm: Buffer };
    assert.deepEqual(raw.comm, Buffer.from([0x61, 0xff, 0xfe, 0x62]));
    bytes[0] = 0x7a;
    assert.equal(raw.comm[0], 0x61, 'a copy, not a view of a reused buffer');
    const out = Buffer.alloc(8);
    encode(l, raw, out);
    assert.deepEqual(out, Buffer.from([0x61, 0xff, 0xfe, 0x62, 0, 0, 0, 0]));
  });

  test('encoding truncates to N-1 bytes and a NUL, on a character boundary', () => {
    const out = Buffer.alloc(8, 0xee);
    encode(l, { comm: 'systemd-journald' }, out);
    assert.deepEqual(out, Buffer.from('systemd\0'));
    encode(l, { comm: 'abcdeé' }, out); // é is 2 bytes: would end at byte 7
    assert.deepEqual(out, Buffer.from('abcdeé\0'));
    encode(l, { comm: 'abcdefé' }, out);
    assert.deepEqual(out, Buffer.from('abcdef\0\0'));
  });

  test('a Buffer may fill all N bytes; longer is a RangeError', () => {
    const out = Buffer.alloc(8);
    encode(l, { comm: Buffer.from('12345678') }, out);
    assert.deepEqual(decode(l, out), { comm: '12345678' });
    assert.throws(() => encode(l, { comm: Buffer.alloc(9) }, out), /field "comm": 9 bytes do not fit in char\[8\]/);
  });

  test('the last decoded string is reused only while the bytes match', () => {
    const d = makeDecoder(l);
    const a = Buffer.from('bash\0\0\0\0');
    assert.deepEqual([d(a), d(Buffer.from('bas\0\0\0\0\0')), d(Buffer.from('bashx\0\0\0')), d(a)], [
      { comm: 'bash' },
      { comm: 'bas' },
      { comm: 'bashx' },
      { comm: 'bash' },
    ]);
  });

  test('signed and unsigned char arrays are numbers', () => {
    const u = parseTypeDescription('["m", [["mac","unsigned char",[3]], ["sb","signed char",[2]]], "struct_packed"]');
    roundTrip(u, { mac: [1, 2, 255], sb: [-1, 1] });
  });
});

describe('structs, arrays, unions, bitfields', () => {
  test('the example from the libbcc docs: padding fields omitted and zeroed', () => {
    const l = parseTypeDescription(
      '["k_t", [["a","unsigned int"], ["__pad_1","char",[4]], ["b","unsigned long long"], ["c","char"], ["__pad_end","char",[7]]], "struct_packed"]',
    );
    const buf = Buffer.alloc(24, 0xff);
    encode(l, { a: 1, b: 2n, c: 3 }, buf);
    assert.equal(buf.toString('hex'), '01000000' + '00000000' + '0200000000000000' + '03' + '00000000000000');
    assert.deepEqual(decode(l, Buffer.alloc(24, 0xff)), { a: 4294967295, b: 2n ** 64n - 1n, c: -1 });
  });

  test('missing fields and elements are zero; unknown fields are a TypeError', () => {
    const l = parseTypeDescription(tables.t_nested.leaf_desc);
    const buf = Buffer.alloc(40, 0xff);
    encode(l, { arr: [undefined, { y: 5 }] }, buf);
    assert.deepEqual(decode(l, buf), {
      in: { x: 0, y: 0 },
      ts: 0n,
      arr: [{ x: 0, y: 0 }, { x: 0, y: 5 }, { x: 0, y: 0 }],
      named_anon: { p: 0, q: 0 },
    });
    assert.throws(() => encode(l, { tss: 1 }, buf), /struct nested_t has no field "tss"/);
    assert.throws(() => encode(l, { arr: [{}, {}, {}, {}] }, buf), /field "arr": 4 elements do not fit in \[3\]/);
    assert.throws(() => encode(l, { in: 5 }, buf), TypeError);
  });

  test('multi-dimensional arrays nest outermost first', () => {
    const viaDims = parseTypeDescription('["t", [["m","unsigned short",[2,3]], ["s","char",[2,4]]], "struct_packed"]');
    assert.equal(layoutSize(viaDims), 20);
    const value = { m: [[1, 2, 3], [4, 5, 6]], s: ['ab', 'cde'] };
    const bytes = roundTrip(viaDims, value);
    assert.deepEqual(bytes.subarray(0, 4), Buffer.from([1, 0, 2, 0]));
    assert.deepEqual(bytes.subarray(12), Buffer.from('ab\0\0cde\0'));
  });

  test('unions: size rounds up to alignment, all members decode, the largest present encodes', () => {
    const l = parseTypeDescription('["u", [["c","char",[5]], ["x","unsigned int"]], "union"]');
    assert.deepEqual([layoutSize(l), layoutAlign(l)], [8, 4]);
    const buf = Buffer.alloc(8);
    encode(l, { x: 0x64636261 }, buf);
    assert.deepEqual(decode(l, buf), { c: 'abcd', x: 0x64636261 });
    encode(l, { c: 'zz', x: 0x64636261 }, buf);
    assert.deepEqual(decode(l, buf), { c: 'zz', x: 0x7a7a });
  });

  test('a decoded union re-encodes exactly even when its char[] member is not text', () => {
    const l = parseTypeDescription(tables.t_union.leaf_desc);
    const bytes = Buffer.from('4433221188776655', 'hex');
    const value = decode(l, bytes) as { s: string };
    assert.match(value.s, /\ufffd/);
    const out = Buffer.alloc(8);
    encode(l, value, out);
    assert.deepEqual(out, bytes);
  });

  test('anonymous members read and write as the parent\'s fields', () => {
    const l = parseTypeDescription(tables.t_anon.leaf_desc);
    const buf = roundTrip(l, { kind: 1, i: 0x3fc00000, f: 1.5, lo: 2, hi: 3 });
    assert.equal(buf.length, 12);
    assert.throws(() => encode(l, { kind: 1, q: 1 }, buf), /no field "q"/);
  });

  test('a struct_packed inside an unpadded struct keeps its natural alignment', () => {
    const l = parseTypeDescription(
      '["o", [["flag","unsigned char", 1], ["in",["i", [["x","unsigned int"], ["y","unsigned char"], ["__pad_end","char",[3]]], "struct_packed"]]], "struct"]',
    );
    assert.deepEqual(offsets(l), { flag: 0, in: 4 });
    assert.equal(layoutSize(l), 12);
  });

  test('__attribute__((packed)) structs get alignment 1', () => {
    const l = parseTypeDescription('["p", [["a","unsigned char"], ["b","unsigned int"]], "struct_packed"]');
    assert.deepEqual([layoutSize(l), layoutAlign(l)], [5, 1]);
  });

  test('bitfields: signed, unsigned, bool, 64-bit, range-checked by width', () => {
    const l = parseTypeDescription(
      '["b", [["u","unsigned int",3], ["s","int",5], ["ok","_Bool",1], ["", "unsigned int", 2], ["big","unsigned long long",40], ["n","long long",20]], "struct"]',
    );
    assert.equal(layoutSize(l), 16);
    const value = { u: 7, s: -16, ok: true, big: 2n ** 40n - 1n, n: -(2n ** 19n) };
    const bytes = roundTrip(l, value);
    // gcc, for the same struct and values:
    assert.equal(bytes.toString('hex'), '87f9ffffffff07000000080000000000');
    assert.throws(() => encode(l, { u: 8 }, bytes), /field "u": 8 is out of range for unsigned int:3/);
    assert.throws(() => encode(l, { s: 16 }, bytes), RangeError);
    assert.throws(() => encode(l, { big: 2n ** 40n }, bytes), RangeError);
  });

  test('bitfields never straddle their unit; zero-width ones align', () => {
    const l = struct(
      parseTypeDescription('["z", [["a","unsigned char",7], ["b","unsigned char",2], ["","unsigned short",0], ["c","unsigned char",1]], "struct"]'),
    );
    assert.deepEqual(
      l.fields.map((f) => [f.name, f.offset, f.bitOffset]),
      [['a', 0, 0], ['b', 1, 0], ['c', 2, 0]],
    );
    assert.deepEqual([l.size, l.align], [3, 1]);
  });
});

describe('perf/ring event fields', () => {
  test('natural alignment and trailing padding', () => {
    const l = parsePerfEventFields(['ts#u64', 'pid#u32', 'comm#char[16]', 'cpu#u8'], 'ev');
    assert.deepEqual(offsets(l), { ts: 0, pid: 8, comm: 12, cpu: 28 });
    assert.deepEqual([l.size, l.align], [32, 8]);
  });

  test('the captured event matches gcc: __int128 aligns to 16', () => {
    const l = parsePerfEventFields(events.events, 'events');
    assert.equal(l.name, 'events');
    assert.deepEqual(offsets(l), {
      pid: 0, comm: 4, ts: 24, flag: 32, port: 34, addr: 40, name: 48, col: 56, m: 60,
      tgid: 84, ok: 88, ul: 96, lli: 104, sc: 112, big: 128, tail: 144,
    });
    assert.equal(l.size, 160);
  });

  test('type spellings', () => {
    const l = parsePerfEventFields(
      [
        'a#unsigned long', 'b#long long int', 'c#const char *', 'd#char (*)[16]', 'e#char *[2]',
        'f#enum state', 'g#char [4]', 'h#__be16', 'i#volatile unsigned', 'j#long unsigned int',
        'k#_Bool', 'l#signed', 'm#u8[2][2]', 'n#uint64_t', 'o#my_t',
      ],
      'spell',
      { types: { my_t: parseTypeDescription('"short"') } },
    );
    const kinds = Object.fromEntries(
      l.fields.map((f) => [f.name, f.layout.kind === 'int' ? `${f.layout.signed ? 's' : 'u'}${f.layout.size}` : f.layout.kind]),
    );
    assert.deepEqual(kinds, {
      a: 'u8', b: 's8', c: 'u8', d: 'u8', e: 'array', f: 's4', g: 'chararray', h: 'u2',
      i: 'u4', j: 'u8', k: 'bool', l: 's4', m: 'array', n: 'u8', o: 's2',
    });
    assert.equal(layoutSize(l.fields[4].layout), 16);
  });

  test('unknown and malformed fields are errors', () => {
    assert.throws(() => parsePerfEventFields(['x#struct foo'], 'e'), /unknown type "struct foo" for field "x" of event "e"/);
    assert.throws(() => parsePerfEventFields(['x#pid_tt'], 'e'), /unknown type/);
    assert.throws(() => parsePerfEventFields(['nohash'], 'e'), /not "name#type"/);
  });
});

describe('parse errors', () => {
  test('unknown types and shapes', () => {
    assert.throws(() => parseTypeDescription('"void"'), /unknown C type "void"/);
    assert.throws(() => parseTypeDescription('not json'), /not JSON/);
    assert.throws(() => parseTypeDescription('["s", [["a"]], "struct"]'), /field/);
    assert.throws(() => parseTypeDescription('["s", [], "class"]'), /record kind/);
  });
});

describe('decoders', () => {
  test('makeDecoder is cached per layout and options, honours offset and bounds', () => {
    const l = parseTypeDescription(tables.t_kints.key_desc);
    assert.equal(makeDecoder(l), makeDecoder(l));
    assert.notEqual(makeDecoder(l), makeDecoder(l, { rawStrings: true }));
    const buf = Buffer.alloc(48);
    encode(l, { a: 9, b: 8n, c: 7 }, buf, 24);
    assert.deepEqual(makeDecoder(l)(buf, 24), { a: 9, b: 8n, c: 7 });
    assert.throws(() => makeDecoder(l)(buf, 25), RangeError);
    assert.throws(() => encode(l, {}, buf, 25), RangeError);
  });

  test('decode of a scalar', () => {
    assert.equal(decode(parseTypeDescription('"int"'), Buffer.from([0xff, 0xff, 0xff, 0xff])), -1);
  });
});
