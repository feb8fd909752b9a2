#!/usr/bin/env node
// Runs before `npm install` (the preinstall hook): the addon links the system compression libraries,
// so their headers must exist before node-gyp runs. Nothing is downloaded except Debian packages
// through apt. Quiet and instant when everything is present.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

// pkg-config module -> Debian package that provides its headers and .pc file.
const LIBS = [
  ['zlib', 'zlib1g-dev'],
  ['libzstd', 'libzstd-dev'],
  ['liblz4', 'liblz4-dev'],
  ['snappy', 'libsnappy-dev'],
];
const TOOLS = [['pkg-config', 'pkg-config'], ['make', 'make'], ['g++', 'g++']];

// In a development checkout (npm install run in this package's own folder, not as someone's
// dependency) `npm test` also needs cmake + GoogleTest for the C++ tests, and the real Kafka clients
// and codec tools the integration tests drive; `npm run lint` needs clang-format.
const DEV_PACKAGES = [
  ['cmake', 'cmake'],
  ['/usr/include/gtest/gtest.h', 'libgtest-dev'],
  ['clang-format', 'clang-format'],
  ['kcat', 'kcat'],
  ['/usr/lib/python3/dist-packages/kafka/__init__.py', 'python3-kafka'],
  ['/usr/lib/python3/dist-packages/confluent_kafka/__init__.py', 'python3-confluent-kafka'],
  ['/usr/lib/python3/dist-packages/snappy/__init__.py', 'python3-snappy'],
  ['/usr/lib/python3/dist-packages/lz4/__init__.py', 'python3-lz4'],
  ['/usr/lib/python3/dist-packages/zstandard/__init__.py', 'python3-zstandard'],
  ['zstd', 'zstd'],
  ['lz4', 'lz4'],
  ['iperf3', 'iperf3'],
  ['/usr/include/librdkafka/rdkafka.h', 'librdkafka-dev'],
  ['/usr/bin/chromium', 'chromium'],
  // `brook cluster up` and the cluster tests run Debian's etcd (src/cluster/etcd-process.ts). Here, not
  // in the always-installed list: this hook also runs (through sudo) for everyone who installs brook as
  // a dependency, most of them for a single node, and etcd-server is a daemon package whose systemd
  // unit starts an etcd on 127.0.0.1:2379 at install. Every git checkout is a development checkout,
  // so `cluster up` works in any checkout; elsewhere it stops with "etcd not found: apt-get install
  // etcd-server".
  ['/usr/bin/etcd', 'etcd-server'],
];
const devCheckout = process.env.INIT_CWD === process.cwd() && existsSync('native/test');

const has = (cmd, args) => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;

const missing = [];
for (const [tool, pkg] of TOOLS) if (!has('sh', ['-c', `command -v ${tool}`])) missing.push(pkg);
const pkgConfig = has('sh', ['-c', 'command -v pkg-config']);
for (const [mod, pkg] of LIBS) if (!pkgConfig || !has('pkg-config', ['--exists', mod])) missing.push(pkg);

if (devCheckout && process.platform === 'linux') {
  for (const [what, pkg] of DEV_PACKAGES) {
    const present = what.startsWith('/') ? existsSync(what) : has('sh', ['-c', `command -v ${what}`]);
    if (!present) missing.push(pkg);
  }
}

if (missing.length === 0) process.exit(0);

const unique = [...new Set(missing)];
console.log(`brook: installing system packages (native build${devCheckout ? ', C++ tests, test clients and lint' : ''}): ${unique.join(' ')}`);
if (process.platform !== 'linux' || !has('sh', ['-c', 'command -v apt-get'])) {
  console.error(
    'brook: no apt-get here. Install the compression libraries yourself, then run npm install again:\n' +
      '  macOS:  brew install pkg-config zstd lz4 snappy\n' +
      '  Fedora: sudo dnf install pkgconf-pkg-config zlib-devel libzstd-devel lz4-devel snappy-devel gcc-c++ make',
  );
  process.exit(1);
}
const root = process.getuid?.() === 0;
const run = (args) => execFileSync(root ? args[0] : 'sudo', root ? args.slice(1) : args, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
try {
  run(['apt-get', 'update', '-qq']);
  run(['apt-get', 'install', '-y', '-qq', ...unique]);
} catch {
  console.error(`brook: apt-get failed. Install these Debian packages and rerun npm install: ${unique.join(' ')}`);
  process.exit(1);
}
