#!/usr/bin/env node
// The `brook` command. The TypeScript is compiled to dist/ by `npm install` (prepare) or `npm run build:ts`.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  console.error('brook: not built yet. Run `npm install` (or `npm run build:ts`) in the brook folder first.');
  process.exit(1);
}
const { main: run } = await import(main.href);
process.exitCode = await run(process.argv.slice(2));
