/**
 * Loads the C++ addon once. The production build comes from `npm install` (binding.gyp ->
 * build/Release); BROOK_NATIVE=/path/to/brook_native.node selects another build, such as the
 * cmake-js Debug or sanitizer builds under native/build-*.
 *
 * Its exports are typed once, in ./types.ts (NativeAddon); the facades (src/native/crc32c.ts,
 * src/native/codec.ts, src/native/records.ts, src/storage/partition-log.ts) call through that type.
 * This module only finds and initialises the binary.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BrookNativeError } from './errors.js';
import type { NativeAddon } from './types.js';

const require = createRequire(import.meta.url);

function packageRoot(): string {
  // src/native/addon.ts in development, dist/src/native/addon.js when built: walk up to package.json.
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('brook: cannot find the package root to load the native addon');
    dir = parent;
  }
  return dir;
}

function candidates(root: string): string[] {
  const fromEnv = process.env.BROOK_NATIVE;
  if (fromEnv) return [resolve(fromEnv)];
  return [join(root, 'build', 'Release', 'brook_native.node'), join(root, 'build', 'Debug', 'brook_native.node')];
}

let loaded: NativeAddon | undefined;

/** The raw addon exports (types.ts). Prefer the facades, which validate arguments. */
export function addon(): NativeAddon {
  if (loaded) return loaded;
  const root = packageRoot();
  const paths = candidates(root);
  const path = paths.find((p) => existsSync(p));
  if (!path) {
    throw new Error(
      `brook: the native addon is not built (looked for ${paths.join(', ')}). Run \`npm install\` in ${root}.`,
    );
  }
  const native = require(path) as NativeAddon;
  native.setErrorClass(BrookNativeError);
  loaded = native;
  return native;
}
