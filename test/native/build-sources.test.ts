import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// binding.gyp (npm install) and native/CMakeLists.txt (cmake-js: Debug, sanitizers, C++ tests) must
// compile the same sources, or the addon we test is not the addon we ship.
function gypSources(): string[] {
  const text = readFileSync('binding.gyp', 'utf8').replace(/#.*$/gm, '');
  const gyp = JSON.parse(text) as { targets: { sources: string[] }[] };
  return gyp.targets.flatMap((t) => t.sources).map((s) => s.replace(/^native\//, ''));
}

function cmakeSources(): string[] {
  const text = readFileSync('native/CMakeLists.txt', 'utf8');
  const lists = [...text.matchAll(/set\((BROOK_CORE_SOURCES|BROOK_NAPI_SOURCES)\s+([^)]*)\)/g)];
  expect(lists.map((m) => m[1]).sort()).toEqual(['BROOK_CORE_SOURCES', 'BROOK_NAPI_SOURCES']);
  return lists.flatMap((m) => m[2].split(/\s+/).filter(Boolean));
}

describe('native build files', () => {
  it('binding.gyp and CMakeLists.txt compile the same sources', () => {
    expect(cmakeSources().sort()).toEqual(gypSources().sort());
  });
  it('lists no source twice', () => {
    const gyp = gypSources();
    expect(new Set(gyp).size).toBe(gyp.length);
  });
});
