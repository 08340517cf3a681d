// A systemd unit file read as systemd reads it: sections and directives (the
// tests compare them with what `systemctl show` reports on a real host).

export type Unit = Record<string, Record<string, string[]>>;

/** A unit file's sections and their directives (a directive may repeat). */
export function parseUnit(text: string): Unit {
  const unit: Unit = {};
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) { section = header[1]; unit[section] ??= {}; continue; }
    const eq = line.indexOf('=');
    const key = line.slice(0, eq).trim(), value = line.slice(eq + 1).trim();
    ((unit[section] ??= {})[key] ??= []).push(value);
  }
  return unit;
}
