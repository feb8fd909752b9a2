/**
 * The layers of src/, read from the import statements (type-only imports count: they couple the
 * files as much for a reader). From the bottom: util/ (paths and bytes), protocol/ and network/
 * (the wire and sockets), native/ and storage/ (files and offsets), broker/ and coordinator/ (Kafka
 * semantics), the WebSocket gateway (ws/), then the entry points (index.ts, cli/). The browser
 * client (client/) stands alone. A lower layer never imports a higher one, and no files import each
 * other in a circle.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '../../src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** src-relative path -> the src-relative paths it imports (relative specifiers only: packages and node: are outside). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(SRC)) {
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const targets = importedFiles
      .map((f) => f.fileName)
      .filter((spec) => spec.startsWith('.'))
      .map((spec) => relative(SRC, resolve(dirname(file), spec.replace(/\.js$/, '.ts'))));
    graph.set(relative(SRC, file), [...new Set(targets)]);
  }
  return graph;
}

/** Every import circle, each as the path that closes it (a -> b -> a). */
function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string) => {
    state.set(file, 'open');
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === 'open') found.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of [...graph.keys()].sort()) if (!state.has(file)) visit(file);
  return found;
}

const topDir = (path: string) => (path.includes('/') ? path.slice(0, path.indexOf('/')) : path);

/** The imports that go from a file under one of `from` to a file under one of `to`, as "a -> b". */
function importsAcross(graph: Map<string, string[]>, from: string[], to: string[]): string[] {
  return [...graph].flatMap(([file, targets]) => (from.includes(topDir(file)) ? targets.filter((t) => to.includes(topDir(t))).map((t) => `${file} -> ${t}`) : []));
}

describe('the import layers of src/', () => {
  const graph = importGraph();

  it('reads the import statements it checks (the parser sees multi-line and type-only imports)', () => {
    expect(graph.get('index.ts')).toContain('broker/broker.ts');
    expect(graph.get('coordinator/coordinator.ts')).toContain('coordinator/records.ts'); // a multi-line import
    expect(graph.get('broker/dispatcher.ts')).toContain('broker/handler.ts'); // type-only
  });

  it('has no import cycles', () => {
    expect(cycles(graph).map((c) => c.join(' -> '))).toEqual([]);
  });

  it('keeps util/ free of the rest of src/', () => {
    expect(importsAcross(graph, ['util'], [...new Set([...graph.keys()].map(topDir))].filter((d) => d !== 'util'))).toEqual([]);
  });

  it('keeps protocol/ free of the network, storage, broker and coordinator', () => {
    expect(importsAcross(graph, ['protocol'], ['network', 'storage', 'broker', 'coordinator'])).toEqual([]);
  });

  it('keeps network/ free of storage, broker and coordinator', () => {
    expect(importsAcross(graph, ['network'], ['storage', 'broker', 'coordinator'])).toEqual([]);
  });

  it('keeps storage/ free of the broker, coordinator and network', () => {
    expect(importsAcross(graph, ['storage'], ['broker', 'coordinator', 'network'])).toEqual([]);
  });

  it('keeps broker/ and coordinator/ free of network/', () => {
    expect(importsAcross(graph, ['broker', 'coordinator'], ['network'])).toEqual([]);
  });

  it('keeps the WebSocket gateway (ws/) above the broker: nothing below imports it', () => {
    expect(importsAcross(graph, ['util', 'protocol', 'network', 'native', 'storage', 'broker', 'coordinator'], ['ws'])).toEqual([]);
  });

  it('keeps the client library (client/) free of the rest of src/, so it loads in a browser as it is', () => {
    const others = [...new Set([...graph.keys()].map(topDir))].filter((d) => d !== 'client');
    expect(importsAcross(graph, ['client'], others)).toEqual([]);
    expect(importsAcross(graph, others.filter((d) => d !== 'index.ts'), ['client'])).toEqual([]);
  });

  it('leaves the entry points (index.ts, cli/) on top: nothing else imports them', () => {
    const below = [...new Set([...graph.keys()].map(topDir))].filter((d) => d !== 'index.ts' && d !== 'cli');
    expect(importsAcross(graph, below, ['index.ts', 'cli'])).toEqual([]);
  });
});
