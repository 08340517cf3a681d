#!/usr/bin/env node
// The one binary: `fraglist-exporter [serve|watch|doctor] [flags]`.
import { doctorConfig, DOCTOR_FLAGS, flagHelp, serveConfig, SERVE_FLAGS, UsageError, watchConfig, WATCH_FLAGS, WATCH_SWITCHES } from './config.js';
import { VERSION } from './version.js';

const USAGE = `usage: fraglist-exporter [serve] [flags]     run the agent (default)
       fraglist-exporter watch [flags]       trace frag_list on this host, a row per event
       fraglist-exporter doctor [--json]     check this host

serve flags:
${flagHelp(SERVE_FLAGS)}

watch flags:
${WATCH_SWITCHES.map((s) => `  --${s}`).join('\n')}
${flagHelp(WATCH_FLAGS).replace(/ \[env [A-Z_]+\]/g, '')}

doctor flags:
  --json
${flagHelp(DOCTOR_FLAGS)}

Documentation (in the source tree): every flag and the lifecycle, docs/configuration.md;
watch and doctor, docs/watch.md; metrics, docs/metrics.md; what pages, docs/alerting.md.
`;

async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === '--help' || first === '-h' || first === 'help') { process.stdout.write(USAGE); return 0; }
  if (first === '--version') { process.stdout.write(`fraglist-exporter ${VERSION}\n`); return 0; }
  const [command, args] = first === undefined || first.startsWith('-') ? ['serve', argv] : [first, rest];
  try {
    switch (command) {
      case 'serve': { const config = serveConfig(args, process.env); return await (await import('./serve.js')).serve(config); }
      case 'watch': { const config = watchConfig(args); return await (await import('./watch.js')).watch(config); }
      case 'doctor': { const config = doctorConfig(args, process.env); return await (await import('./doctor.js')).doctor(config); }
      default: throw new UsageError(`${command}: unknown command (serve, watch, doctor)`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`fraglist-exporter: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; process.exit(code); }, (err) => {
  process.stderr.write(`fraglist-exporter: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
