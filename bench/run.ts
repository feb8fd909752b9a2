/**
 * `npm run bench [-- name ...]`: runs the workloads in bench/*.bench.ts (all, or the named ones),
 * prints one table per workload and writes JSON under bench/results/ (git-ignored).
 * `npm run bench -- --smoke [name ...]`: each workload briefly on tiny sizes; checks that it runs and
 * produces its figures, writes nothing, exits non-zero on any failure (part of `npm test`).
 * `npm run bench -- --compare A.json B.json`: ratio of ratios between two result files.
 * See bench/README.md.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { checkFigures, compareFiles, printTable, saveResults, setSmoke, toResult, type Figure } from './lib.js';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);

if (args[0] === '--compare') {
  if (args.length !== 3) {
    console.error('usage: npm run bench -- --compare A.json B.json');
    process.exit(2);
  }
  compareFiles(args[1]!, args[2]!);
  process.exit(0);
}

const smoke = args.includes('--smoke');
setSmoke(smoke);
const unknownFlag = args.find((a) => a.startsWith('--') && a !== '--smoke');
if (unknownFlag) {
  console.error(`unknown flag ${unknownFlag}; have --smoke, --compare A.json B.json`);
  process.exit(2);
}
const wanted = args.filter((a) => !a.startsWith('--'));
const all = readdirSync(here).filter((f) => f.endsWith('.bench.ts'));
const files = all.filter((f) => wanted.length === 0 || wanted.includes(f.replace('.bench.ts', '')));

if (files.length === 0) {
  console.error(`no benchmark matches ${wanted.join(', ')}; have: ${all.join(', ')}`);
  process.exit(1);
}
const failures: string[] = [];
const t0 = performance.now();
for (const file of files) {
  const name = file.replace('.bench.ts', '');
  const started = performance.now();
  try {
    const mod = (await import(pathToFileURL(join(here, file)).href)) as { run: () => Promise<Figure[]>; title?: string };
    const figures = await mod.run();
    printTable(mod.title ?? name, figures);
    if (smoke) {
      const problems = checkFigures(name, figures);
      failures.push(...problems);
      console.log(`smoke ${name}: ${problems.length === 0 ? 'ok' : 'FAILED'} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    } else {
      console.log(`results: ${saveResults(toResult(name, mod.title ?? name, figures))}`);
    }
  } catch (e) {
    if (!smoke) throw e;
    failures.push(`${name}: ${(e as Error).stack ?? String(e)}`);
    console.log(`smoke ${name}: FAILED in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
}
if (smoke) {
  console.log(`\nsmoke run: ${files.length} workloads in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  if (failures.length > 0) {
    console.error(`\nbenchmark smoke run FAILED:\n${failures.map((f) => `- ${f}`).join('\n')}`);
    process.exit(1);
  }
}
