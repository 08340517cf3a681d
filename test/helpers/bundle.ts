// The agent bundle (scripts/bundle.sh), built once per test process.
import { execa } from 'execa';
import { root } from './repo.js';

let built: Promise<string> | undefined;

export function bundle(): Promise<string> {
  built ??= execa('bash', [root + 'scripts/bundle.sh']).then((r) => r.stdout.trim().split('\n').pop()!);
  return built;
}
