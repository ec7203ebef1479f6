// Getting a distribution's stock kernel without installing it: apt runs against a private state
// directory (its own sources, lists and cache, so this machine's apt configuration is neither
// read nor changed), `apt-get download` fetches the image, modules and headers packages, and
// `dpkg -x` unpacks them under the cache. Nothing is written under /lib/modules or /boot.
// Every step is skipped when its result is already there, so a second run costs a few checks.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { KernelSpec } from './kernels.ts';
import { readText } from './text-file.ts';

export interface FetchedKernel {
  release: string;
  /** Where the packages are unpacked: <root>/usr/src, <root>/lib/modules/<release>, <root>/boot. */
  root: string;
  /** The modules directory of the release inside root (lib/ or usr/lib/, by distribution). */
  modulesDir: string;
  /** What QEMU boots: the uncompressed vmlinux when it could be extracted, else the vmlinuz. */
  kernelImage: string;
  packages: Array<{ name: string; version: string }>;
}

const DAY_MS = 24 * 3600 * 1000;

export function fetchKernel(spec: KernelSpec, dir: string, log: (line: string) => void): FetchedKernel {
  const apt = privateApt(spec, path.join(dir, 'apt'));
  apt.refresh(log);
  const debsDir = path.join(dir, 'debs');
  fs.mkdirSync(debsDir, { recursive: true });
  const packages = apt.kernelPackages(spec.metapackages);
  const debs = packages.map((p) => {
    const file = path.join(debsDir, p.filename);
    if (!fs.existsSync(file)) {
      log(`downloading ${p.name} ${p.version}`);
      apt.run('apt-get', ['-q', 'download', `${p.name}=${p.version}`], debsDir);
    }
    return file;
  });

  const root = path.join(dir, 'root');
  const stamp = path.join(dir, 'root.debs');
  const wanted = debs.map((d) => path.basename(d)).join('\n');
  if (readText(stamp) !== wanted) {
    log(`unpacking ${debs.length} packages`);
    fs.rmSync(root, { recursive: true, force: true });
    fs.mkdirSync(root, { recursive: true });
    for (const deb of debs) execFileSync('dpkg', ['-x', deb, root]);
    fs.writeFileSync(stamp, wanted);
  }

  const modulesBase = ['lib/modules', 'usr/lib/modules'].map((d) => path.join(root, d)).find((d) => fs.existsSync(d));
  const releases = modulesBase ? fs.readdirSync(modulesBase) : [];
  if (!modulesBase || releases.length !== 1) throw new Error(`expected one kernel release in the ${spec.name} packages, found: ${releases.join(', ') || 'none'}`);
  const release = releases[0];
  const modulesDir = path.join(modulesBase, release);
  // The image package ships no modules.dep; depmod writes it inside the unpacked tree only
  // (it looks under <base>/lib/modules, which merged-/usr packages do not ship).
  if (!fs.existsSync(path.join(modulesDir, 'modules.dep.bin'))) {
    log(`depmod ${release}`);
    if (!fs.existsSync(path.join(root, 'lib'))) fs.symlinkSync('usr/lib', path.join(root, 'lib'));
    execFileSync('depmod', ['-b', root, release]);
  }
  const kernelImage = uncompressedKernel(path.join(root, 'boot', `vmlinuz-${release}`), path.join(dir, `vmlinux-${release}`), log);
  return { release, root, modulesDir, kernelImage, packages: packages.map(({ name, version }) => ({ name, version })) };
}

interface AptPackage { name: string; version: string; filename: string }

