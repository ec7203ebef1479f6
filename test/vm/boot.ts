// Booting the test guest under QEMU: software emulation (TCG, all host CPUs), the kernel image
// and initramfs given directly, the host's root shared read-only and the run's directory shared
// writable over 9p, the serial console on our stdout. The guest powers itself off when its job
// is done; a run that outlasts its time limit is killed.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';

export interface BootOptions {
  kernelImage: string;
  initramfs: string;
  /** Host directory the guest sees at /bpfkit-vm (its job in, its results out). */
  share: string;
  guestScript: string;
  cpus: number;
  memoryMiB: number;
  timeoutS: number;
  /** Each console line, as it arrives. */
  onLine: (line: string) => void;
}

export interface BootResult {
  exitCode: number | null;
  timedOut: boolean;
  seconds: number;
  /** Host seconds from QEMU's start to the guest script's first line. */
  bootSeconds: number | null;
}

/**
 * KVM is not used even where /dev/kvm exists: on these machines it is nested and paravirtual,
 * and a guest under it runs about 1000 times slower than under TCG (see ../shared/notes/vm-facts.md).
 */
export function qemuArgs(o: BootOptions): string[] {
  // A soft lockup ends the run at once, its stack trace on the console (loglevel 5 shows the
  // warnings the trace is printed at), instead of hanging until the timeout; the watchdog waits
  // 120 s, not 20, as a host busy elsewhere can stall emulated CPUs for seconds.
  // lsm= adds bpf to the stock list: secwatch's deny rules need BPF LSM programs, which change
  // nothing until one attaches (names a kernel lacks are skipped).
  const cmdline = ['console=ttyS0', 'panic=-1', 'softlockup_panic=1', 'watchdog_thresh=60', 'quiet', 'loglevel=5',
    'mitigations=off', 'lsm=landlock,lockdown,yama,integrity,apparmor,bpf', `bpfkit_guest=${o.guestScript}`];
  return [
    '-accel', 'tcg,thread=multi', '-cpu', 'max', '-smp', String(o.cpus), '-m', String(o.memoryMiB),
    '-nodefaults', '-no-user-config', '-no-reboot', '-display', 'none',
    '-kernel', o.kernelImage, '-initrd', o.initramfs, '-append', cmdline.join(' '),
    '-virtfs', 'local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap',
    '-virtfs', `local,path=${o.share},mount_tag=vmshare,security_model=none,multidevs=remap`,
    '-chardev', 'stdio,id=console,signal=off', '-serial', 'chardev:console',
  ];
}

export function boot(o: BootOptions): Promise<BootResult> {
  const started = Date.now();
  let bootSeconds: number | null = null;
  const qemu = spawn('qemu-system-x86_64', qemuArgs(o), { stdio: ['pipe', 'pipe', 'pipe'] });
  const console = fs.createWriteStream(path.join(o.share, 'console.log'));
  let pending = '';
  // A character may be split between two reads of the serial console.
  const decoder = new StringDecoder('utf8');
  const onData = (chunk: Buffer) => {
    console.write(chunk);
    pending += decoder.write(chunk).replace(/\r/g, '');
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      if (bootSeconds === null && line.startsWith('bpfkit-vm: ')) bootSeconds = (Date.now() - started) / 1000;
      o.onLine(line);
    }
  };
  qemu.stdout.on('data', onData);
  qemu.stderr.on('data', onData);
  let timedOut = false;
  const timer = setTimeout(() => { timedOut = true; qemu.kill('SIGKILL'); }, o.timeoutS * 1000);
  return new Promise((resolve, reject) => {
    qemu.on('error', (err) => { clearTimeout(timer); reject(err); });
    qemu.on('close', (exitCode) => {
      clearTimeout(timer);
      if (pending) o.onLine(pending);
      console.end();
      resolve({ exitCode, timedOut, seconds: (Date.now() - started) / 1000, bootSeconds });
    });
  });
}
