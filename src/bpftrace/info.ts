// `bpftrace --info`: which probe types and kernel features it says it has.
// Pure. 0.17 prints one "  name: yes|no" a line; 0.23 and later print two
// columns a line ("  kprobe: yes                      tracepoint: yes") and
// name kfunc "fentry".

/** "name" -> yes (true) / no (false); what it does not mention is absent. */
export function infoFlags(text: string): Record<string, boolean> {
  const flags: Record<string, boolean> = {};
  for (const line of text.split('\n')) {
    for (const cell of line.trim().split(/\s{2,}/)) {
      const m = /^([\w:() .-]+?): (yes|no)$/.exec(cell.trim());
      if (m) flags[m[1]] = m[2] === 'yes';
    }
  }
  // one name for the fentry/fexit probe type, whichever the version prints
  if (flags.kfunc === undefined && flags.fentry !== undefined) flags.kfunc = flags.fentry;
  return flags;
}
