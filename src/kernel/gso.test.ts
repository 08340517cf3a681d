import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeGsoType, gsoMask, gsoTableForRelease, GSO_TABLE_4_14, GSO_TABLE_PRE_4_14 } from './gso.js';

test('the reported crash signature decodes on 4.18', () => {
  assert.equal(decodeGsoType(1027, gsoTableForRelease('4.18.0-553.47.1.el8_10.x86_64')), 'TCPV4|DODGY|UDP_TUNNEL');
});

test('the same bits mean something else before 4.14', () => {
  assert.equal(gsoTableForRelease('4.9.0-19-amd64'), GSO_TABLE_PRE_4_14);
  assert.equal(decodeGsoType(0x403, GSO_TABLE_PRE_4_14), 'TCPV4|UDP|IPXIP6');
});

test('fraglist UDP, zero and unknown bits', () => {
  assert.equal(decodeGsoType(0x60000, GSO_TABLE_4_14), 'UDP_L4|FRAGLIST');
  assert.equal(decodeGsoType(0, GSO_TABLE_4_14), 'NONE');
  assert.equal(decodeGsoType(0x80000001, GSO_TABLE_4_14), 'TCPV4|0x80000000');
  assert.equal(gsoTableForRelease('6.18.44'), GSO_TABLE_4_14);
});

test('the mask of a bit by name: FRAGLIST where the kernel has it, 0 where it does not', () => {
  assert.equal(gsoMask(GSO_TABLE_4_14, 'FRAGLIST'), 1 << 18);
  assert.equal(gsoMask(GSO_TABLE_4_14, 'TCPV4'), 1);
  assert.equal(gsoMask(GSO_TABLE_PRE_4_14, 'FRAGLIST'), 0);
});
