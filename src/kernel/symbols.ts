// Which of some kernel functions a symbol list names: /proc/kallsyms
// ("address type name", "\t[module]" after it for a module's) or tracefs's
// available_filter_functions ("name", " [module]" after it). A name counts
// only whole: after a space or at the line's start, before white space or the
// line's end; "__pfx_skb_segment" and "skb_segment.cold" are other symbols.
// One regular expression over a block of lines, not a split per line:
// kallsyms has 200,000 lines, and splitting them was most of the CPU of the
// agent's periodic host re-check.

/** a finder for `wanted` in text made of whole lines */
export function symbolFinder(wanted: readonly string[]): (lines: string) => string[] {
  const names = wanted.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
  const re = new RegExp(`(?:^| )(${names})(?=[ \\t]|$)`, 'gm');
  return (lines) => Array.from(lines.matchAll(re), (m) => m[1]);
}
