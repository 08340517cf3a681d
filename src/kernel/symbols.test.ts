import { test } from 'node:test';
import assert from 'node:assert/strict';
import { symbolFinder } from './symbols.js';

const find = symbolFinder(['skb_segment', 'pskb_expand_head', '___pskb_trim']);

test('kallsyms lines: the third field, whole; module symbols too', () => {
  const text = [
    'ffffffff81a00000 T skb_segment',
    'ffffffff81a00010 t __pfx_skb_segment',
    'ffffffff81a00020 t skb_segment.cold',
    'ffffffff81a00030 T skb_segment_list',
    'ffffffffc0a00000 t ___pskb_trim\t[some_module]',
    'ffffffff81b00000 T pskb_expand_head_x',
  ].join('\n');
  assert.deepEqual(find(text).sort(), ['___pskb_trim', 'skb_segment']);
});

test('available_filter_functions lines: the first field, with or without a module', () => {
  assert.deepEqual(find('pskb_expand_head\nskb_segment [mod]\nnot_skb_segment\n').sort(), ['pskb_expand_head', 'skb_segment']);
  assert.deepEqual(find('xskb_segment\n__pskb_trim\n'), []);
});

test('a name at the very end of the text, and none in an empty text', () => {
  assert.deepEqual(find('ffffffff81a00000 T skb_segment'), ['skb_segment']);
  assert.deepEqual(find(''), []);
});

test('names are matched literally, not as patterns', () => {
  const dotted = symbolFinder(['a.b']);
  assert.deepEqual(dotted('0 T axb\n0 T a.b\n'), ['a.b']);
});
