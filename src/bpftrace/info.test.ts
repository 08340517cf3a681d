import { test } from 'node:test';
import assert from 'node:assert/strict';
import { infoFlags } from './info.js';

// as printed on this host (0.17.0, Debian bookworm) and in Debian trixie's root (0.23.2)
const V0_17 = `Kernel features
  Instruction limit: 1000000
  Loop support: yes
  btf: yes
  uprobe refcount (depends on Build:bcc bpf_attach_uprobe refcount): yes

Probe types
  kprobe: yes
  tracepoint: yes
  kfunc: no
  iter:task: no
`;
const V0_23 = `Kernel features
  Instruction limit: 1000000       btf: yes                           
  module btf: yes                  Kernel DWARF: no                   

Probe types
  kprobe: yes                      tracepoint: yes                    
  perf_event: yes                  fentry: no                         
  kprobe_multi: no                 uprobe_multi: yes                  
  iter: no                         
`;

test('0.17: one flag a line, kfunc by that name', () => {
  const f = infoFlags(V0_17);
  assert.equal(f.btf, true);
  assert.equal(f.kprobe, true);
  assert.equal(f.tracepoint, true);
  assert.equal(f.kfunc, false);
  assert.equal(f['iter:task'], false);
  assert.equal(f['Loop support'], true);
  assert.equal(f['Instruction limit'], undefined, 'not a yes/no');
});

test('0.23 and later: two columns a line, kfunc named fentry', () => {
  const f = infoFlags(V0_23);
  assert.equal(f.btf, true);
  assert.equal(f['module btf'], true);
  assert.equal(f.kprobe, true);
  assert.equal(f.tracepoint, true);
  assert.equal(f.fentry, false);
  assert.equal(f.kfunc, false, 'fentry answers for kfunc');
  assert.equal(f.iter, false);
  assert.equal(infoFlags(V0_23.replace('fentry: no ', 'fentry: yes')).kfunc, true);
});

test('nothing recognisable: no flags', () => {
  assert.deepEqual(infoFlags('ERROR: something\n'), {});
  assert.deepEqual(infoFlags(''), {});
});
