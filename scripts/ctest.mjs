#!/usr/bin/env node
// Builds the pure C++ unit tests with cmake-js (Debug, or Debug + AddressSanitizer/UBSan with --asan)
// and runs them under ctest. Part of `npm test`.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const asan = process.argv.includes('--asan');
const out = join(root, 'native', asan ? 'build-asan' : 'build-debug');

const run = (cmd, args, opts = {}) => {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts });
  if (r.status !== 0) process.exit(r.status ?? 1);
};
// Build against the headers of the running Node when it ships them (Debian, nodesource, official
// tarballs do), so cmake-js never tries to download a header tarball.
const env = { ...process.env };
const prefix = dirname(dirname(process.execPath));
if (!env.npm_config_nodedir && existsSync(join(prefix, 'include', 'node', 'node_api.h'))) env.npm_config_nodedir = prefix;
const cmakeJs = join(root, 'node_modules', '.bin', 'cmake-js');
run(cmakeJs, ['build', '--debug', '--directory', 'native', '--out', out, ...(asan ? ['--CDBROOK_SANITIZE=ON'] : [])], { env });
run('ctest', ['--test-dir', out, '--output-on-failure', '-j', '2'], {
  env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=1', UBSAN_OPTIONS: 'print_stacktrace=1' },
});
