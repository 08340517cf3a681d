import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serveConfig, doctorConfig, watchConfig, UsageError } from './config.js';

test('defaults', () => {
  const c = serveConfig([], {});
  assert.deepEqual(c.listen, { host: '', port: 10045 });
  assert.equal(c.telemetryPath, '/metrics');
  assert.equal(c.mode, 'auto');
  assert.equal(c.sampleRate, 10);
  assert.deepEqual(c.filters, { srcIp: undefined, dstIp: undefined, interface: undefined, gsoOnly: false });
  assert.deepEqual([c.summarySchedule, c.recheckSchedule], ['*/5 * * * *', '*/10 * * * *']);
});

test('schedules take five cron fields, or six with seconds first', () => {
  assert.equal(serveConfig(['--summary.schedule=0 9-17 * * MON-FRI'], {}).summarySchedule, '0 9-17 * * MON-FRI');
  assert.equal(serveConfig(['--recheck.schedule=30 */10 * * * *'], {}).recheckSchedule, '30 */10 * * * *');
});

test('serve filters come from flags or the environment (the systemd env file, the Helm chart)', () => {
  const env = { FRAGLIST_FILTER_SRC_IP: '198.18.0.2', FRAGLIST_FILTER_GSO_ONLY: 'true' };
  assert.deepEqual(serveConfig(['--filter.dst-ip=2001:db8::1', '--filter.interface', 'eth0'], env).filters,
    { srcIp: '198.18.0.2', dstIp: '2001:db8::1', interface: 'eth0', gsoOnly: true });
});

test('the web config file comes from the flag or the systemd env file; empty is none', () => {
  assert.equal(serveConfig([], {}).webConfigFile, undefined);
  assert.equal(serveConfig([], { FRAGLIST_WEB_CONFIG_FILE: '' }).webConfigFile, undefined);
  assert.equal(serveConfig([], { FRAGLIST_WEB_CONFIG_FILE: '/etc/fraglist-exporter/web-config.yml' }).webConfigFile, '/etc/fraglist-exporter/web-config.yml');
  assert.equal(serveConfig(['--web.config.file=w.yml'], {}).webConfigFile, 'w.yml');
});

test('flags win over environment, environment over defaults', () => {
  const env = { FRAGLIST_WEB_LISTEN_ADDRESS: '127.0.0.1:9000', FRAGLIST_SAMPLE_RATE: '5' };
  assert.deepEqual(serveConfig([], env).listen, { host: '127.0.0.1', port: 9000 });
  assert.equal(serveConfig([], env).sampleRate, 5);
  assert.equal(serveConfig(['--sample.rate=7'], env).sampleRate, 7);
  assert.deepEqual(serveConfig(['--web.listen-address', '[::1]:10045'], env).listen, { host: '::1', port: 10045 });
});

test('every bad value names its flag in one line', () => {
  const cases: Array<[string[], RegExp]> = [
    [['--web.listen-address=:70000'], /^--web\.listen-address: ":70000"/],
    [['--web.listen-address=localhost'], /^--web\.listen-address:/],
    [['--web.listen-address=300.1.1.1:80'], /^--web\.listen-address: "300\.1\.1\.1" is not/],
    [['--web.listen-address=[nope]:80'], /^--web\.listen-address:/],
    [['--web.listen-address=bad host:80'], /^--web\.listen-address:/],
    [['--sample.rate=-1'], /^--sample\.rate:/],
    [['--sample.rate=ten'], /^--sample\.rate:/],
    [['--sample.rate=1001'], /^--sample\.rate: "1001" is not an integer from 0 to 1000$/],
    [['--events.buffer=10001'], /^--events\.buffer: "10001" is not an integer from 1 to 10000$/],
    [['--print.interval=0'], /^--print\.interval:/],
    [['--mode=magic'], /^--mode: "magic" is not one of auto, fentry, kprobe, tracepoint/],
    [['--log.level=loud'], /^--log\.level:/],
    [['--web.telemetry-path=metrics'], /^--web\.telemetry-path:/],
    [['--summary.schedule=often'], /^--summary\.schedule:/],
    [['--summary.schedule=* * * *'], /^--summary\.schedule: "\* \* \* \*" is not a cron expression/],
    [['--recheck.schedule=0 */10 * * * * *'], /^--recheck\.schedule: .* is not a cron expression \(5 fields, or 6 with seconds\)$/],
    [['--recheck.schedule=61 * * * *'], /^--recheck\.schedule:/],
    [['--filter.src-ip=10.0.0.300'], /^--filter\.src-ip: "10\.0\.0\.300" is not an IPv4 or IPv6 address$/],
    [['--filter.interface=a/b'], /^--filter\.interface:/],
    [['--filter.gso-only=yes'], /^--filter\.gso-only: "yes" is not true or false$/],
    [['--no-such-flag'], /^--no-such-flag: unknown flag$/],
    [['stray'], /^stray: unexpected argument$/],
  ];
  for (const [argv, re] of cases) {
    assert.throws(() => serveConfig(argv, {}), (e: Error) => e instanceof UsageError && re.test(e.message) && !e.message.includes('\n'), argv.join(' '));
  }
  assert.throws(() => serveConfig([], { FRAGLIST_SAMPLE_RATE: 'x' }), /--sample\.rate/);
});

