/**
 * Brook as another project's dependency: the files `npm pack` ships (package.json "files") are
 * enough to build the addon at install and to `import { startBroker } from 'brook'` in a Node
 * process, which then serves a real client. The tarball is packed from a staging copy of exactly
 * the files npm would ship, with dist/ compiled fresh into it, so the test neither depends on nor
 * rewrites this checkout's dist/ (the CLI tests run from it). Installing compiles the C++ addon.
 */
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { expectOk, run } from './harness.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const work = mkdtempSync(join(tmpdir(), 'brook-pack-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the npm package', () => {
  it('ships what a dependent project needs: installs, builds the addon, and embeds a working broker', async () => {
    const listed = expectOk(await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, timeoutMs: 60_000 }), 'npm pack --dry-run');
    const files = (JSON.parse(listed.stdout) as { files: { path: string }[] }[])[0].files.map((f) => f.path);
    expect(files).toEqual(expect.arrayContaining(['package.json', 'binding.gyp', 'bin/brook.js', 'scripts/system-deps.mjs', 'dist/src/index.js', 'dist/src/index.d.ts']));
    expect(files.some((f) => f.startsWith('native/src/') && f.endsWith('.cc'))).toBe(true);
    expect(files).toEqual(expect.arrayContaining(['console/index.html', 'console/app.js']));
    expect(files.filter((f) => f.startsWith('test/') || f.startsWith('native/test/') || f.startsWith('bench/'))).toEqual([]);

    // Stage those files, dist/ compiled afresh, and pack the stage.
    const stage = join(work, 'stage');
    for (const f of files.filter((f) => !f.startsWith('dist/'))) {
      mkdirSync(dirname(join(stage, f)), { recursive: true });
      cpSync(join(root, f), join(stage, f));
    }
    expectOk(await run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.json'), '--outDir', join(stage, 'dist')], { timeoutMs: 120_000 }), 'tsc');
    expectOk(await run('npm', ['pack', '--ignore-scripts', '--pack-destination', work], { cwd: stage, timeoutMs: 60_000 }), 'npm pack');
    const tarball = join(work, readdirSync(work).find((f) => f.endsWith('.tgz'))!);

    // A fresh project installs it (node-addon-api comes from the npm cache the checkout filled).
    const app = join(work, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'embeds-brook', version: '1.0.0', type: 'module', private: true }));
    expectOk(await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], { cwd: app, timeoutMs: 280_000 }), 'npm install <tarball>');

    writeFileSync(
      join(app, 'embed.mjs'),
      `import { startBroker } from 'brook';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
const { Kafka, logLevel } = (await import(${JSON.stringify(join(root, 'node_modules/kafkajs/index.js'))})).default;
const broker = await startBroker({ port: 0, dataDir: mkdtempSync(join(tmpdir(), 'embedded-')), log: false });
const kafka = new Kafka({ brokers: ['127.0.0.1:' + broker.port], logLevel: logLevel.NOTHING });
const producer = kafka.producer();
await producer.connect();
const [r] = await producer.send({ topic: 'embedded', messages: [{ value: 'hello' }, { value: 'again' }] });
await producer.disconnect();
const admin = kafka.admin();
await admin.connect();
const [offsets] = await admin.fetchTopicOffsets('embedded');
await admin.disconnect();
// The console's page and its chart library (a dependency, found in the installed tree).
const base = 'http://127.0.0.1:' + broker.wsPort + '/';
const page = await fetch(base);
const uplot = await fetch(base + 'vendor/uPlot.esm.js');
await broker.close();
console.log(JSON.stringify({ errorCode: r.errorCode, high: offsets.high, page: page.status, uplot: uplot.status }));
`,
    );
    const embedded = expectOk(await run(process.execPath, ['embed.mjs'], { cwd: app, timeoutMs: 60_000 }), 'embedded broker');
    expect(JSON.parse(embedded.stdout.trim())).toEqual({ errorCode: 0, high: '2', page: 200, uplot: 200 });
    const cli = expectOk(await run(join(app, 'node_modules/.bin/brook'), ['--help'], { cwd: app }), 'brook --help');
    expect(cli.stdout).toContain('Usage: brook');
  }, 600_000);
});
