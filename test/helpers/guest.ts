// What a test needs to know when it runs inside a `make test-vm` guest (test/vm/guest.sh sets
// BPFKIT_VM_GUEST=1): everything there is 7 to 30 times slower (software emulation), and checks
// that do not depend on the kernel have already run on the host.
import { test } from 'node:test';

export const IN_VM_GUEST = process.env.BPFKIT_VM_GUEST === '1';

/**
 * Multiplies the safety limits that end a stuck run (never a measured time: tests assert no
 * durations). A guest compiles a program in ~30 s where this machine takes ~1.5.
 */
export const TIME_SCALE = IN_VM_GUEST ? 10 : 1;

/**
 * A test of the repository or of option parsing, whose answer is the same on every kernel: it
 * runs with `make test`, and is left out of the guests, where it would only cost time.
 */
export const kernelIndependentTest: typeof test = IN_VM_GUEST ? ((() => Promise.resolve()) as unknown as typeof test) : test;
