// pktcount's configuration → program. There is one program and one attach point, the interface;
// what is decided at attach time is how XDP runs there: native (in the driver) or generic (on
// an skb), and whether a bpf_link or netlink holds it. The binding tries the best first and
// reports every refusal (lib/bcc-node-bindings/src/xdp.ts); the choices become --explain's
// ladder here, after attaching, since only the driver and the kernel can answer.
import type { BPF, XdpAttachment, XdpAttempt } from 'bcc-node-bindings';
import type { AttachChoice } from '../../lib/run/attach-plan.ts';
import type { ToolProgram } from '../../lib/run/program.ts';
import { MAX_DROP_RULES } from './options.ts';

export interface PktcountConfig {
  /** The interface, by name, in this process's network namespace. */
  ifname: string;
  /** -S: generic mode only. */
  skbMode?: boolean;
  /** Entries of the kernel's counting table. */
  maxKeys: number;
}

export const XDP_FUNCTION = 'xdp_pktcount';

const MODE_LABELS = {
  native: 'native XDP (in the driver, before an skb exists)',
  generic: 'generic XDP (skb mode, after the stack built an skb)',
} as const;
const MECHANISM_LABELS = {
  link: 'bpf_link (BPF_LINK_CREATE, BPF_XDP: leaves with the process, even on kill -9)',
  netlink: 'netlink (IFLA_XDP: removed on exit, but stays after kill -9)',
} as const;

function failures(attempts: XdpAttempt[], pick: (a: XdpAttempt) => boolean): string[] {
  return attempts.filter((a) => a.error !== null && pick(a)).map((a) => a.error!);
}

/** --explain's two decisions, from what the binding tried. */
export function xdpChoices(a: XdpAttachment, skbMode = false): AttachChoice[] {
  const nativeRefused = failures(a.attempts, (x) => x.mode === 'native' && x.mechanism === a.mechanism);
  const linkRefused = failures(a.attempts, (x) => x.mechanism === 'link');
  const mode: AttachChoice = {
    purpose: `XDP mode on ${a.ifname}`,
    chosen: MODE_LABELS[a.mode],
    rejected: a.mode === 'native' ? [] : [{
      label: 'native XDP',
      reason: skbMode ? 'not asked for (-S)' : `the driver of ${a.ifname} refused it: ${nativeRefused.join(', ') || 'refused'}`,
    }],
    // Generic XDP works on every interface: it is always the next rung.
    fallbacks: () => (a.mode === 'native' ? [{ label: MODE_LABELS.generic, reason: null }] : []),
  };
  const mechanism: AttachChoice = {
    purpose: 'XDP attachment',
    chosen: MECHANISM_LABELS[a.mechanism],
    rejected: a.mechanism === 'link' ? [] : [{
      label: 'bpf_link',
      reason: `the kernel refused an XDP link (Linux 5.9+): ${linkRefused.join(', ') || 'refused'}`,
    }],
    fallbacks: () => (a.mechanism === 'link' ? [{ label: MECHANISM_LABELS.netlink, reason: null }] : []),
  };
  return [mode, mechanism];
}

export function configurePktcount(config: PktcountConfig): ToolProgram {
  const attachments: AttachChoice[] = [];
  return {
    file: 'pktcount.bpf.c',
    defines: { MAX_KEYS: config.maxKeys, MAX_DROP_RULES },
    // Filled by attach(): ctx.attach() reads it after attaching.
    attachments,
    attach(bpf: BPF) {
      const result = bpf.attachXdp(XDP_FUNCTION, config.ifname, { mode: config.skbMode ? 'generic' : 'auto' });
      attachments.push(...xdpChoices(result, config.skbMode));
    },
  };
}
