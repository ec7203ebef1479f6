// The kernels `make test-vm` knows: each one a distribution's stock kernel, named by the metapackages
// its users install, fetched from that distribution's archive (never installed on this machine).
// "host" is the kernel this machine runs: its tests run here, without a guest.
import { TOOL_NAMES } from '../../tools/index.ts';

export interface AptSource {
  uri: string;
  suites: string[];
  component: string;
  /** The archive's signing keys: every index apt reads is verified against them. */
  keyring: string;
}

export interface KernelSpec {
  /** What KERNEL= names. */
  name: string;
  /** How the results table names it. */
  title: string;
  sources: AptSource[];
  /** Metapackages that point at the newest image and headers (and modules) of the series. */
  metapackages: string[];
}

const DEBIAN_KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';

function debian(suite: string, withSecurity: boolean): AptSource[] {
  const sources = [{ uri: 'http://deb.debian.org/debian', suites: [suite, `${suite}-updates`], component: 'main', keyring: DEBIAN_KEYRING }];
  if (withSecurity) sources.push({ uri: 'http://deb.debian.org/debian-security', suites: [`${suite}-security`], component: 'main', keyring: DEBIAN_KEYRING });
  return sources;
}

export const HOST = 'host';

export const KERNELS: KernelSpec[] = [
  {
    name: 'debian12',
    title: 'Debian 12 (bookworm)',
    sources: debian('bookworm', true),
    metapackages: ['linux-image-amd64', 'linux-headers-amd64'],
  },
  {
    name: 'debian11',
    title: 'Debian 11 (bullseye)',
    sources: debian('bullseye', true),
    metapackages: ['linux-image-amd64', 'linux-headers-amd64'],
  },
  {
    name: 'debian13',
    title: 'Debian 13 (trixie)',
    sources: debian('trixie', true),
    metapackages: ['linux-image-amd64', 'linux-headers-amd64'],
  },
];

/** The kernels a plain `make test-vm` runs: this machine's and Debian 12's. */
export const DEFAULT_KERNELS = [HOST, 'debian12'];

export function kernelSpec(name: string): KernelSpec | undefined {
  return KERNELS.find((k) => k.name === name);
}

/** Each tool's exact tests, and what every tool promises (conventions), on each kernel. */
export const DEFAULT_TESTS = [...TOOL_NAMES.map((t) => `test/kernel/${t}.test.ts`), 'test/kernel/conventions.test.ts'];
