// Relative links in Markdown, and the anchors GitHub gives headings: pure, so
// that the check over README and docs/ (links.test.ts) is tested on its own.

export interface Link { line: number; target: string }

/** Inline links `[text](target)` outside fenced code; absolute URLs are left out. */
export function relativeLinks(markdown: string): Link[] {
  const links: Link[] = [];
  let fenced = false;
  markdown.split('\n').forEach((text, i) => {
    if (/^\s*```/.test(text)) { fenced = !fenced; return; }
    if (fenced) return;
    const code = /`[^`]*`/g; // a link inside inline code is text
    for (const m of text.replace(code, '').matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      if (!/^[a-z][a-z0-9+.-]*:/i.test(m[1])) links.push({ line: i + 1, target: m[1] });
    }
  });
  return links;
}

/** The anchors of a document's headings, as GitHub makes them (lower case, punctuation dropped, spaces to hyphens, -1 -2 for repeats). */
export function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const text of markdown.split('\n')) {
    if (/^\s*```/.test(text)) { fenced = !fenced; continue; }
    const h = !fenced && /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(text);
    if (!h) continue;
    const slug = h[1].toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    anchors.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return anchors;
}
