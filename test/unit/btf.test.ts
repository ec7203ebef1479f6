import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { KernelBtf, BTF_KIND } from '../../lib/bcc-node-bindings/src/btf.ts';

const HAVE_BTF = fs.existsSync('/sys/kernel/btf/vmlinux');

test('the running kernel\'s BTF gives task_struct field offsets, through anonymous members too', { skip: !HAVE_BTF && process.env.CI !== 'true' }, () => {
  const btf = KernelBtf.load();
  const parent = btf.fieldLocation('task_struct', 'real_parent')!;
  assert.equal(parent.kind, BTF_KIND.PTR);
  assert.equal(parent.size, 8);
  const tgid = btf.fieldLocation('task_struct', 'tgid')!;
  const pid = btf.fieldLocation('task_struct', 'pid')!;
  assert.equal(tgid.offset, pid.offset + 4); // declared next to each other in every kernel
  assert.equal(btf.fieldLocation('task_struct', 'comm')!.size, 16);
  // skc_daddr sits in an anonymous union inside struct sock_common, at the start of struct sock.
  assert.equal(btf.offsetOf('sock', '__sk_common.skc_daddr'), btf.offsetOf('sock_common', 'skc_daddr'));
  assert.equal(btf.hasField('task_struct', 'no_such_field'), false);
  assert.throws(() => btf.offsetOf('task_struct', 'no_such_field'), /no field no_such_field/);
});

test('data that is not BTF is refused', () => {
  assert.throws(() => new KernelBtf(Buffer.alloc(64)), /bad magic/);
});
