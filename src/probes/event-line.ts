// The sampled-event line, defined once: the probe programs printf it
// (src/probes/program.ts) and the agent parses it (src/bpftrace/sampled-event.ts).
//
//   FLE4 kind=1 crit=1 hook=… ifindex=2 … ts=233079230755 culprit=9 culprit_ts=… dev=<device name>
//           <kernel stack, one frame a line>
//   culprit_stack=
//           <the culprit's kernel stack when it wrote the skb>
//   comm=<process name>
//
// The two strings users control are placed where they cannot reach another
// field: the device name ends the first line (the kernel refuses whitespace in
// it, so it cannot hold a newline) and the process name ends the record (it
// may hold anything but NUL, newlines and "x=y" included). The parser reads
// the fixed fields by position from the front and takes the first "\ncomm="
// after the header: what comm holds can only come after it. Stack frames never
// hold "=", so the culprit stack's mark cannot be forged by a frame either. bpftrace's JSON
// writer escapes the text, so a record's end is the end of one printf.
// Pure: data and a format string.

export const EVENT_MAGIC = 'FLE4';

/** How a field's value is printed: decimal, 64-bit decimal, 0x-hex pointer, two hex words, or the hook as the mode prints it. */
export type FieldFormat = 'dec' | 'ns' | 'ptr' | 'words' | 'hook';

/** The fixed fields of the header, in order. */
export const EVENT_FIELDS = [
  ['kind', 'dec'], ['crit', 'dec'], ['hook', 'hook'], ['ifindex', 'dec'], ['skb', 'ptr'], ['shinfo', 'ptr'],
  ['before', 'ptr'], ['after', 'ptr'], ['len', 'dec'], ['data_len', 'dec'], ['nr_frags', 'dec'], ['gso_size', 'dec'],
  ['gso_segs', 'dec'], ['gso_type', 'dec'], ['gso_before', 'ptr'], ['cloned', 'dec'], ['ethertype', 'dec'], ['proto', 'dec'],
  ['a', 'words'], ['b', 'words'], ['sport', 'dec'], ['dport', 'dec'], ['cpu', 'dec'], ['pid', 'dec'], ['ts', 'ns'],
  ['culprit', 'dec'], ['culprit_ts', 'ns'],
] as const satisfies ReadonlyArray<readonly [string, FieldFormat]>;

export type EventField = (typeof EVENT_FIELDS)[number][0];

/** Marks the start of the process name, at the start of a line after the stacks. */
export const COMM_MARK = '\ncomm=';
/** Separates the event's stack from its culprit's. */
export const CULPRIT_STACK_MARK = '\nculprit_stack=';

/**
 * The printf format: the fixed fields, then dev, the kernel stack, the
 * culprit's stack and comm. Arguments follow EVENT_FIELDS (`words` takes two),
 * then dev, kstack, the culprit's stack, comm.
 */
export function eventPrintfFormat(hookFormat: '%s' | '%d'): string {
  const spec: Record<FieldFormat, string> = { dec: '%d', ns: '%ld', ptr: '0x%lx', words: '%lx:%lx', hook: hookFormat };
  const fields = EVENT_FIELDS.map(([name, f]) => `${name}=${spec[f]}`).join(' ');
  const line = (mark: string) => mark.replace('\n', '\\n');
  return `${EVENT_MAGIC} ${fields} dev=%s\\n%s${line(CULPRIT_STACK_MARK)}%s${line(COMM_MARK)}%s`;
}
