// Every relative link in README and docs/ (and the runbooks and the chart's
// README) points at a file that exists, and at a heading that exists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { root } from '../helpers/repo.js';
import { headingAnchors, relativeLinks } from './links.js';

const DOCUMENTS = ['README.md', 'deploy/runbooks.md', 'deploy/helm/fraglist-exporter/README.md',
  ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

test('links: relative targets, not absolute URLs or links inside code', () => {
  const md = 'see [a](docs/a.md) and [b](https://x.example/) and `[c](nowhere.md)`\n```\n[d](nowhere.md)\n```\n[e](#top "title")';
  assert.deepEqual(relativeLinks(md), [{ line: 1, target: 'docs/a.md' }, { line: 5, target: '#top' }]);
});

test('anchors: as GitHub makes them', () => {
  const anchors = headingAnchors('# Bare metal (systemd)\n## `watch`: the tool\n## Repeat\n## Repeat\n```\n# not a heading\n```');
  assert.deepEqual([...anchors], ['bare-metal-systemd', 'watch-the-tool', 'repeat', 'repeat-1']);
});

test('README is a user document of at most 300 lines, and every docs/ page is linked from it', () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  assert.ok(readme.split('\n').length <= 300, `README.md has ${readme.split('\n').length} lines`);
  const linked = new Set(relativeLinks(readme).map((l) => l.target.split('#')[0]));
  for (const doc of DOCUMENTS.filter((d) => d.startsWith('docs/'))) assert.ok(linked.has(doc), `README does not link ${doc}`);
});

test('every relative link in README and docs/ resolves, anchors included', () => {
  const broken: string[] = [];
  for (const doc of DOCUMENTS) {
    const text = readFileSync(join(root, doc), 'utf8');
    for (const { line, target } of relativeLinks(text)) {
      const [path, anchor] = target.split('#');
      const file = path ? join(root, dirname(doc), decodeURIComponent(path)) : join(root, doc);
      if (!existsSync(file)) { broken.push(`${doc}:${line}: ${target}: no ${relative(root, file)}`); continue; }
      if (anchor && file.endsWith('.md') && !headingAnchors(readFileSync(file, 'utf8')).has(anchor)) {
        broken.push(`${doc}:${line}: ${target}: no heading #${anchor} in ${relative(root, file)}`);
      }
    }
  }
  assert.deepEqual(broken, []);
});
