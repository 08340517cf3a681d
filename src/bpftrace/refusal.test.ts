import { test } from 'node:test';
import assert from 'node:assert/strict';
import { refusalReason } from './refusal.js';

test('a seccomp kill is named, with where such filters come from', () => {
  assert.match(refusalReason([], { signal: 'SIGSYS' }), /^bpftrace was killed by SIGSYS: a seccomp filter forbids .*SystemCallFilter=/);
  // it prints nothing, but if it had, the signal still says more
  assert.match(refusalReason(['Attaching 12 probes...'], { signal: 'SIGSYS' }), /SIGSYS/);
});

test('otherwise bpftrace\'s own error, its last word, or how it ended', () => {
  assert.equal(refusalReason(['a', 'ERROR: kfunc not supported', 'b'], { code: 1 }), 'ERROR: kfunc not supported');
  assert.equal(refusalReason(['only this'], { code: 1 }), 'only this');
  assert.equal(refusalReason([], { signal: 'SIGKILL' }), 'bpftrace was killed by SIGKILL before attaching');
  assert.equal(refusalReason([], { code: 3 }), 'bpftrace exited with code 3 before attaching');
  assert.equal(refusalReason(['x'], { signal: 'SIGKILL', timedOutMs: 90_000 }), 'bpftrace did not attach within 90 s');
});
