// Does this kernel survive an SKB_GSO_FRAGLIST skb without a frag_list at
// list segmentation? Before "gso: fix udp gso fraglist segmentation after
// pull from frag_list" (a1e40ac5b5e9, Oct 2024) __udp_gso_segment sends it to
// skb_segment_list, and the kernel dereferences NULL right after (a BPF
// program that pulls all data of a fraglist-GRO skb is enough). With the fix it
// goes to skb_segment. Where the fix is lacking (or not known to be there),
// such an skb anywhere on the host is a page, not a warning. Pure.

export type FraglistFixState = 'fixed' | 'lacking' | 'unknown' | 'no-fraglist-gso';
/** The operator's word (--kernel.fraglist-fix) overrides what the version says. */
export type FraglistFixOverride = 'auto' | 'fixed' | 'lacking';

export interface FraglistFix { state: FraglistFixState; upstream?: string; why: string }

/**
 * Per stable branch, the first release that carries a1e40ac5b5e9, as Debian's
 * kernel changelogs list it (they name every upstream stable commit): 6.1.113
 * (bookworm), 6.11.3 (trixie's history). Mainline has it from 6.12.
 */
const FIXED_FROM: Record<string, number> = { '6.1': 113, '6.11': 3 };
const FIXED_IN_MAINLINE: [number, number] = [6, 12];
/** Per branch, the last release verified to lack it: Debian bullseye's 5.10.223 (its changelog; it crashes in the test suite). */
const LACKING_THROUGH: Record<string, number> = { '5.10': 223 };
/** SKB_GSO_FRAGLIST and list segmentation came with 5.6 (3a1296a38d0c, 9fd1ff5d2ac7). */
const FRAGLIST_SINCE: [number, number] = [5, 6];

export interface KernelVersionText {
  /** uname -r */
  release: string;
  /** /proc/version: Debian's names the upstream release last ("... Debian 5.10.223-1 (2024-08-10)") */
  procVersion?: string;
  /** /proc/version_signature: Ubuntu's ends with the upstream release */
  versionSignature?: string;
}

/**
 * The upstream release a kernel is built from, where its text says so.
 * Distribution kernels that number by their own scheme ("6.1.0-50-cloud-amd64",
 * "4.18.0-553.el8_10", "5.15.0-122-generic": sublevel 0 and a suffix) say it
 * elsewhere or not at all.
 */
export function upstreamVersion(k: KernelVersionText): string | undefined {
  // the last "Debian X.Y.Z-": the compiler's own Debian version comes first
  const debian = [...(k.procVersion ?? '').matchAll(/\bDebian (\d+\.\d+\.\d+)-/g)].pop();
  if (debian) return debian[1];
  const ubuntu = /^Ubuntu \S+ (\d+\.\d+\.\d+)\s*$/.exec(k.versionSignature ?? '');
  if (ubuntu) return ubuntu[1];
  const own = /^(\d+\.\d+)(?:\.(\d+))?(.*)$/.exec(k.release);
  if (!own) return undefined;
  const sublevel = Number(own[2] ?? 0);
  if (sublevel === 0 && own[3] !== '') return undefined;
  return `${own[1]}.${sublevel}`;
}

/** What the kernel's version text says of the fix. */
export function fraglistFix(k: KernelVersionText): FraglistFix {
  const upstream = upstreamVersion(k);
  if (!upstream) return { state: 'unknown', why: `the upstream release of ${k.release} is not in its version text` };
  const [major, minor, sublevel] = upstream.split('.').map(Number);
  const branch = `${major}.${minor}`;
  const atLeast = ([a, b]: [number, number]) => major > a || (major === a && minor >= b);
  if (!atLeast(FRAGLIST_SINCE)) return { state: 'no-fraglist-gso', upstream, why: `${upstream} predates SKB_GSO_FRAGLIST (5.6)` };
  if (atLeast(FIXED_IN_MAINLINE)) return { state: 'fixed', upstream, why: `${upstream}: mainline has the fix since 6.12` };
  if (branch in FIXED_FROM && sublevel >= FIXED_FROM[branch]) return { state: 'fixed', upstream, why: `${upstream}: ${branch}.y has the fix since ${branch}.${FIXED_FROM[branch]}` };
  if (branch in FIXED_FROM) return { state: 'lacking', upstream, why: `${upstream}: ${branch}.y has the fix only from ${branch}.${FIXED_FROM[branch]}` };
  if (branch in LACKING_THROUGH && sublevel <= LACKING_THROUGH[branch]) return { state: 'lacking', upstream, why: `${upstream}: ${branch}.y lacks the fix through ${branch}.${LACKING_THROUGH[branch]}` };
  return { state: 'unknown', upstream, why: `${upstream}: not known whether ${branch}.y has the fix at this release` };
}

/** The operator's word over the version's: --kernel.fraglist-fix, applied with the rest of the configuration. */
export function withOverride(judged: FraglistFix, override: FraglistFixOverride): FraglistFix {
  return override === 'auto' ? judged : { state: override, upstream: judged.upstream, why: `--kernel.fraglist-fix=${override}` };
}

/** The states in which an skb with SKB_GSO_FRAGLIST and no list crashes the kernel when it is segmented (the pager selects by them). */
export const CRASHING_STATES: readonly FraglistFixState[] = ['lacking', 'unknown'];
export const crashesOnFraglistWithoutList = (s: FraglistFixState) => CRASHING_STATES.includes(s);