function privateApt(spec: KernelSpec, dir: string) {
  const etc = path.join(dir, 'etc');
  for (const sub of ['etc/sources.list.d', 'etc/preferences.d', 'etc/apt.conf.d', 'lists/partial', 'cache/archives/partial', 'state']) {
    fs.mkdirSync(path.join(dir, sub), { recursive: true });
  }
  // One suite per line: apt's one-line format takes a single suite.
  const lines = spec.sources.flatMap((s) => s.suites.map((suite) => `deb [signed-by=${s.keyring}] ${s.uri} ${suite} ${s.component}`));
  const sourcesFile = path.join(etc, 'sources.list');
  const text = `${lines.join('\n')}\n`;
  const sourcesChanged = readText(sourcesFile) !== text;
  if (sourcesChanged) fs.writeFileSync(sourcesFile, text);
  const status = path.join(dir, 'state', 'status');
  if (!fs.existsSync(status)) fs.writeFileSync(status, '');
  const options = [
    `Dir::Etc=${etc}`, `Dir::State=${path.join(dir, 'state')}`, `Dir::State::status=${status}`,
    `Dir::State::Lists=${path.join(dir, 'lists')}`, `Dir::Cache=${path.join(dir, 'cache')}`,
    'APT::Architecture=amd64', 'APT::Architectures::=amd64', 'Acquire::Languages=none',
  ].flatMap((o) => ['-o', o]);
  const run = (command: string, args: string[], cwd?: string) =>
    execFileSync(command, [...options, ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const updated = path.join(dir, 'updated.stamp');

  return {
    run,
    refresh(log: (line: string) => void) {
      const age = Date.now() - (fs.statSync(updated, { throwIfNoEntry: false })?.mtimeMs ?? 0);
      if (!sourcesChanged && age < DAY_MS) return;
      log(`apt-get update (${spec.sources.flatMap((s) => s.suites).join(', ')}; private lists)`);
      run('apt-get', ['-qq', 'update']);
      fs.writeFileSync(updated, '');
    },
    /** The versioned image, modules and headers packages the metapackages point at. */
    kernelPackages(metapackages: string[]): AptPackage[] {
      const deps = run('apt-cache', ['depends', '--recurse', '--no-recommends', '--no-suggests', '--no-conflicts',
        '--no-breaks', '--no-replaces', '--no-enhances', ...metapackages]);
      const names = [...new Set(deps.split('\n').map((l) => l.trim()).filter((l) => /^linux-(image|modules|headers)-\d[\w.+-]*$/.test(l)))]
        .filter((n) => !n.endsWith('-dbg')).sort();
      // Some series ship the image twice, signed and unsigned, with the same files: one is enough.
      const packages = names.filter((n) => !(n.endsWith('-unsigned') && names.includes(n.replace(/-unsigned$/, ''))));
      if (!packages.some((n) => n.startsWith('linux-image-'))) throw new Error(`no kernel image behind ${metapackages.join(', ')}`);
      return packages.map((name) => {
        // `download --print-uris` names the candidate's file without fetching it.
        const uri = run('apt-get', ['-qq', '--print-uris', 'download', name]).trim().split('\n').pop() ?? '';
        const m = /^'[^']+' (\S+) \d+/.exec(uri);
        if (!m) throw new Error(`apt-get could not locate ${name}: ${uri}`);
        const version = decodeURIComponent(m[1].split('_')[1] ?? '');
        return { name, version, filename: m[1] };
      });
    },
  };
}

/**
 * Under software emulation the kernel's own xz decompressor takes ~10 s, so the payload is
 * unpacked here once: QEMU boots the ELF directly (through its PVH entry point).
 */
function uncompressedKernel(vmlinuz: string, out: string, log: (line: string) => void): string {
  if (fs.existsSync(out)) return out;
  const image = fs.readFileSync(vmlinuz);
  const formats: Array<{ magic: number[]; command: string[] }> = [
    { magic: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], command: ['xz', '-dc', '--single-stream'] },
    { magic: [0x28, 0xb5, 0x2f, 0xfd], command: ['zstd', '-dcq'] },
    { magic: [0x1f, 0x8b, 0x08], command: ['gzip', '-dc'] },
  ];
  for (const { magic, command } of formats) {
    for (let at = image.indexOf(Buffer.from(magic)); at >= 0; at = image.indexOf(Buffer.from(magic), at + 1)) {
      let elf: Buffer;
      try {
        elf = execFileSync(command[0], command.slice(1), { input: image.subarray(at), maxBuffer: 1 << 30, stdio: ['pipe', 'pipe', 'ignore'] });
      } catch (err) {
        // Trailing data after the stream makes some decompressors exit non-zero with full output.
        elf = (err as { stdout?: Buffer }).stdout ?? Buffer.alloc(0);
      }
      if (elf.subarray(0, 4).equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]))) {
        fs.writeFileSync(out, elf);
        log(`extracted vmlinux (${(elf.length / 1048576).toFixed(0)} MB) from ${path.basename(vmlinuz)}`);
        return out;
      }
    }
  }
  log(`could not extract vmlinux from ${path.basename(vmlinuz)}: booting the compressed image`);
  return vmlinuz;
}
