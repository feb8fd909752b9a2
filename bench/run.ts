/**
 * `npm run bench [-- name ...]`: runs the workloads in bench/*.bench.ts (all, or the named ones),
 * prints a table per workload and writes JSON under bench/results/ (git-ignored).
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { printTable, saveResults, type Figure } from './lib.js';

const here = dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => wanted.length === 0 || wanted.includes(f.replace('.bench.ts', '')));

if (files.length === 0) {
  console.error(`no benchmark matches ${wanted.join(', ')}; have: ${readdirSync(here).filter((f) => f.endsWith('.bench.ts')).join(', ')}`);
  process.exit(1);
}
for (const file of files) {
  const name = file.replace('.bench.ts', '');
  const mod = (await import(pathToFileURL(join(here, file)).href)) as { run: () => Promise<Figure[]>; title?: string };
  const figures = await mod.run();
  printTable(mod.title ?? name, figures);
  console.log(`results: ${saveResults(name, figures)}`);
}