test('--kernel.fraglist-fix: the operator\'s word on the 2024 fraglist fix, for every command; anything else is one line', () => {
  assert.equal(serveConfig([], {}).fraglistFix, 'auto');
  assert.equal(serveConfig(['--kernel.fraglist-fix=lacking'], {}).fraglistFix, 'lacking');
  assert.equal(serveConfig([], { FRAGLIST_KERNEL_FRAGLIST_FIX: 'fixed' }).fraglistFix, 'fixed');
  assert.equal(doctorConfig(['--kernel.fraglist-fix', 'fixed'], {}).fraglistFix, 'fixed');
  assert.equal(watchConfig(['--kernel.fraglist-fix=lacking']).fraglistFix, 'lacking');
  assert.throws(() => serveConfig(['--kernel.fraglist-fix=yes'], {}), /^Error: --kernel\.fraglist-fix: "yes" is not one of auto, fixed, lacking$/);
});

test('doctor takes --json', () => {
  assert.equal(doctorConfig(['--json'], {}).json, true);
  assert.equal(doctorConfig([], {}).json, false);
});

test('watch takes the original watcher\'s flags, combined', () => {
  const c = watchConfig(['--src-ip', '10.132.114.11', '--dst-ip', '2001:db8::1', '--interface', 'ens11', '--gso-only', '--verbose', '--stack-trace']);
  assert.deepEqual({ ...c }, { srcIp: '10.132.114.11', dstIp: '2001:db8::1', interface: 'ens11', duration: 0, rate: 100, mode: 'auto', bpftracePath: 'bpftrace',
    fraglistFix: 'auto', gsoOnly: true, verbose: true, stackTrace: true, json: false });
  assert.equal(watchConfig([]).srcIp, undefined);
});

test('watch refuses bad addresses and names, one line each', () => {
  assert.throws(() => watchConfig(['--src-ip', '10.0.0.300']), /^Error: --src-ip: "10\.0\.0\.300" is not an IPv4 or IPv6 address$/);
  assert.throws(() => watchConfig(['--dst-ip=fe80::zz']), /--dst-ip/);
  assert.throws(() => watchConfig(['--interface', 'a/b']), /--interface/);
  assert.throws(() => watchConfig(['--interface', 'waytoolonginterfacename']), /--interface/);
  assert.throws(() => watchConfig(['--duration', '-5']), /--duration/);
  assert.throws(() => watchConfig(['--stack']), /--stack: unknown flag/);
});

test('crash directories and the state directory: defaults, the environment, "" turns them off, relative paths refused', () => {
  const d = serveConfig([], {});
  assert.deepEqual(d.crashDirs, ['/sys/fs/pstore', '/var/lib/systemd/pstore', '/var/crash']);
  assert.equal(d.stateDir, '/var/lib/fraglist-exporter');
  const off = serveConfig(['--state.dir='], { FRAGLIST_KERNEL_CRASH_DIRS: '' });
  assert.deepEqual(off.crashDirs, []);
  assert.equal(off.stateDir, undefined);
  assert.deepEqual(serveConfig(['--kernel.crash-dirs=/a, /b/c ,'], {}).crashDirs, ['/a', '/b/c']);
  assert.deepEqual(doctorConfig([], { FRAGLIST_STATE_DIR: '/srv/flx' }).stateDir, '/srv/flx');
  assert.throws(() => serveConfig(['--kernel.crash-dirs=/a,b'], {}), /--kernel.crash-dirs: "b" is not an absolute path/);
  assert.throws(() => serveConfig(['--state.dir=state'], {}), /--state.dir: "state" is not one absolute path/);
  assert.throws(() => serveConfig(['--web.telemetry-path=/crashes'], {}), /must be a path like \/metrics/);
});
